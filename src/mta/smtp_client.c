/*
 * smtp_client.c — outbound SMTP connections (see smtp_client.h): the
 * connection to each address in turn, the greeting, EHLO (or HELO),
 * STARTTLS, and the session's life; logging in is smtp_client_auth.c and
 * a mail transaction smtp_client_tx.c.
 *
 * Every wait has one timer, armed with the RFC 5321 4.5.3.2 value for
 * what is awaited. Replies go through the strict parser in
 * proto/smtp_reply.c; anything it refuses ends the connection. A
 * connection that must go away is marked dead at once and freed from a
 * fresh loop callback, so no handler ever runs on freed memory.
 */
#include "mta/smtp_client.h"

#include <errno.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/xalloc.h"
#include "mta/smtp_client_internal.h"
#include "net/tls.h"

#define INPUT_MAX    (64 * 1024)
#define QUIT_SECONDS 5
/* The body is refilled when this little of it is still queued. */
#define BODY_LOW_WATER (64 * 1024)

static void connect_next(struct smtp_conn *c);
static void close_session(struct smtp_conn *c);

void smtp_client_set_error(struct smtp_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap); /* truncates */
	va_end(ap);
}

void smtp_client_arm(struct smtp_conn *c, unsigned seconds)
{
	struct timeval tv = {seconds, 0};
	evtimer_add(c->timer, &tv);
}

void smtp_client_send_line(struct smtp_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	conn_vprintf(c->io, fmt, ap);
	va_end(ap);
	conn_write(c->io, "\r\n", 2);
}

static void drop_io(struct smtp_conn *c)
{
	conn_free(&c->io);
	evtimer_del(c->timer);
	smtp_client_body_detach(c);
}

void smtp_client_describe_reply(const struct smtp_reply *r, char *out, size_t size)
{
	snprintf(out, size, "%d %s", r->code, r->text);
}

static void reap(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_conn *c = arg;
	event_free(c->timer);
	event_free(c->reaper);
	event_free(c->starter);
	free(c->addrs);
	free(c->accepted);
	free(c);
}

/* The connection is over: the job in hand (if any) is deferred. */
static void close_session(struct smtp_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	drop_io(c);
	if (c->job)
		smtp_client_finish_job(c, OUTCOME_TEMP, "4.4.2",
		                       c->last_error[0] ? c->last_error
		                                        : "smtp; connection closed");
	if (c->first_job) {
		c->job = c->first_job;
		c->first_job = NULL;
		smtp_client_finish_job(
		    c, c->last_error_permanent ? OUTCOME_PERM : OUTCOME_TEMP,
		    c->last_error_permanent ? "5.4.0" : "4.4.1",
		    c->last_error[0] ? c->last_error : "smtp; no address to try");
	}
	c->cb->closed(c, c->ever_established, c->last_error, c->arg);
	event_active(c->reaper, 0, 0);
}

