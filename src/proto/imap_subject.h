/*
 * imap_subject.h — the base subject of RFC 5256 2.1, which SORT (SUBJECT)
 * and THREAD=REFERENCES compare: "Re: [list] Fwd: Hello (fwd)" is
 * "Hello". Encoded words (RFC 2047) are the caller's to decode first.
 */
#ifndef PETREL_IMAP_SUBJECT_H
#define PETREL_IMAP_SUBJECT_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the base subject of subject[0..len) into out[size] (cut to fit,
 * NUL-terminated); *reply_r says whether a "re:"/"fw:"/"fwd:" leader, a
 * "(fwd)" trailer or a "[fwd: ...]" wrapper was removed. Returns its
 * length. */
size_t imap_base_subject(const char *subject, size_t len, char *out, size_t size,
                         bool *reply_r);

#endif
