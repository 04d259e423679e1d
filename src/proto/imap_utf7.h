/*
 * imap_utf7.h — IMAP mailbox names: modified UTF-7 (RFC 3501 5.1.3) to
 * UTF-8 and back, and what petrel accepts as a name at all.
 *
 * Decoding is strict, so that one folder has one name: printable ASCII
 * is never encoded, "&" only as "&-", base64 runs are shortest and never
 * adjacent, padding bits are zero, and surrogates come in pairs. Names
 * are bounded: IMAP_MAILBOX_NAME_MAX octets of UTF-8.
 */
#ifndef PETREL_IMAP_UTF7_H
#define PETREL_IMAP_UTF7_H

#include <stddef.h>

#define IMAP_MAILBOX_NAME_MAX 512

/* mUTF-7 in → UTF-8 (NUL-terminated) in out[IMAP_MAILBOX_NAME_MAX + 1].
 * 0, or -1 with *error_r. */
int imap_utf7_decode(const char *in, size_t len, char *out, const char **error_r);

/* UTF-8 in (validated) → mUTF-7 in out[out_size]. 0, or -1. */
int imap_utf7_encode(const char *in, size_t len, char *out, size_t out_size,
                     const char **error_r);

/*
 * A mailbox name as petrel stores it, in UTF-8, with separator between
 * levels: 0, or -1 with *error_r. Refused: empty names and levels, "."
 * and "..", a leading separator or "~", "/" (a path) when it is not the
 * separator, control characters (NUL included), the wildcards "%" and
 * "*", and levels named like a Maildir's own directories ("tmp", "new",
 * "cur").
 */
int imap_mailbox_name_check(const char *name, char separator, const char **error_r);

#endif
