/*
 * userdb_watch.h — the auth process notices the SQLite user database
 * change, whoever wrote it (petrel's commands, a reload, an
 * administrator's sqlite3 shell), and advances the version every
 * remembered lookup answer depends on (lookup_cache.h).
 *
 * It watches the database's directory with inotify: the database being
 * written, created, removed or renamed, its -wal or -journal written.
 */
#ifndef PETREL_USERDB_WATCH_H
#define PETREL_USERDB_WATCH_H

#include <event2/event.h>

#include "lib/config.h"

struct userdb_watch;

/* NULL when there is nothing to watch (PostgreSQL) or the watch could not
 * be set up (logged: changes made outside petrel's commands are then seen
 * only as remembered answers age out). */
struct userdb_watch *userdb_watch_start(struct event_base *base,
                                        const struct config *config);
void userdb_watch_stop(struct userdb_watch **watch);

#endif
