/*
 * retry.c — the retry schedule (see retry.h).
 */
#include "queue/retry.h"

int64_t retry_next(const struct queue_config *q, int64_t arrival,
                   unsigned failed_attempts, int64_t now)
{
	int64_t delay;
	if (failed_attempts >= 1 && failed_attempts <= q->retry_count)
		delay = q->retry[failed_attempts - 1];
	else if (now - arrival < (int64_t)q->retry_slow_after)
		delay = q->retry_interval;
	else
		delay = q->retry_slow_interval;
	int64_t next = now + delay;
	int64_t expiry = arrival + (int64_t)q->max_lifetime;
	if (next > expiry)
		next = expiry > now ? expiry : now;
	return next;
}

bool retry_expired(const struct queue_config *q, int64_t arrival, int64_t now)
{
	return now - arrival >= (int64_t)q->max_lifetime;
}
