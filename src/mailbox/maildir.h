/*
 * maildir.h — delivery into a Maildir (cr.yp.to/proto/maildir.html).
 *
 * The message is written completely to tmp/ under a unique name and
 * fsynced, renamed into new/, then new/ is fsynced: only then is the
 * delivery done, and no reader ever sees half a message. Blocks: call
 * from the queue's delivery threads.
 */
#ifndef PETREL_MAILDIR_H
#define PETREL_MAILDIR_H

#include <stddef.h>

#include "message/message_source.h"

struct buf;

/* A unique file name base: time, microseconds, process, a counter, the
 * host ("1733234567.M123456P789Q1.mx1"); sizes may follow. */
void maildir_unique_base(struct buf *out, const char *hostname);

/* The Maildir of a local user, home/mail/DOMAIN/LOCAL, from the stored
 * address (never from what a client typed; userdb refuses "/" and a
 * leading "." in local parts). */
void maildir_user_root(const char *home, const char *user, struct buf *out);

/* mkdir -p of dir and its tmp/, new/, cur/. */
int maildir_create(const char *dir, const char **error_r);

/*
 * Delivers head (headers we prepend) followed by the message, read in
 * pieces from its source, into dir. On success returns 0 and writes the
 * new file's base name to name_r (size at least 256). Returns -1 with
 * *error_r and errno otherwise.
 */
int maildir_deliver(const char *dir, const char *hostname, const char *head,
                    size_t head_len, const struct message_source *message, char *name_r,
                    const char **error_r);

#endif
