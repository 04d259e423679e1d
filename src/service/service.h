/*
 * service.h — a protocol as the worker process sees it: one row of the
 * table in master/services.c per protocol name of `listen:`. Adding IMAP
 * or HTTP is a row there and a folder with these four functions.
 *
 * The worker (service/worker.h) owns the event loop, the signals, the
 * listeners, the drain on stop and the per-IP counts; a service owns its
 * connections and tells the worker when one opens and closes.
 */
#ifndef PETREL_SERVICE_H
#define PETREL_SERVICE_H

#include <stdbool.h>
#include <sys/socket.h>

struct worker;
struct worker_listener;

struct service {
	const char *name;
	/* Once per worker process, before the first connection: the
	 * service's state, or NULL with *error_r. */
	void *(*start)(struct worker *worker, const char **error_r);
	/* A connection accepted on one of its listeners: from here on the
	 * service owns fd. */
	void (*accept)(void *state, struct worker_listener *listener, int fd,
	               const struct sockaddr *peer, socklen_t peer_len);
	/* The worker stops accepting. now (SIGTERM): close what is idle,
	 * let what is in flight finish; called again every 100 ms until no
	 * connection is left. !now (SIGHUP, a reload replaced the worker):
	 * serve every connection to its end. */
	void (*drain)(void *state, bool now);
	/* After the loop: closes what is left and frees the state. */
	void (*stop)(void *state);
	/* Optional: every WORKER_TICK_SECONDS, for housekeeping (closing
	 * what has not been used for a while). */
	void (*tick)(void *state);
};

#define WORKER_TICK_SECONDS 10

#endif