void smtp_client_address_failed(struct smtp_conn *c, bool permanent, const char *fmt, ...)
{
	char why[ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	smtp_client_set_error(c, "smtp; %s (%s)", why, c->remote);
	c->last_error_permanent = permanent;
	log_msg(L_WARN, "event=connect-failed relay=%s error=%s", LOG_Q(c->remote),
	        LOG_Q(why));
	drop_io(c);
	c->addr_index++;
	c->plaintext_retry = false;
	connect_next(c);
}

void smtp_client_session_failed(struct smtp_conn *c, const char *what)
{
	bool after_dot = c->state == CS_DOT;
	smtp_client_set_error(
	    c, "smtp; %s %s%s", what, c->remote,
	    after_dot ? " after end of data: the message may have been delivered" : "");
	if (after_dot && c->job) {
		/* RFC 5321 6.1 prefers a duplicate to a loss: retried, noted. */
		log_msg(L_WARN, "event=possible-duplicate id=%s relay=%s",
		        c->job->env->id, LOG_Q(c->remote));
	}
	if (c->state < CS_READY && c->first_job) {
		smtp_client_address_failed(c, false, "%s", what);
		return;
	}
	log_msg(L_WARN, "event=session-failed relay=%s error=%s", LOG_Q(c->remote),
	        LOG_Q(what));
	close_session(c);
}

/* Each line of the reply to EHLO, whole (the first is the greeting). */
static void ehlo_line(void *context, unsigned index, const char *text, size_t len)
{
	struct smtp_conn *c = context;
	if (c->state == CS_EHLO && index > 0)
		smtp_ehlo_line(&c->ehlo, text, len);
}

static void send_ehlo(struct smtp_conn *c)
{
	c->state = CS_EHLO;
	smtp_ehlo_init(&c->ehlo);
	smtp_client_send_line(c, "EHLO %s", c->config->hostname);
	smtp_client_arm(c, c->config->delivery.helo_timeout);
}

static void start_tls(struct smtp_conn *c)
{
	const struct mta_address *a = &c->addrs[c->addr_index];
	SSL *ssl = SSL_new(c->ssl_ctx);
	if (ssl == NULL) {
		smtp_client_address_failed(c, false, "cannot start TLS");
		return;
	}
	if (a->host[0] && a->host[0] != '[') {
		SSL_set_tlsext_host_name(ssl, a->host);
		SSL_set1_host(ssl, a->host); /* recorded, not enforced */
	}
	c->state = CS_HANDSHAKE;
	smtp_client_arm(c, c->config->delivery.helo_timeout);
	if (conn_starttls(c->io, ssl) > 0) {
		/* Plaintext after the 220 would be read as if it came
		 * through TLS (STARTTLS response injection): refuse it. */
		log_msg(L_WARN, "event=starttls-injection relay=%s", LOG_Q(c->remote));
		smtp_client_address_failed(c, false,
		                           "data injected after STARTTLS reply");
	}
}

static void tls_established(struct smtp_conn *c)
{
	const struct conn_info *info = conn_info(c->io);
	long verify = SSL_get_verify_result(conn_ssl(c->io));
	snprintf(c->tls_info, sizeof(c->tls_info), "%s %s", info->tls_version,
	         info->tls_cipher);
	c->tls_active = true;
	log_msg(
	    L_INFO, "event=tls relay=%s tls=%s verified=%s reason=%s", LOG_Q(c->remote),
	    LOG_Q(info->tls_description), verify == X509_V_OK ? "yes" : "no",
	    LOG_Q(verify == X509_V_OK ? "ok" : X509_verify_cert_error_string(verify)));
	send_ehlo(c);
}

static void tls_failed(struct smtp_conn *c, const char *why)
{
	if (c->config->delivery.tls == TLS_POLICY_MAY && !c->plaintext_retry) {
		/* RFC 7435: opportunistic; a broken TLS stack must not stop
		 * mail. Once more to this address, without STARTTLS. */
		log_msg(L_WARN, "event=tls-failed relay=%s error=%s fallback=plaintext",
		        LOG_Q(c->remote), LOG_Q(why));
		drop_io(c);
		c->plaintext_retry = true;
		connect_next(c);
		return;
	}
	smtp_client_address_failed(c, false, "TLS handshake failed: %s", why);
}

void smtp_client_session_up(struct smtp_conn *c)
{
	c->established = c->ever_established = true;
	c->last_error[0] = '\0';
	log_msg(L_DEBUG, "event=session-up relay=%s esmtp=%d pipelining=%d tls=%s",
	        LOG_Q(c->remote), c->esmtp, c->ehlo.pipelining,
	        LOG_Q(c->tls_active ? c->tls_info : "none"));
	if (c->first_job) {
		struct mta_job *job = c->first_job;
		c->first_job = NULL;
		c->state = CS_READY;
		smtp_conn_send(c, job);
		return;
	}
	smtp_client_become_ready(c);
}

static void after_ehlo(struct smtp_conn *c)
{
	enum tls_policy policy = c->config->delivery.tls;
	if (!c->tls_active && policy != TLS_POLICY_NONE && !c->plaintext_retry) {
		if (c->ehlo.starttls) {
			c->state = CS_STARTTLS;
			smtp_client_send_line(c, "STARTTLS");
			smtp_client_arm(c, c->config->delivery.helo_timeout);
			return;
		}
		if (policy == TLS_POLICY_ENCRYPT) {
			smtp_client_address_failed(
			    c, false, "TLS is required but STARTTLS not offered");
			return;
		}
	}
	if (!c->tls_active && policy == TLS_POLICY_ENCRYPT) {
		smtp_client_address_failed(c, false, "TLS is required");
		return;
	}
	smtp_client_log_in(c);
}

static void handle_reply(struct smtp_conn *c, const struct smtp_reply *r)
{
	bool ok = r->code >= 200 && r->code < 300;
	char text[ERROR_MAX];
	smtp_client_describe_reply(r, text, sizeof(text));
	evtimer_del(c->timer);
	switch (c->state) {
	case CS_GREETING:
		if (!ok) {
			smtp_client_address_failed(c, r->code >= 500, "greeting: %s",
			                           text);
			return;
		}
		send_ehlo(c);
		return;
	case CS_EHLO:
		if (ok) {
			c->esmtp = true;
			after_ehlo(c);
			return;
		}
		if (c->tls_active) {
			smtp_client_address_failed(c, r->code >= 500,
			                           "EHLO after STARTTLS: %s", text);
			return;
		}
		c->state = CS_HELO; /* RFC 5321 3.2 */
		smtp_ehlo_init(&c->ehlo);
		smtp_client_send_line(c, "HELO %s", c->config->hostname);
		smtp_client_arm(c, c->config->delivery.helo_timeout);
		return;
	case CS_HELO:
		if (!ok) {
			smtp_client_address_failed(c, r->code >= 500, "HELO: %s", text);
			return;
		}
		c->esmtp = false;
		after_ehlo(c);
		return;
	case CS_STARTTLS:
		if (r->code == 220) {
			start_tls(c);
			return;
		}
		if (c->config->delivery.tls == TLS_POLICY_ENCRYPT) {
			smtp_client_address_failed(c, false, "STARTTLS refused: %s",
			                           text);
			return;
		}
		smtp_client_log_in(c);
		return;
	case CS_AUTH:
		smtp_client_auth_reply(c, r, text);
		return;
	case CS_TX:
		smtp_client_tx_reply(c, r);
		return;
	case CS_DOT:
		smtp_client_dot_reply(c, r);
		return;
	case CS_RSET:
		if (!ok) {
			smtp_client_session_failed(c, "RSET refused by");
			return;
		}
		smtp_client_become_ready(c);
		return;
	case CS_QUIT:
		close_session(c);
		return;
	default:
		/* Unsolicited (a 421 while idle, or talking during the body). */
		smtp_client_set_error(c, "smtp; unexpected %s", text);
		smtp_client_session_failed(c, "unexpected reply from");
		return;
	}
}

/* --- the connection's events ----------------------------------------------- */

static void on_input(struct conn *io, void *arg)
{
	struct smtp_conn *c = arg;
	while (!c->dead && c->io == io && c->state != CS_HANDSHAKE) {
		struct iovec span;
		if (conn_peek(io, &span, 1) < 1)
			return;
		const char *error;
		int r = smtp_reply_feed(&c->parser, span.iov_base, span.iov_len, &error);
		if (r == 0) {
			conn_drain(io, span.iov_len);
			continue;
		}
		if (r < 0) {
			char why[160];
			snprintf(why, sizeof(why), "malformed reply (%s) from", error);
			log_msg(L_WARN, "event=bad-reply relay=%s error=%s",
			        LOG_Q(c->remote), LOG_Q(error));
			if (c->state < CS_READY && c->first_job)
				smtp_client_address_failed(c, false,
				                           "malformed reply: %s", error);
			else
				smtp_client_session_failed(c, why);
			return;
		}
		conn_drain(io, (size_t)r);
		struct smtp_reply reply = c->parser.reply;
		smtp_reply_parser_reset(&c->parser);
		handle_reply(c, &reply);
	}
}

static void on_connected(struct conn *io, void *arg)
{
	(void)io;
	struct smtp_conn *c = arg;
	c->state = CS_GREETING;
	smtp_client_arm(c, c->config->delivery.greeting_timeout);
}

static void on_tls_up(struct conn *io, void *arg)
{
	(void)io;
	tls_established(arg);
}

static void on_output_low(struct conn *io, void *arg)
{
	(void)io;
	struct smtp_conn *c = arg;
	if (!c->dead && c->state == CS_BODY)
		smtp_client_send_body(c);
}

static void on_end(struct conn *io, void *arg, enum conn_end why)
{
	struct smtp_conn *c = arg;
	const struct conn_info *info = conn_info(io);
	if (c->dead)
		return;
	if (c->state == CS_HANDSHAKE) {
		tls_failed(c, info->tls_error[0] ? info->tls_error : "handshake failed");
		return;
	}
	if (why == CONN_END_CONNECT) {
		int e = info->error_errno;
		smtp_client_address_failed(c, false, "connect: %s",
		                           e ? strerror(e) : "failed");
		return;
	}
	if (c->state == CS_QUIT) {
		close_session(c);
		return;
	}
	smtp_client_session_failed(c, why == CONN_END_EOF ? "lost connection with"
	                                                  : "connection error with");
}

static const struct conn_handlers client_handlers = {
    .input = on_input,
    .connected = on_connected,
    .tls_up = on_tls_up,
    .output_low = on_output_low,
    .end = on_end,
};

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_conn *c = arg;
	static const char *const waiting[] = {
	    [CS_CONNECTING] = "connect", [CS_GREETING] = "greeting",
	    [CS_EHLO] = "EHLO",          [CS_HELO] = "HELO",
	    [CS_STARTTLS] = "STARTTLS",  [CS_HANDSHAKE] = "TLS handshake",
	    [CS_AUTH] = "AUTH",          [CS_READY] = "idle",
	    [CS_TX] = "MAIL/RCPT/DATA",  [CS_BODY] = "message data",
	    [CS_DOT] = "end of data",    [CS_RSET] = "RSET",
	    [CS_QUIT] = "QUIT",
	};
	if (c->state == CS_READY) {
		smtp_conn_quit(c); /* idle long enough */
		return;
	}
	if (c->state == CS_QUIT) {
		close_session(c);
		return;
	}
	if (c->state == CS_HANDSHAKE) {
		tls_failed(c, "timeout");
		return;
	}
	char why[96];
	snprintf(why, sizeof(why), "timeout waiting for %s from", waiting[c->state]);
	if (c->state < CS_READY)
		smtp_client_address_failed(c, false, "timeout waiting for %s",
		                           waiting[c->state]);
	else
		smtp_client_session_failed(c, why);
}

