/*
 * smtp_client.h — one outbound SMTP connection (RFC 5321), asynchronous
 * on the queue's event loop.
 *
 * A connection is opened for a list of addresses (a destination's MX
 * hosts in order) and works down it until one greets and answers EHLO
 * (or HELO); failures before that point (refused, time-outs, a 4xx/5xx
 * greeting, a failed STARTTLS) move on to the next address, as RFC 5321
 * 5.1 says. Then it delivers jobs one after another (connection reuse):
 * PIPELINING when offered, SIZE checked before sending, BODY=8BITMIME
 * and SMTPUTF8 only where offered (otherwise those recipients fail
 * rather than receive mangled mail), DSN parameters passed on. STARTTLS
 * is used whenever offered (RFC 7435); with `delivery.tls: may` a failed
 * handshake is retried once in plaintext, with `encrypt` never.
 * Time-outs per RFC 5321 4.5.3.2.
 *
 * With credentials (a smarthost route), the session logs in (RFC 4954:
 * PLAIN, else LOGIN) before any mail, and only over TLS: a password is
 * never sent in the clear, whatever delivery.tls says. A refused login
 * defers the mail (the fix is local), and is logged without the password.
 */
#ifndef PETREL_SMTP_CLIENT_H
#define PETREL_SMTP_CLIENT_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "lib/config.h"
#include "lib/workpool.h"
#include "mta/job.h"

struct mta_address {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char host[256];      /* the MX host name, for logs and DSNs */
	unsigned preference; /* MX preference; equal ones are shuffled per connection */
};

struct smtp_conn;

struct smtp_conn_callbacks {
	/* A job finished (every recipient has an outcome). */
	void (*job_done)(struct smtp_conn *conn, struct mta_job *job, void *arg);
	/* Idle and able to take another job (smtp_conn_send), or to be
	 * closed (smtp_conn_quit). */
	void (*idle)(struct smtp_conn *conn, void *arg);
	/* Gone; conn is freed after this returns. */
	void (*closed)(struct smtp_conn *conn, bool ever_established,
	               const char *last_error, void *arg);
};

/* Starts connecting; first_job is delivered once a session is up (or
 * fails with the last error if no address gives one). The message is
 * read from the spool on the reader's threads, a piece at a time. */
struct smtp_conn *smtp_conn_open(struct event_base *base, const struct config *config,
                                 SSL_CTX *ssl_ctx, struct workpool *reader,
                                 const struct route_auth *auth,
                                 const struct mta_address *addrs, size_t addr_count,
                                 struct mta_job *first_job,
                                 const struct smtp_conn_callbacks *callbacks, void *arg);
void smtp_conn_send(struct smtp_conn *conn, struct mta_job *job);
/* QUIT politely (idle connections). */
void smtp_conn_quit(struct smtp_conn *conn);
/* Drops at once: a job in hand is deferred; callbacks run as usual. */
void smtp_conn_abort(struct smtp_conn *conn);

#endif
