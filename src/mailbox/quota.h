/*
 * quota.h — how much a user's mail takes, kept as Maildir++ does (and
 * Dovecot's and Courier's "maildir" quota): a maildirsize file in the
 * root whose first line is the limit ("1073741824S") and whose other
 * lines are changes ("4096 1", "-4096 -1"), appended in one write each.
 * The sum is the usage. A missing file, or one grown past 5,120 octets,
 * is recalculated from the files of every folder.
 *
 * Blocking: the queue's delivery threads, IMAP and POP3 sessions.
 */
#ifndef PETREL_MAIL_QUOTA_H
#define PETREL_MAIL_QUOTA_H

#include <stdint.h>

/* Octets and messages in the store at root (limit is written to the
 * file when it is recalculated). 0, or -1 with *error_r. */
int mail_quota_usage(const char *root, uint64_t limit, uint64_t *bytes_r,
                     uint64_t *count_r, const char **error_r);

/* The usage as the maildirsize file says, without ever recounting the
 * files (cheap enough for an SMTP session's RCPT): 1 and *bytes_r, or 0
 * when the file is missing or due for a recount. */
int mail_quota_peek(const char *root, uint64_t *bytes_r);

/* Records a change (delivery, APPEND, COPY, EXPUNGE). Without a
 * maildirsize file nothing is written: the next usage counts anew. */
void mail_quota_add(const char *root, int64_t bytes, int64_t count);

/* Whether adding bytes would go over limit (0: no limit). 1 over, 0 not,
 * -1 with *error_r. */
int mail_quota_check(const char *root, uint64_t limit, uint64_t bytes,
                     const char **error_r);

#endif
