/*
 * retry.h — when to try a deferred message again (pure).
 *
 * After the n-th failed attempt: queue.retry[n-1] while the list lasts
 * (default 5, 10, 20, 40 minutes), then retry_interval (1 h) until the
 * message is retry_slow_after old (4 h), then retry_slow_interval (4 h).
 * Never later than the end of the message's lifetime, so that the last
 * attempt happens right when it expires rather than days after.
 */
#ifndef PETREL_RETRY_H
#define PETREL_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

/* Time of the next attempt after failed_attempts (>= 1) failures. */
int64_t retry_next(const struct queue_config *q, int64_t arrival,
                   unsigned failed_attempts, int64_t now);

/* True once a message that arrived at arrival may no longer be retried. */
bool retry_expired(const struct queue_config *q, int64_t arrival, int64_t now);

#endif
