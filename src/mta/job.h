/*
 * job.h — one message's recipients for one destination, as the queue
 * hands them to the SMTP client, and what became of each.
 */
#ifndef PETREL_MTA_JOB_H
#define PETREL_MTA_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "mta/route.h"
#include "message/envelope.h"
#include "message/message_source.h"
#include "message/rcpt_result.h"

struct mta_job {
	const struct envelope *env;
	const struct message_source *message; /* read in pieces on threads */
	uint64_t message_len;
	bool has_8bit; /* the message has 8-bit octets (a BODY=8BITMIME one) */
	size_t *rcpts; /* indices into env->rcpts */
	size_t rcpt_count;
	struct rcpt_result *results; /* indexed like env->rcpts */
	char *domain;                /* the recipients' domain */
	struct route route;
	char *key; /* destination: "mx:example.net" or "[host]:port" */
	void (*done)(struct mta_job *job);
	void *arg;
	struct mta_job *next; /* in a destination's queue */
};

/* Every recipient of job still without an outcome gets this one. */
void mta_job_fail(struct mta_job *job, enum rcpt_outcome outcome, const char *dsn,
                  const char *remote, const char *diagnostic);

#endif
