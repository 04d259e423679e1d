/*
 * imap_seqset.h — IMAP sequence sets (RFC 9051 section 9, sequence-set):
 * "1:4,7,12:*". Numbers are message sequence numbers or UIDs, 1 to
 * 4294967295; "*" is the largest in use, known only when the set is
 * applied to a mailbox, so parsing keeps it as IMAP_SEQ_STAR and
 * imap_seqset_resolve() replaces it.
 */
#ifndef PETREL_IMAP_SEQSET_H
#define PETREL_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_SEQ_STAR 0 /* never a valid number */

struct imap_seq_range {
	uint32_t lo, hi; /* as written: lo may be above hi, either may be STAR */
};

/* Parses text into out[max]; *count ranges. 0, or -1 with *error_r (bad
 * syntax, 0, a number past 4294967295, more than max ranges). */
int imap_seqset_parse(const char *text, size_t len, struct imap_seq_range *out,
                      size_t max, size_t *count, const char **error_r);

/*
 * With "*" = star (the mailbox's largest number; 0 when it is empty),
 * rewrites ranges into ascending, disjoint, merged ranges with lo <= hi;
 * a range only of numbers above star is kept (the caller decides if that
 * is an error: sequence numbers must exist, UIDs need not). Returns the
 * new count; ranges that are nothing at all (only "*" on an empty
 * mailbox) are dropped.
 */
size_t imap_seqset_resolve(struct imap_seq_range *ranges, size_t count, uint32_t star);

/* After resolve: is n in the set? (binary search) */
bool imap_seqset_contains(const struct imap_seq_range *ranges, size_t count, uint32_t n);

#endif