void smtp_client_become_ready(struct smtp_conn *c)
{
	c->state = CS_READY;
	if (c->messages >= c->config->delivery.reuse_messages) {
		smtp_conn_quit(c);
		return;
	}
	smtp_client_arm(c, c->config->delivery.idle_seconds);
	c->cb->idle(c, c->arg);
}

static void connect_next(struct smtp_conn *c)
{
	if (c->addr_index >= c->addr_count) {
		close_session(c);
		return;
	}
	const struct mta_address *a = &c->addrs[c->addr_index];
	char ip[INET6_ADDRSTRLEN];
	sockaddr_ip((const struct sockaddr *)&a->addr, ip, sizeof(ip));
	snprintf(c->remote, sizeof(c->remote), "%s[%s]:%u", a->host, ip,
	         sockaddr_port((const struct sockaddr *)&a->addr));
	c->established = false;
	c->tls_active = false;
	c->esmtp = false;
	smtp_reply_parser_init(&c->parser);
	smtp_reply_parser_on_line(&c->parser, ehlo_line, c);
	c->state = CS_CONNECTING;
	int family = a->addr.ss_family;
	const struct delivery_config *d = &c->config->delivery;
	const struct sockaddr_storage *source =
	    family == AF_INET6 ? &d->source6 : &d->source4;
	bool have = family == AF_INET6 ? d->have_source6 : d->have_source4;
	struct conn_settings settings = {
	    .input_max = INPUT_MAX,
	    .output_low_water = BODY_LOW_WATER,
	    .output_high_water = SIZE_MAX, /* replies are read whatever we send */
	};
	smtp_client_arm(c, d->connect_timeout);
	c->io = conn_connect(c->base, (const struct sockaddr *)&a->addr, a->addr_len,
	                     have ? (const struct sockaddr *)source : NULL,
	                     family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                        : sizeof(struct sockaddr_in),
	                     NULL, &settings, &client_handlers, c);
	if (c->io == NULL)
		smtp_client_address_failed(c, false, "%s: %s",
		                           have ? "bind to source address" : "socket",
		                           strerror(errno));
}

