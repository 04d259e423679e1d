/*
 * delivery.h — one delivery attempt of one queued message, in two
 * blocking halves that run on the queue's threads:
 *
 *   delivery_begin   loads the spool file and its journal, delivers the
 *                    local recipients (Maildir), and lists the remote
 *                    ones for the SMTP client (which runs on the loop);
 *   delivery_finish  records every result in the journal, bounces what
 *                    failed or expired, sends delay and success notices
 *                    (RFC 3464) as the NOTIFY parameters ask, then either
 *                    retires the message or schedules the next attempt.
 */
#ifndef PETREL_DELIVERY_H
#define PETREL_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"
#include "mta/job.h"
#include "message/envelope.h"
#include "queue/msg_status.h"
#include "queue/spool.h"
#include "queue/spool_read.h"

enum delivery_outcome {
	DELIVERY_DONE,     /* every recipient final; spool entry removed */
	DELIVERY_DEFERRED, /* try again at next_attempt */
	DELIVERY_BROKEN,   /* the spool file is unreadable; set aside */
	DELIVERY_HELD,     /* on hold: waits for `petrel queue release` */
	DELIVERY_REMOTE,   /* remote recipients: the loop delivers, then finish */
};

#define DSN_IDS_MAX 3

struct attempt_state {
	char id[QUEUE_ID_LEN + 1];
	bool forced; /* `queue retry`: ignore the schedule */
	int64_t now;
	struct envelope env;
	struct spool_entry entry;      /* the spool file (env was moved out) */
	struct message_source message; /* read in pieces, never whole */
	bool has_8bit;                 /* for BODY=8BITMIME to remote servers */
	struct msg_status status;
	struct rcpt_result *results; /* this attempt, per recipient */
	bool *remote;                /* per recipient: for the SMTP client */
	size_t remote_count;
	enum delivery_outcome outcome;
	int64_t next_attempt;
	char new_dsns[DSN_IDS_MAX][QUEUE_ID_LEN + 1]; /* queued by finish */
	size_t new_dsn_count;
};

void delivery_begin(const struct config *config, struct spool *spool,
                    struct attempt_state *a);
void delivery_finish(const struct config *config, struct spool *spool,
                     struct attempt_state *a);
void attempt_state_clear(struct attempt_state *a);

#endif
