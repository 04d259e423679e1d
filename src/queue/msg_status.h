/*
 * msg_status.h — what has happened to each recipient of a queued message.
 *
 * The spool file is never rewritten after its commit; progress goes to an
 * append-only journal beside it, <id>.status, one record a line, each
 * appended and fdatasynced before the step it records is relied on:
 *
 *   D <i>                              recipient i delivered
 *   F <i> <dsn> <n>:<remote> <n>:<diagnostic>   permanent failure
 *   T <i> <dsn> <n>:<remote> <n>:<diagnostic>   temporary failure (latest)
 *   R <attempts> <next-attempt>        retry schedule
 *   H 1|0                              held / released by the operator
 *   N <kind> <dsn-id> <i>,<i>,...      a DSN of kind F(ailure), D(elay) or
 *                                      S(uccess) is being queued as dsn-id
 *   C <dsn-id>                         ... and is now in the queue
 *
 * Strings are length-prefixed, so a remote server's reply cannot forge a
 * record. N comes before the DSN is written and C after: a crash in
 * between is finished on the next attempt with the same ID, so a DSN is
 * neither lost nor sent twice. A torn last line (crash mid-append) is
 * ignored; its step is redone.
 */
#ifndef PETREL_MSG_STATUS_H
#define PETREL_MSG_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "message/queue_id.h"

enum rcpt_state { RCPT_PENDING, RCPT_DELIVERED, RCPT_FAILED };

enum dsn_kind { DSN_FAILURE = 'F', DSN_DELAY = 'D', DSN_SUCCESS = 'S' };

struct rcpt_status {
	enum rcpt_state state;
	bool temp_failed;  /* has a T record: last attempt failed temporarily */
	char dsn[16];      /* enhanced status of the last result, "5.1.1" */
	char *remote;      /* "mx.example.net[192.0.2.1]:25", or NULL */
	char *diagnostic;  /* "smtp; 550 5.1.1 No such user" */
	unsigned notified; /* bit per kind: covered by a DSN (see status_notified) */
};

struct dsn_intent {
	char id[QUEUE_ID_LEN + 1];
	enum dsn_kind kind;
	bool committed;
	size_t *rcpts;
	size_t count;
};

struct msg_status {
	size_t rcpt_count;
	struct rcpt_status *rcpt;
	unsigned attempts;
	int64_t next_attempt;
	bool held;
	struct dsn_intent *intents;
	size_t intent_count;
};

void msg_status_init(struct msg_status *status, size_t rcpt_count);
void msg_status_clear(struct msg_status *status);

/* Applies the records in data[0..len) to status. Malformed or torn
 * lines are skipped (a crash mid-append); never fails. */
void msg_status_apply(struct msg_status *status, const char *data, size_t len);

bool msg_status_notified(const struct msg_status *status, size_t rcpt,
                         enum dsn_kind kind);

/* Record builders: each appends one line to out. */
void status_record_delivered(struct buf *out, size_t rcpt);
void status_record_failure(struct buf *out, size_t rcpt, bool permanent, const char *dsn,
                           const char *remote, const char *diagnostic);
void status_record_retry(struct buf *out, unsigned attempts, int64_t next_attempt);
void status_record_hold(struct buf *out, bool held);
void status_record_intent(struct buf *out, enum dsn_kind kind, const char *dsn_id,
                          const size_t *rcpts, size_t count);
void status_record_commit(struct buf *out, const char *dsn_id);

/* Blocking: reads path into status (a missing file is an empty journal). */
int msg_status_load(struct msg_status *status, const char *path, const char **error_r);
/* Blocking: appends records to path and fdatasyncs it, then applies them. */
int msg_status_append(struct msg_status *status, const char *path,
                      const struct buf *records, const char **error_r);

#endif
