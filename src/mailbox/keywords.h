/*
 * keywords.h — a folder's IMAP keywords ($Forwarded, $Junk, Work...).
 *
 * Each folder numbers its keywords 0..MAIL_KEYWORDS_MAX-1; a message
 * keeps them as a bit mask. Numbers 0-25 are also the letters a-z that
 * Maildir file names carry, listed in the folder's dovecot-keywords file
 * so that the files alone say which keywords a message has (and Dovecot
 * or a rebuilt index can read them).
 */
#ifndef PETREL_MAIL_KEYWORDS_H
#define PETREL_MAIL_KEYWORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "mailbox/store.h"

#define MAIL_KEYWORDS_MAX     64
#define MAIL_KEYWORDS_LETTERS 26 /* numbers that have a file name letter */
#define MAIL_KEYWORD_MAX_LEN  100

struct mail_keywords {
	char *names[MAIL_KEYWORDS_MAX]; /* NULL: number unused */
};

/* The folder's keywords into kw (replacing what it held). */
int mail_keywords_load(struct mail_store *store, int64_t folder, struct mail_keywords *kw,
                       const char **error_r);
void mail_keywords_clear(struct mail_keywords *kw);

/* A keyword's number: 1 found (or created), 0 not there (create false),
 * -1 with *error_r (ENOSPC when the folder has MAIL_KEYWORDS_MAX). Keyword
 * names compare case-insensitively (RFC 9051 2.3.2). Call inside a
 * transaction when create is true. */
int mail_keywords_find(struct mail_store *store, int64_t folder, const char *path,
                       struct mail_keywords *kw, const char *name, bool create,
                       unsigned *id_r, const char **error_r);

/* dovecot-keywords of the Maildir at path into the index (first sync). */
int mail_keywords_import_dovecot(struct mail_store *store, int64_t folder,
                                 const char *path, const char **error_r);

#endif
