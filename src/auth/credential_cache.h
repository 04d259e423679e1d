/*
 * credential_cache.h — verified passwords, remembered for a while (as
 * Dovecot's auth_cache): a login whose password was checked within the
 * positive TTL skips the database and argon2id; one that failed within
 * the negative TTL fails at once, whether the user exists or not (so the
 * cache tells nothing about existence).
 *
 * An entry is keyed by an HMAC of the login name and the password under a
 * secret made at start: a changed password never matches an old entry,
 * and the table holds no password. The table is shared memory that the
 * master maps before it forks, with a fixed number of slots and a
 * process-shared robust mutex. `petrel user passwd|del|disable` flushes
 * the user's entries through the control socket, so an old password or a
 * disabled user stops working at once, not at the end of the TTL.
 */
#ifndef PETREL_CREDENTIAL_CACHE_H
#define PETREL_CREDENTIAL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct credential_cache;

enum cache_answer { CACHE_MISS, CACHE_OK, CACHE_FAILED };

/* In the master, before forking; slots 0: no cache. */
struct credential_cache *credential_cache_create(unsigned slots, const char **error_r);
void credential_cache_destroy(struct credential_cache **cache);

/* The cache every login in this process uses (NULL: none). */
void credential_cache_set_current(struct credential_cache *cache);
struct credential_cache *credential_cache_current(void);

/*
 * Looks login and password up. CACHE_OK copies the user the login
 * resolved to into user; CACHE_FAILED copies why into reason.
 */
enum cache_answer credential_cache_get(struct credential_cache *cache, const char *login,
                                       const char *password, size_t len, time_t now,
                                       char *user, size_t user_size, char *reason,
                                       size_t reason_size);

/* Remembers a definite answer for ttl seconds: ok with the user it
 * resolved to, or a failure with its reason. */
void credential_cache_put(struct credential_cache *cache, const char *login,
                          const char *password, size_t len, time_t now, bool ok,
                          const char *user_or_reason, unsigned ttl);

/* Forgets every entry whose login or user is name (any case); every
 * entry when name is NULL. Returns how many went. */
unsigned credential_cache_flush(struct credential_cache *cache, const char *name);

#endif
