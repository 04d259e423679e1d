/*
 * control.h — the queue's control socket, <home>/spool/control.sock,
 * for `petrel queue`. Owned by the unprivileged user, mode 0600: root and
 * that user may use it.
 *
 * One request line per connection; the reply is "ok" or "error: why",
 * then text for people, then the connection closes:
 *
 *   list | show ID | retry [ID] | hold ID | release ID | delete ID | bounce ID
 *   stats | userdb-changed [USER]
 */
#ifndef PETREL_CONTROL_H
#define PETREL_CONTROL_H

#include <event2/event.h>
#include <stdbool.h>

#include "lib/workpool.h"
#include "queue/spool.h"

#define CONTROL_SOCKET "control.sock"

/* What the control socket needs of the queue (queue.c), on its loop. */
struct control_hooks {
	bool (*is_active)(void *queue, const char *id);   /* being delivered now */
	void (*attempt_now)(void *queue, const char *id); /* NULL id: every one */
	void (*forget)(void *queue, const char *id);      /* deleted */
	void (*set_held)(void *queue, const char *id, bool held);
	void *queue;
};

struct control;

struct control *control_start(struct event_base *base, struct workpool *pool,
                              struct spool *spool, const struct control_hooks *hooks,
                              const char **error_r);
void control_stop(struct control **control);

#endif
