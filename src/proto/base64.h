/*
 * base64.h — RFC 4648 base64, strict.
 *
 * SASL (RFC 4954) and JWTs carry credentials in base64; a lax decoder is
 * where Exim's CVE-2018-6789 lived. Decoding here refuses anything that
 * is not the canonical encoding: characters outside the alphabet,
 * whitespace, missing or misplaced padding, a length that cannot occur
 * (4n+1), and non-zero bits in the last character. The URL-safe
 * alphabet (RFC 4648 5, JWTs) comes without padding.
 */
#ifndef PETREL_BASE64_H
#define PETREL_BASE64_H

#include <stdbool.h>
#include <stddef.h>

enum base64_alphabet {
	BASE64_STANDARD, /* +/ and '=' padding: SASL, MIME */
	BASE64_URL,      /* -_ and no padding: JWT (RFC 7515 2) */
};

/* Octets needed to encode len octets, without the terminating NUL. */
size_t base64_encoded_length(size_t len);
/* Upper bound of the decoded length of an encoded text of len octets. */
size_t base64_decoded_max(size_t len);

/* Encodes in[0..len) into out, NUL-terminated; out_size must be at
 * least base64_encoded_length(len) + 1. Returns the encoded length. */
size_t base64_encode(enum base64_alphabet alphabet, const void *in, size_t len, char *out,
                     size_t out_size);

/*
 * Decodes text[0..len) into out (out_size >= base64_decoded_max(len)).
 * Returns the decoded length (>= 0), or -1 with *error_r when the text
 * is not canonical base64 of the alphabet. Never reads past len and
 * never writes past out_size.
 */
long base64_decode(enum base64_alphabet alphabet, const char *text, size_t len,
                   unsigned char *out, size_t out_size, const char **error_r);

#endif
