/*
 * imap_match.h — LIST patterns (RFC 9051 6.3.9): "*" matches any
 * characters, "%" any but the hierarchy separator.
 *
 * Linear-time matching (the greedy wildcard algorithm with one resume
 * point per kind of wildcard), so a pattern of many "*" and "%" against
 * a long name costs O(pattern x name) at worst, never exponential time.
 */
#ifndef PETREL_IMAP_MATCH_H
#define PETREL_IMAP_MATCH_H

#include <stdbool.h>

/* Does name match pattern? "INBOX" compares without case (RFC 9051 5.1). */
bool imap_match(const char *pattern, const char *name, char separator);

#endif
