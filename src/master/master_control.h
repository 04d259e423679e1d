/*
 * master_control.h — the master's pid file and control socket.
 *
 * <home>/run/petrel.pid names the running master; a second `petrel
 * serve` on the same home is refused while that process lives.
 * <home>/run/master.sock (mode 0600, the master's own account) takes one
 * request per connection, as the queue's control socket does, and
 * answers "ok\n..." or "error: ...\n":
 *
 *   status   pid, version, uptime, configuration, listeners, queue
 *   reload   as SIGHUP, but the answer says whether it worked
 *   stop     as SIGTERM; the answer comes at once, the exit later
 */
#ifndef PETREL_MASTER_CONTROL_H
#define PETREL_MASTER_CONTROL_H

#include <event2/event.h>

#include "lib/buf.h"

#define MASTER_PID_FILE "run/petrel.pid"
#define MASTER_SOCKET   "run/master.sock"

struct master_control_hooks {
	void *master;
	void (*status)(void *master, struct buf *out);
	int (*reload)(void *master, const char **error_r);
	void (*stop)(void *master);
};

/* Writes the pid file; -1 when another master runs on this home. */
int master_pid_file_create(const char *home, const char **error_r);
void master_pid_file_remove(const char *home);

struct master_control;
struct master_control *master_control_start(struct event_base *base, const char *home,
                                            const struct master_control_hooks *hooks,
                                            const char **error_r);
void master_control_stop(struct master_control **control);
/* In a forked child: closes the inherited socket, leaves the file. */
void master_control_forget(struct master_control **control);

#endif
