/*
 * store_cache.h — the users' open stores of one process: a user's IMAP
 * and POP3 sessions on one worker share one store (one index connection),
 * opened at the first login and closed a while after the last logout.
 */
#ifndef PETREL_MAIL_STORE_CACHE_H
#define PETREL_MAIL_STORE_CACHE_H

#include "mailbox/store.h"

struct mail_store_cache;

/* How long a store nobody uses stays open. */
#define MAIL_STORE_LINGER_SECONDS 30

/* linger: seconds (MAIL_STORE_LINGER_SECONDS; tests use less). */
struct mail_store_cache *mail_store_cache_new(const char *home, const char *hostname,
                                              unsigned linger);
/* Closes what is left. */
void mail_store_cache_free(struct mail_store_cache **cache);

/* The user's store (its Maildir under home, maildir_user_root()),
 * opened or shared; NULL with *error_r. */
struct mail_store *mail_store_cache_get(struct mail_store_cache *cache, const char *user,
                                        const char **error_r);
/* Gives back a store from mail_store_cache_get(); *store becomes NULL. */
void mail_store_cache_put(struct mail_store_cache *cache, struct mail_store **store);
/* Closes the stores nobody has used for linger seconds, and the oldest
 * unused ones beyond 16; put() calls it, and the service's tick. */
void mail_store_cache_expire(struct mail_store_cache *cache);

#endif
