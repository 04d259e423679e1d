/*
 * lookup_cache.h — answers of the auth process to lookups (is this a
 * local recipient, where does this address's mail go, may this user send
 * as that address), remembered by the process that asked, so that a
 * delivery to a known mailbox costs no round trip to the auth process.
 *
 * A remembered answer is exact, not "good for a while": every change of
 * the user database advances one shared counter, the database version,
 * and an answer is used only while the version is the one read before it
 * was asked. The version advances
 *   - when `petrel user|alias|domain ...` has written, through the control
 *     socket, before the command returns (so a deleted user is refused by
 *     the next RCPT);
 *   - when the auth process sees the SQLite files change (inotify), for
 *     any other writer, such as an administrator's sqlite3 shell;
 *   - when the configuration is reloaded.
 * As a guard against a change nobody saw, an answer is also forgotten a
 * minute after it was given. A PostgreSQL database changes where petrel
 * cannot see it: nothing is remembered then.
 *
 * Each process (or thread) keeps its own table of fixed size; only the
 * version is shared memory, mapped by the master before it forks. Only
 * definite answers are kept (found or not found), never "the database
 * could not say".
 */
#ifndef PETREL_LOOKUP_CACHE_H
#define PETREL_LOOKUP_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth_proto.h"
#include "lib/config.h"

/* --- the shared version ------------------------------------------------ */

struct userdb_version;

/* In the master, before forking; NULL with *error_r. */
struct userdb_version *userdb_version_create(const char **error_r);
void userdb_version_destroy(struct userdb_version **version);
/* The version this process's caches follow (NULL: nothing is remembered). */
void userdb_version_set_current(struct userdb_version *version);
/* The database changed: every remembered answer is stale. */
void userdb_version_advance(void);

/* --- one process's (or thread's) answers ---------------------------------- */

struct lookup_cache;

/* NULL when answers for this configuration are not to be remembered
 * (PostgreSQL, or no shared version in this process). */
struct lookup_cache *lookup_cache_new(const struct config *config);
void lookup_cache_free(struct lookup_cache **cache);

/* The version to pass to lookup_cache_put for a request about to be sent:
 * read before asking, so an answer that crossed a change is never kept. */
uint64_t lookup_cache_version(const struct lookup_cache *cache);

/* true: request's answer was remembered, and is decoded into response
 * (the caller clears it, auth_response_clear). */
bool lookup_cache_get(struct lookup_cache *cache, const struct auth_request *request,
                      struct auth_response *response);
/* Remembers response to request when it is a definite lookup answer and
 * version is still current. */
void lookup_cache_put(struct lookup_cache *cache, const struct auth_request *request,
                      uint64_t version, const struct auth_response *response);

#endif
