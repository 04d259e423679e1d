/*
 * utf8.h — strict UTF-8 validation (RFC 3629): no overlongs, no
 * surrogates, nothing above U+10FFFF.
 */
#ifndef PETREL_UTF8_H
#define PETREL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid multi-octet sequence at s, or 0 if invalid. */
size_t utf8_sequence_length(const char *s, size_t len);
bool utf8_valid(const char *s, size_t len);
/* True if the C string s is plain ASCII (no UTF-8 needed). */
bool utf8_is_ascii(const char *s);

#endif
