/*
 * smtp_client_internal.h — what the three parts of the SMTP client share:
 * the connection and its session (smtp_client.c), logging in
 * (smtp_client_auth.c) and the mail transaction (smtp_client_tx.c). Not
 * for use outside mta/.
 */
#ifndef PETREL_SMTP_CLIENT_INTERNAL_H
#define PETREL_SMTP_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "mta/smtp_client.h"
#include "mta/wire_data.h"
#include "net/conn.h"
#include "proto/smtp_ehlo.h"
#include "proto/smtp_reply.h"

#define ERROR_MAX (SMTP_REPLY_TEXT_MAX + 128)

enum smtp_client_state {
	CS_CONNECTING,
	CS_GREETING,
	CS_EHLO,
	CS_HELO,
	CS_STARTTLS,
	CS_HANDSHAKE,
	CS_AUTH,
	CS_READY,
	CS_TX,   /* MAIL, RCPT, DATA replies */
	CS_BODY, /* sending the message */
	CS_DOT,  /* waiting for the final reply */
	CS_RSET,
	CS_QUIT,
};

struct body_read;

struct smtp_conn {
	struct event_base *base;
	const struct config *config;
	SSL_CTX *ssl_ctx;
	struct workpool *reader;       /* reads the message from the spool */
	struct body_read *reading;     /* a piece of it being read */
	const struct route_auth *auth; /* NULL: no login */
	struct mta_address *addrs;
	size_t addr_count, addr_index;
	bool plaintext_retry; /* STARTTLS failed here: this time without it */
	struct conn *io;
	struct event *timer;
	struct event *reaper;
	struct event *starter;
	enum smtp_client_state state;
	bool dead;
	struct smtp_reply_parser parser;
	const struct smtp_conn_callbacks *cb;
	void *arg;

	/* The session with the current address. */
	char remote[320]; /* "host[ip]:port" */
	bool established;
	bool ever_established;
	bool esmtp;
	struct smtp_ehlo ehlo;
	unsigned auth_step; /* LOGIN: 0 AUTH sent, 1 user sent, 2 password sent */
	bool tls_active;
	char tls_info[160];
	char last_error[ERROR_MAX];
	bool last_error_permanent;
	unsigned messages;

	/* The job in hand. */
	struct mta_job *job;
	struct mta_job *first_job; /* until the session is up */
	size_t reply_index;
	bool mail_ok;
	bool *accepted;
	size_t accepted_count;
	bool send_8bitmime;
	size_t body_pos;
	struct wire_data wire;
	struct timeval tx_start;
};

/* smtp_client.c */
void smtp_client_send_line(struct smtp_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void smtp_client_arm(struct smtp_conn *c, unsigned seconds);
/* Before a session is up: give up on this address, try the next. */
void smtp_client_address_failed(struct smtp_conn *c, bool permanent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Once established: the session broke (time-out, lost, garbage). */
void smtp_client_session_failed(struct smtp_conn *c, const char *what);
void smtp_client_set_error(struct smtp_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Idle: ready for the next job, or QUIT after delivery.reuse_messages. */
void smtp_client_become_ready(struct smtp_conn *c);
/* The session is up (after EHLO, STARTTLS and any login). */
void smtp_client_session_up(struct smtp_conn *c);
/* "550 text" from a reply */
void smtp_client_describe_reply(const struct smtp_reply *r, char *out, size_t size);

/* smtp_client_auth.c: RFC 4954 as a client, before any mail, never
 * without TLS; then the session is up. */
void smtp_client_log_in(struct smtp_conn *c);
void smtp_client_auth_reply(struct smtp_conn *c, const struct smtp_reply *r,
                            const char *text);

/* smtp_client_tx.c */
void smtp_client_tx_reply(struct smtp_conn *c, const struct smtp_reply *r);
void smtp_client_dot_reply(struct smtp_conn *c, const struct smtp_reply *r);
/* Sends the next piece of the message, once read on a reader thread. */
void smtp_client_send_body(struct smtp_conn *c);
/* The connection is going: a piece being read is dropped when it comes. */
void smtp_client_body_detach(struct smtp_conn *c);
/* Every recipient of the job in hand without an outcome gets this one;
 * all are logged and the job goes back to the caller. */
void smtp_client_finish_job(struct smtp_conn *c, enum rcpt_outcome outcome,
                            const char *dsn, const char *diagnostic);

#endif
