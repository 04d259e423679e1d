/*
 * workpool.h — blocking work (disk I/O, fsync) on threads, completions
 * back on the event loop.
 *
 * run() executes on a pool thread and may block; done() executes later on
 * the loop thread that owns the pool. Embed struct work in your job.
 * Requires evthread_use_pthreads() before the event base was created.
 */
#ifndef PETREL_WORKPOOL_H
#define PETREL_WORKPOOL_H

#include <event2/event.h>

struct work {
	void (*run)(struct work *work);
	void (*done)(struct work *work);
	struct work *next;
};

struct workpool;

struct workpool *workpool_create(struct event_base *base, unsigned threads);
void workpool_submit(struct workpool *pool, struct work *work);
/* Number of works submitted whose done() has not run yet. */
unsigned workpool_pending(const struct workpool *pool);
/* Runs everything still queued, runs the done callbacks, joins threads. */
void workpool_destroy(struct workpool **pool);

#endif