static void start_connecting(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_conn *c = arg;
	if (!c->dead)
		connect_next(c);
}

struct smtp_conn *smtp_conn_open(struct event_base *base, const struct config *config,
                                 SSL_CTX *ssl_ctx, struct workpool *reader,
                                 const struct route_auth *auth,
                                 const struct mta_address *addrs, size_t addr_count,
                                 struct mta_job *first_job,
                                 const struct smtp_conn_callbacks *callbacks, void *arg)
{
	struct smtp_conn *c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->config = config;
	c->ssl_ctx = ssl_ctx;
	c->reader = reader;
	c->auth = auth;
	c->addrs = xcalloc(addr_count ? addr_count : 1, sizeof(*addrs));
	memcpy(c->addrs, addrs, addr_count * sizeof(*addrs));
	c->addr_count = addr_count;
	c->first_job = first_job;
	gettimeofday(&c->tx_start, NULL); /* its attempt starts with the connection */
	c->cb = callbacks;
	c->arg = arg;
	c->timer = evtimer_new(base, on_timer, c);
	c->reaper = event_new(base, -1, 0, reap, c);
	/* From the loop, so that no callback runs inside this call. */
	struct timeval now = {0, 0};
	c->starter = evtimer_new(base, start_connecting, c);
	evtimer_add(c->starter, &now);
	return c;
}

void smtp_conn_quit(struct smtp_conn *c)
{
	if (c->dead || c->io == NULL)
		return;
	c->state = CS_QUIT;
	smtp_client_send_line(c, "QUIT");
	smtp_client_arm(c, QUIT_SECONDS);
}

void smtp_conn_abort(struct smtp_conn *c)
{
	if (c->dead)
		return;
	smtp_client_set_error(c, "x-petrel; delivery interrupted");
	close_session(c);
}
