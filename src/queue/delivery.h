/*
 * delivery.h — one delivery attempt of one queued message: every
 * recipient not yet done is routed and delivered, and progress is made
 * durable. Blocking: runs on the queue's delivery threads.
 */
#ifndef PETREL_DELIVERY_H
#define PETREL_DELIVERY_H

#include "lib/config.h"
#include "queue/spool.h"

enum delivery_outcome {
	DELIVERY_DONE,     /* every recipient done; spool entry removed */
	DELIVERY_DEFERRED, /* some recipients must be tried again later */
	DELIVERY_BROKEN,   /* the spool file is unreadable; set aside */
};

enum delivery_outcome delivery_attempt(const struct config *config, struct spool *spool,
                                       const char *id);

#endif
