/*
 * session.h — one POP3 session (RFC 1939): AUTHORIZATION, TRANSACTION,
 * UPDATE. The interface between the I/O loop (session.c), the command
 * table (commands.c) and the commands.
 */
#ifndef PETREL_POP3_SESSION_H
#define PETREL_POP3_SESSION_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/sasl_session.h"
#include "mailbox/mailbox.h"
#include "net/conn.h"
#include "pop3d/pop3d.h"
#include "proto/pop3_cmd.h"

enum pop3_state {
	POP3_STATE_AUTHORIZATION,
	POP3_STATE_TRANSACTION,
	POP3_STATE_UPDATE, /* after QUIT: closing */
};

/* One message of the maildrop, numbered as in the session's LIST. */
struct pop3_message {
	uint32_t uid;
	uint64_t size;
	bool deleted, retrieved;
};

/* A RETR or TOP being streamed as the client reads. */
struct pop3_transfer;

struct pop3_session {
	struct pop3d *server;
	struct worker_listener *accepted_on;
	const struct listen_config *listener;
	struct pop3_session *prev, *next;
	struct conn *conn;
	struct sockaddr_storage peer;
	char peer_ip[INET6_ADDRSTRLEN];
	char log_id[24];
	enum pop3_state state;
	bool tls_active, tls_pending, closing;
	struct client_cert cert;
	unsigned errors;
	char *user_name; /* USER's argument, for PASS */
	struct sasl_session *sasl;
	bool sasl_pending; /* AUTH or PASS waits for the auth process */
	struct event *delay_timer;
	/* TRANSACTION */
	char *user;
	struct mail_store *store;
	struct mailbox *mailbox;
	int lock_fd; /* the maildrop's lock: one POP3 session at a time */
	struct pop3_message *messages;
	uint32_t count;
	struct pop3_transfer *transfer;
	const char *command; /* for the log */
	uint64_t command_usec;
};

/* session.c */
void pop3_session_start(struct pop3d *server, struct worker_listener *accepted_on, int fd,
                        const struct sockaddr *peer, socklen_t peer_len);
void pop3_session_destroy(struct pop3_session *s, const char *reason);
void pop3_session_shutdown(struct pop3_session *s);

/* "+OK text" or "-ERR text" CRLF; ends the command (logged, counted). */
void pop3_reply(struct pop3_session *s, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pop3_write(struct pop3_session *s, const void *data, size_t len);
void pop3_printf(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The last reply, then close. */
void pop3_close_after(struct pop3_session *s, bool ok, const char *text);
bool pop3_login_permitted(const struct pop3_session *s);
void pop3_resume(struct pop3_session *s);

/* maildrop.c: the TRANSACTION commands */
typedef void pop3_handler(struct pop3_session *s, const struct pop3_cmd *cmd);
pop3_handler pop3_cmd_stat, pop3_cmd_list, pop3_cmd_uidl, pop3_cmd_dele, pop3_cmd_rset,
    pop3_cmd_noop, pop3_cmd_retr, pop3_cmd_top;

/* commands.c */
void pop3_dispatch(struct pop3_session *s, const struct pop3_cmd *cmd);
/* An AUTH continuation line. */
void pop3_sasl_line(struct pop3_session *s, const char *line, size_t len);
/* maildrop.c: the login is done; the maildrop opens (locked). */
void pop3_logged_in(struct pop3_session *s, const char *user, uint64_t quota);
/* maildrop.c: QUIT in TRANSACTION: deletions happen (UPDATE). */
void pop3_update(struct pop3_session *s);
void pop3_maildrop_close(struct pop3_session *s);
/* retr.c: RETR and TOP streamed; true once the reply is complete. */
void pop3_retr_start(struct pop3_session *s, uint32_t number, bool top, uint32_t lines);
bool pop3_transfer_resume(struct pop3_session *s);
void pop3_transfer_free(struct pop3_session *s);

#endif
