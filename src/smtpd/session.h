/*
 * session.h — one SMTP server session (RFC 5321), its transaction, and
 * the interface between the I/O code (session.c), the command table
 * (commands.c) and the reply helpers (reply.c).
 */
#ifndef PETREL_SESSION_H
#define PETREL_SESSION_H

#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/auth_service.h"
#include "auth/auth_client.h"
#include "lib/buf.h"
#include "net/conn.h"
#include "net/tls.h"
#include "proto/smtp_addr.h"
#include "proto/smtp_cmd.h"
#include "proto/rfc5322.h"
#include "proto/smtp_data.h"
#include "message/envelope.h"
#include "smtpd/smtpd.h"
#include "smtpd/stage.h"

enum session_state {
	STATE_GREETING,    /* banner not sent yet (greeting delay, TLS handshake) */
	STATE_CONNECTED,   /* banner sent, waiting for HELO/EHLO */
	STATE_GREETED,     /* HELO/EHLO done, no transaction */
	STATE_MAIL,        /* MAIL accepted */
	STATE_RCPT,        /* at least one RCPT accepted */
	STATE_DATA,        /* reading DATA content */
	STATE_BDAT,        /* reading a BDAT chunk */
	STATE_SPOOLING,    /* waiting for the durable commit */
	STATE_TLS_PENDING, /* 220 for STARTTLS being flushed */
	STATE_CLOSING,     /* last reply being flushed */
	STATE_AUTH,        /* inside a SASL exchange: lines are responses */
};

#define STATE_BIT(s) (1u << (s))

struct transaction {
	struct envelope env;
	uint64_t declared_size; /* MAIL SIZE= */
	/* The message goes to the spool as it arrives (unstuffed DATA or
	 * BDAT chunks); only its header section stays in memory, for the
	 * end-of-data stage. */
	struct spool_stream *stream;
	uint64_t size;     /* octets of message so far */
	struct buf header; /* the first octets, until the section ends */
	struct rfc5322_scan scan;
	bool header_done; /* header.len is the section's length */
	const char *header_error;
	bool disk_wait;            /* the spool is behind: input waits */
	bool stage_waits_for_disk; /* end of data: hooks run once it is all written */
	struct buf discard;        /* where octets go once nothing is kept */
	struct smtp_data data;     /* DATA reader, or line checker for BDAT */
	bool too_big;
	bool bdat_started; /* a BDAT chunk was accepted: DATA is now wrong */
	uint64_t bdat_remaining;
	bool bdat_last;
	const char *bdat_error; /* reply to give once the chunk is consumed */
	uint64_t start_usec;
	unsigned rcpt_accepted; /* RCPT commands; an alias may add more recipients */
};

struct hook_call;

struct session {
	struct smtpd *server;
	struct worker_listener *accepted_on;
	const struct listen_config *listener;
	const struct limits_config *limits; /* the listener's (config.h) */
	struct session *prev, *next;
	struct conn *conn;
	struct sockaddr_storage peer;
	char peer_ip[INET6_ADDRSTRLEN];
	char log_id[24];
	enum session_state state;
	bool esmtp;
	bool tls_active;
	char tls_info[128];
	struct client_cert cert; /* after the handshake; see net/tls.h */
	bool relay_allowed;      /* client in relay_networks */
	char *helo;
	char *auth_user; /* the authorization identity after AUTH, or NULL */
	unsigned errors;
	enum session_state bdat_return_state;
	struct event *greeting_timer;
	struct transaction tx;
	struct spool_stream *commit; /* being committed by the spool writer */
	struct stage_call *stage;    /* hooks deciding on the command or message */
	struct hook_call *hook_call; /* ... for a command (session_hook.c) */
	struct stage_context stage_context;
	struct message message;         /* at end of data, while the hooks run */
	struct auth_job *pending;       /* a lookup in flight: input waits for it */
	struct auth_exchange *exchange; /* the SASL exchange under way */
	struct event *delay_timer;      /* a failed login's reply waits on it */
	unsigned messages;
	uint64_t connect_usec;
	/* The command waiting for its final reply ("MAIL", "end-of-data"),
	 * and since when: the command event (lib/events.c) at the reply. */
	const char *command;
	uint64_t command_usec;
	/* For the line a refusal logs: MAIL's or RCPT's path as the client
	 * wrote it (without <>), and the hook whose verdict the reply is. */
	char command_path[SMTP_PATH_MAX + 3];
	const char *refused_by;
};

/* session.c */
void session_start(struct smtpd *server, struct worker_listener *accepted_on,
                   evutil_socket_t fd, const struct sockaddr *peer, int peer_len);
void session_destroy(struct session *s, const char *reason);
/* Sends the last reply and closes once it is flushed. */
void session_close_after(struct session *s, const char *reply);
void session_transaction_reset(struct session *s);
void session_start_tls(struct session *s);
/* cmd_auth.c: an exchange under way is given up (the auth process told). */
void session_abandon_exchange(struct session *s);
void session_begin_data(struct session *s);
void session_begin_bdat(struct session *s, uint64_t size, bool last, const char *error);
void session_shutdown(struct session *s);
void session_resume(struct session *s);

/* commands.c: runs one complete command line (CRLF removed). */
void commands_dispatch(struct session *s, const char *line, size_t len);
/* Called when a message has been read completely (DATA end or BDAT LAST). */
void commands_message_complete(struct session *s);
/* The end-of-data hooks, once the whole message is in the spool file. */
void commands_data_stage(struct session *s);
/* The spool writer's answer to the commit (owner: the session, or NULL
 * if it has gone). */
void commands_spooled(void *owner, void *context, const char *id, int result,
                      int error_errno);

/* One file per command that needs more than a few lines. */
void cmd_mail(struct session *s, const struct smtp_cmd *cmd);
void cmd_rcpt(struct session *s, const struct smtp_cmd *cmd);
void cmd_auth(struct session *s, const struct smtp_cmd *cmd);
/* cmd_auth.c: a line read during a SASL exchange (CRLF removed); NULL
 * for a line over limits.auth_line. */
void auth_response(struct session *s, const char *line, size_t len);
/* The AUTH keyword for EHLO ("PLAIN LOGIN ..."), or "" when AUTH is not
 * offered on this connection (no TLS). */
void auth_advertised(const struct session *s, char *out, size_t size);
/* True when input must wait: a lookup or a failed login's delay. */
bool session_paused(const struct session *s);

/* session_hook.c: check → hook → proceed. After the command's own
 * checks, the stage's hooks decide (the session reads nothing meanwhile);
 * on acceptance proceed(s, data) runs, on a refusal refused(s, data) if
 * given and the refusal is the reply (CONNECT: then the session closes).
 * release(data), if given, runs in every case, the session's end
 * included; argument must stay valid until then. */
typedef void session_proceed_fn(struct session *s, void *data);
void session_hook(struct session *s, enum smtp_stage stage, const char *argument,
                  session_proceed_fn *proceed, session_proceed_fn *refused, void *data,
                  void (*release)(void *data));
/* The session is going: hooks still deciding answer to no one. */
void session_hook_cancel(struct session *s);

/* reply.c */
/* The command whose final reply comes next (reply.c counts it). */
void reply_command_started(struct session *s, const char *command);
void reply(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The reply to a message's data: once, or under LMTP once per recipient. */
void reply_per_rcpt(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A protocol error: replies, counts, and closes past the error limit. */
void reply_error(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void reply_received_header(struct session *s, struct buf *out);
uint64_t now_usec(void);

#endif
