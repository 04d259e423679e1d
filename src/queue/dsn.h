/*
 * dsn.h — delivery status notifications (RFC 3464, in a RFC 6522
 * multipart/report): the bounce, delay and success messages sent back to
 * the envelope sender. Pure: the caller decides whom to tell and queues
 * the result with the null sender.
 *
 * Three parts: a text for people, the machine-readable
 * message/delivery-status, and the original message (RET=FULL; the whole
 * message up to DSN_ORIGINAL_MAX octets) or its header (RET=HDRS, delay
 * notices, and larger messages). Addresses with UTF-8 use the RFC 6533
 * forms (utf-8 address type, message/global-delivery-status).
 */
#ifndef PETREL_DSN_H
#define PETREL_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "message/envelope.h"
#include "queue/msg_status.h"

#define DSN_ORIGINAL_MAX (100 * 1024)

struct dsn_input {
	enum dsn_kind kind;
	const char *hostname; /* Reporting-MTA */
	const char *dsn_id;   /* queue ID of the notification */
	int64_t now;
	int64_t retry_until; /* DSN_DELAY: when the message expires */
	const struct envelope *env;
	const struct msg_status *status;
	const size_t *rcpts; /* which recipients this notice is about */
	size_t rcpt_count;
	/* DSN_SUCCESS: per reported recipient, true when it was relayed to a
	 * server without DSN (Action: relayed) rather than delivered. */
	const unsigned char *relayed;
	/* The original message: its first octets (all of it when it is no
	 * larger than DSN_ORIGINAL_MAX, else at least its header section),
	 * and its whole size. */
	const char *message;
	size_t message_len;
	uint64_t message_size; /* 0: message_len */
};

/* Appends the whole notification message (CRLF line ends) to out. */
void dsn_build(const struct dsn_input *in, struct buf *out);

#endif
