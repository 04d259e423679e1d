/*
 * dovecot_uidlist.h — the dovecot-uidlist file of a Maildir written by
 * Dovecot (versions 1 and 3), so that petrel opens such a mailbox with
 * the UIDs and UIDVALIDITY its clients know:
 *
 *   3 V1276528483 N4 G0f6b3a2f...        header: version, then fields
 *   1 :1276528487.M364837P9451.host,S=1355,W=1394
 *   2 W1402 :1276528488.M...             extension fields, then ":name"
 *
 *   1 1276528483 4                      version 1: uidvalidity next-uid
 *   1 1276528487.M364837P9451.host      uid name
 *
 * and its dovecot-keywords file, which numbers the keywords that file
 * names carry as the letters a-z ("0 $Junk", "1 NonJunk").
 *
 * Pure: one line at a time, the name pointing into the line.
 */
#ifndef PETREL_DOVECOT_UIDLIST_H
#define PETREL_DOVECOT_UIDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dovecot_uidlist_header {
	unsigned version; /* 1 or 3 */
	uint32_t uidvalidity;
	uint32_t next_uid;
};

struct dovecot_uidlist_entry {
	uint32_t uid;
	const char *name; /* the file's base name, without ":2,..." */
	size_t name_len;
	bool has_vsize;
	uint64_t vsize; /* W */
};

/* The first line. 0, or -1 with *error_r. */
int dovecot_uidlist_header(const char *line, size_t len,
                           struct dovecot_uidlist_header *out, const char **error_r);

/* A following line. 0, or -1 with *error_r. */
int dovecot_uidlist_entry(const char *line, size_t len, unsigned version,
                          struct dovecot_uidlist_entry *out, const char **error_r);

/* A dovecot-keywords line "N name": N (0-25) and the keyword. 0, or -1
 * with *error_r (the keyword must be an IMAP atom: no space, no
 * parentheses, quotes, "%", "*", "\\" or "]"). */
int dovecot_keywords_line(const char *line, size_t len, unsigned *index,
                          const char **name_r, size_t *name_len_r, const char **error_r);

#endif
