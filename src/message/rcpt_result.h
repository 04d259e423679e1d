/*
 * rcpt_result.h — what became of one recipient in one delivery attempt:
 * the outcome the queue records (queue/msg_status.h) and reports in DSNs,
 * as the SMTP client (mta/) or local delivery found it.
 */
#ifndef PETREL_RCPT_RESULT_H
#define PETREL_RCPT_RESULT_H

#include <stdbool.h>

enum rcpt_outcome { OUTCOME_NONE, OUTCOME_DELIVERED, OUTCOME_TEMP, OUTCOME_PERM };

struct rcpt_result {
	enum rcpt_outcome outcome;
	bool relayed;     /* accepted by a server without DSN (NOTIFY=SUCCESS) */
	bool dsn_passed;  /* accepted by a server with DSN: it reports, not we */
	char dsn[16];     /* enhanced status, "5.1.1" */
	char *remote;     /* "mx.example.net[192.0.2.1]:25", or NULL */
	char *diagnostic; /* "smtp; 550 5.1.1 No such user" */
};

void rcpt_result_set(struct rcpt_result *r, enum rcpt_outcome outcome, const char *dsn,
                     const char *remote, const char *diagnostic);
void rcpt_result_clear(struct rcpt_result *r);

#endif
