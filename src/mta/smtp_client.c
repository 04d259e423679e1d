/*
 * smtp_client.c — outbound SMTP connections (see smtp_client.h).
 *
 * Every wait has one timer, armed with the RFC 5321 4.5.3.2 value for
 * what is awaited. Replies go through the strict parser in
 * proto/smtp_reply.c; anything it refuses ends the connection. A
 * connection that must go away is marked dead at once and freed from a
 * fresh loop callback, so no handler ever runs on freed memory.
 */
#include "mta/smtp_client.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
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
#include "mta/wire_data.h"
#include "net/tls.h"
#include "proto/smtp_reply.h"

#define INPUT_MAX    (64 * 1024)
#define BODY_CHUNK   (256 * 1024)
#define QUIT_SECONDS 5
#define ERROR_MAX    (SMTP_REPLY_TEXT_MAX + 128)

enum conn_state {
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

struct smtp_conn {
	struct event_base *base;
	const struct config *config;
	SSL_CTX *ssl_ctx;
	const struct route_auth *auth; /* NULL: no login */
	struct mta_address *addrs;
	size_t addr_count, addr_index;
	bool plaintext_retry; /* STARTTLS failed here: this time without it */
	struct bufferevent *bev;
	struct event *timer;
	struct event *reaper;
	struct event *starter;
	enum conn_state state;
	bool dead;
	struct smtp_reply_parser parser;
	const struct smtp_conn_callbacks *cb;
	void *arg;

	/* The session with the current address. */
	char remote[320]; /* "host[ip]:port" */
	bool established;
	bool ever_established;
	bool esmtp, pipelining, starttls, eightbit, smtputf8, dsn, size_offered;
	bool auth_plain, auth_login;
	unsigned auth_step; /* LOGIN: 0 AUTH sent, 1 user sent, 2 password sent */
	uint64_t size_limit;
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

static void connect_next(struct smtp_conn *c);
static void address_failed(struct smtp_conn *c, bool permanent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void conn_close(struct smtp_conn *c);
static void become_ready(struct smtp_conn *c);

/* Truncates silently: the text is for logs and DSNs. */
static void set_error(struct smtp_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(struct smtp_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
}

static void arm(struct smtp_conn *c, unsigned seconds)
{
	struct timeval tv = {seconds, 0};
	evtimer_add(c->timer, &tv);
}

static void send_line(struct smtp_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void send_line(struct smtp_conn *c, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vappendf(&line, fmt, ap);
	va_end(ap);
	buf_append_str(&line, "\r\n");
	bufferevent_write(c->bev, line.data, line.len);
	buf_free(&line);
}

static void drop_bev(struct smtp_conn *c)
{
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	evtimer_del(c->timer);
}

/* "smtp; 550 5.1.1 text" from a reply */
static void describe_reply(const struct smtp_reply *r, char *out, size_t size)
{
	snprintf(out, size, "%d %s", r->code, r->text);
}

static const char *reply_dsn(const struct smtp_reply *r, char *buf, size_t size)
{
	if (r->enhanced[0] && r->enhanced[0] == '0' + r->code / 100)
		return r->enhanced;
	snprintf(buf, size, "%d.0.0", r->code / 100);
	return buf;
}

static double elapsed_since(const struct timeval *start)
{
	struct timeval now;
	gettimeofday(&now, NULL);
	return (double)(now.tv_sec - start->tv_sec) +
	       (double)(now.tv_usec - start->tv_usec) / 1e6;
}

static void log_outcome(const struct smtp_conn *c, const struct mta_job *job, size_t i)
{
	const struct rcpt_result *r = &job->results[i];
	const char *status = r->outcome == OUTCOME_DELIVERED ? "sent"
	                     : r->outcome == OUTCOME_PERM    ? "bounced"
	                                                     : "deferred";
	log_msg(r->outcome == OUTCOME_DELIVERED ? L_INFO : L_WARN,
	        "event=delivery id=%s to=%s relay=%s tls=%s delay=%llds attempt=%.2fs "
	        "dsn=%s status=%s reply=%s",
	        job->env->id, LOG_Q(job->env->rcpts[i].address),
	        LOG_Q(r->remote ? r->remote : c->remote),
	        LOG_Q(c->tls_active ? c->tls_info : "none"),
	        (long long)(time(NULL) - job->env->arrival), elapsed_since(&c->tx_start),
	        r->dsn, status, LOG_Q(r->diagnostic ? r->diagnostic : ""));
}

/* Gives every recipient of the job in hand without an outcome this one,
 * logs them all, and hands the job back. */
static void finish_job(struct smtp_conn *c, enum rcpt_outcome outcome, const char *dsn,
                       const char *diagnostic)
{
	struct mta_job *job = c->job;
	c->job = NULL;
	if (job == NULL)
		return;
	for (size_t k = 0; k < job->rcpt_count; k++) {
		struct rcpt_result *r = &job->results[job->rcpts[k]];
		if (r->outcome == OUTCOME_NONE)
			rcpt_result_set(r, outcome, dsn, c->remote, diagnostic);
		log_outcome(c, job, job->rcpts[k]);
	}
	free(c->accepted);
	c->accepted = NULL;
	c->messages++;
	c->cb->job_done(c, job, c->arg);
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
static void conn_close(struct smtp_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	drop_bev(c);
	if (c->job)
		finish_job(c, OUTCOME_TEMP, "4.4.2",
		           c->last_error[0] ? c->last_error : "smtp; connection closed");
	if (c->first_job) {
		c->job = c->first_job;
		c->first_job = NULL;
		finish_job(c, c->last_error_permanent ? OUTCOME_PERM : OUTCOME_TEMP,
		           c->last_error_permanent ? "5.4.0" : "4.4.1",
		           c->last_error[0] ? c->last_error : "smtp; no address to try");
	}
	c->cb->closed(c, c->ever_established, c->last_error, c->arg);
	event_active(c->reaper, 0, 0);
}

/* Before a session is up: give up on this address, try the next. */
static void address_failed(struct smtp_conn *c, bool permanent, const char *fmt, ...)
{
	char why[ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	set_error(c, "smtp; %s (%s)", why, c->remote);
	c->last_error_permanent = permanent;
	log_msg(L_WARN, "event=connect-failed relay=%s error=%s", LOG_Q(c->remote),
	        LOG_Q(why));
	drop_bev(c);
	c->addr_index++;
	c->plaintext_retry = false;
	connect_next(c);
}

/* Once established: the session broke (time-out, lost, garbage). */
static void session_failed(struct smtp_conn *c, const char *what)
{
	bool after_dot = c->state == CS_DOT;
	set_error(c, "smtp; %s %s%s", what, c->remote,
	          after_dot ? " after end of data: the message may have been delivered"
	                    : "");
	if (after_dot && c->job) {
		/* RFC 5321 6.1 prefers a duplicate to a loss: retried, noted. */
		log_msg(L_WARN, "event=possible-duplicate id=%s relay=%s",
		        c->job->env->id, LOG_Q(c->remote));
	}
	if (c->state < CS_READY && c->first_job) {
		address_failed(c, false, "%s", what);
		return;
	}
	log_msg(L_WARN, "event=session-failed relay=%s error=%s", LOG_Q(c->remote),
	        LOG_Q(what));
	conn_close(c);
}

/* "AUTH PLAIN LOGIN" (RFC 4954), or the old "AUTH=PLAIN LOGIN". */
static void parse_auth_mechanisms(struct smtp_conn *c, const char *p, size_t len)
{
	while (len > 0) {
		size_t skip = strspn(p, " =");
		if (skip >= len)
			return;
		p += skip;
		len -= skip;
		size_t word = strcspn(p, " ");
		if (word > len)
			word = len;
		if (word == 5 && strncasecmp(p, "PLAIN", 5) == 0)
			c->auth_plain = true;
		else if (word == 5 && strncasecmp(p, "LOGIN", 5) == 0)
			c->auth_login = true;
		p += word;
		len -= word;
	}
}

static void parse_capabilities(struct smtp_conn *c, const struct smtp_reply *r)
{
	c->esmtp = true;
	c->pipelining = c->starttls = c->eightbit = c->smtputf8 = c->dsn = false;
	c->auth_plain = c->auth_login = false;
	c->size_offered = false;
	c->size_limit = 0;
	/* The parser joins lines with " / "; the first is the greeting. */
	const char *p = strstr(r->text, " / ");
	while (p) {
		p += 3;
		const char *end = strstr(p, " / ");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char word[64];
		size_t wlen = strcspn(p, " ");
		if (wlen > len)
			wlen = len;
		snprintf(word, sizeof(word), "%.*s", (int)wlen, p);
		if (strcasecmp(word, "PIPELINING") == 0)
			c->pipelining = true;
		else if (strcasecmp(word, "STARTTLS") == 0)
			c->starttls = true;
		else if (strcasecmp(word, "8BITMIME") == 0)
			c->eightbit = true;
		else if (strcasecmp(word, "SMTPUTF8") == 0)
			c->smtputf8 = true;
		else if (strcasecmp(word, "DSN") == 0)
			c->dsn = true;
		else if (strcasecmp(word, "AUTH") == 0 ||
		         strncasecmp(word, "AUTH=", 5) == 0)
			parse_auth_mechanisms(c, p + 4, len - 4);
		else if (strcasecmp(word, "SIZE") == 0) {
			c->size_offered = true;
			if (wlen < len)
				c->size_limit = strtoull(p + wlen + 1, NULL, 10);
		}
		p = end;
	}
}

static void send_ehlo(struct smtp_conn *c)
{
	c->state = CS_EHLO;
	send_line(c, "EHLO %s", c->config->hostname);
	arm(c, c->config->delivery.helo_timeout);
}

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

static void start_tls(struct smtp_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	if (evbuffer_get_length(in) > 0) {
		/* Plaintext after the 220 would be read as if it came
		 * through TLS (STARTTLS response injection): refuse it. */
		log_msg(L_WARN, "event=starttls-injection relay=%s", LOG_Q(c->remote));
		address_failed(c, false, "data injected after STARTTLS reply");
		return;
	}
	const struct mta_address *a = &c->addrs[c->addr_index];
	SSL *ssl = SSL_new(c->ssl_ctx);
	if (a->host[0] && a->host[0] != '[') {
		SSL_set_tlsext_host_name(ssl, a->host);
		SSL_set1_host(ssl, a->host); /* recorded, not enforced */
	}
	struct bufferevent *tls = bufferevent_openssl_filter_new(
	    c->base, c->bev, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(ssl);
		address_failed(c, false, "cannot start TLS");
		return;
	}
	c->bev = tls;
	bufferevent_setcb(tls, on_read, on_write, on_event, c);
	bufferevent_setwatermark(tls, EV_READ, 0, INPUT_MAX);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	c->state = CS_HANDSHAKE;
	arm(c, c->config->delivery.helo_timeout);
}

static void tls_established(struct smtp_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	long verify = SSL_get_verify_result(ssl);
	char cipher[96];
	tls_describe(ssl, cipher, sizeof(cipher));
	snprintf(c->tls_info, sizeof(c->tls_info), "%s %s", SSL_get_version(ssl),
	         SSL_get_cipher_name(ssl));
	c->tls_active = true;
	log_msg(
	    L_INFO, "event=tls relay=%s tls=%s verified=%s reason=%s", LOG_Q(c->remote),
	    LOG_Q(cipher), verify == X509_V_OK ? "yes" : "no",
	    LOG_Q(verify == X509_V_OK ? "ok" : X509_verify_cert_error_string(verify)));
	send_ehlo(c);
}

static void tls_failed(struct smtp_conn *c)
{
	unsigned long e = ERR_peek_last_error();
	char why[256];
	ERR_error_string_n(e, why, sizeof(why));
	ERR_clear_error();
	if (c->config->delivery.tls == TLS_POLICY_MAY && !c->plaintext_retry) {
		/* RFC 7435: opportunistic; a broken TLS stack must not stop
		 * mail. Once more to this address, without STARTTLS. */
		log_msg(L_WARN, "event=tls-failed relay=%s error=%s fallback=plaintext",
		        LOG_Q(c->remote), LOG_Q(e ? why : "handshake failed"));
		drop_bev(c);
		c->plaintext_retry = true;
		connect_next(c);
		return;
	}
	address_failed(c, false, "TLS handshake failed: %s",
	               e ? why : "handshake failed");
}

/* Base64 of the parts joined by NULs (RFC 4616 for PLAIN). */
static void send_base64(struct smtp_conn *c, const char *prefix, const char *parts[],
                        size_t count)
{
	struct buf plain = BUF_INIT, line = BUF_INIT;
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			buf_append_char(&plain, '\0');
		buf_append_str(&plain, parts[i]);
	}
	buf_reserve(&line, strlen(prefix) + 4 * (plain.len / 3 + 1) + 3);
	buf_append_str(&line, prefix);
	int n = EVP_EncodeBlock((unsigned char *)line.data + line.len,
	                        (const unsigned char *)plain.data, (int)plain.len);
	line.len += (size_t)n;
	buf_append_str(&line, "\r\n");
	bufferevent_write(c->bev, line.data, line.len);
	explicit_bzero(plain.data, plain.len);
	explicit_bzero(line.data, line.len);
	buf_free(&plain);
	buf_free(&line);
}

static void session_up(struct smtp_conn *c);

/* RFC 4954 as a client, before any mail; never without TLS. */
static void log_in_or_up(struct smtp_conn *c)
{
	if (c->auth == NULL) {
		session_up(c);
		return;
	}
	if (!c->tls_active) {
		address_failed(c, false,
		               "AUTH needs TLS, and the session has none: "
		               "the password was not sent");
		return;
	}
	c->state = CS_AUTH;
	c->auth_step = 0;
	if (c->auth_plain) {
		const char *parts[] = {"", c->auth->user, c->auth->password};
		send_base64(c, "AUTH PLAIN ", parts, 3);
	} else if (c->auth_login) {
		send_line(c, "AUTH LOGIN");
	} else {
		address_failed(c, false, "no AUTH mechanism in common (PLAIN, LOGIN)");
		return;
	}
	arm(c, c->config->delivery.helo_timeout);
}

static void auth_reply(struct smtp_conn *c, const struct smtp_reply *r, const char *text)
{
	const char *mechanism = c->auth_plain ? "PLAIN" : "LOGIN";
	if (r->code == 334 && !c->auth_plain && c->auth_step < 2) {
		const char *part[] = {c->auth_step == 0 ? c->auth->user
		                                        : c->auth->password};
		send_base64(c, "", part, 1);
		c->auth_step++;
		arm(c, c->config->delivery.helo_timeout);
		return;
	}
	if (r->code == 235) {
		log_msg(L_INFO, "event=auth relay=%s user=%s mechanism=%s result=ok",
		        LOG_Q(c->remote), LOG_Q(c->auth->user), mechanism);
		session_up(c);
		return;
	}
	log_msg(L_WARN, "event=auth relay=%s user=%s mechanism=%s result=failed reply=%s",
	        LOG_Q(c->remote), LOG_Q(c->auth->user), mechanism, LOG_Q(text));
	if (r->code == 334)
		send_line(c, "*"); /* an unexpected challenge: cancel (RFC 4954 4) */
	/* Wrong credentials are ours to fix: the mail waits for that. */
	address_failed(c, false, "AUTH refused: %s", text);
}

static void session_up(struct smtp_conn *c)
{
	c->established = c->ever_established = true;
	c->last_error[0] = '\0';
	log_msg(L_DEBUG, "event=session-up relay=%s esmtp=%d pipelining=%d tls=%s",
	        LOG_Q(c->remote), c->esmtp, c->pipelining,
	        LOG_Q(c->tls_active ? c->tls_info : "none"));
	if (c->first_job) {
		struct mta_job *job = c->first_job;
		c->first_job = NULL;
		c->state = CS_READY;
		smtp_conn_send(c, job);
		return;
	}
	become_ready(c);
}

static void after_ehlo(struct smtp_conn *c)
{
	enum tls_policy policy = c->config->delivery.tls;
	if (!c->tls_active && policy != TLS_POLICY_NONE && !c->plaintext_retry) {
		if (c->starttls) {
			c->state = CS_STARTTLS;
			send_line(c, "STARTTLS");
			arm(c, c->config->delivery.helo_timeout);
			return;
		}
		if (policy == TLS_POLICY_ENCRYPT) {
			address_failed(c, false,
			               "TLS is required but STARTTLS not offered");
			return;
		}
	}
	if (!c->tls_active && policy == TLS_POLICY_ENCRYPT) {
		address_failed(c, false, "TLS is required");
		return;
	}
	log_in_or_up(c);
}

/* RFC 3461 4: xtext for ENVID and ORCPT. */
static void append_xtext(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 33 || ch > 126 || ch == '+' || ch == '=')
			buf_appendf(out, "+%02X", ch);
		else
			buf_append_char(out, (char)ch);
	}
}

static void send_mail(struct smtp_conn *c)
{
	const struct mta_job *job = c->job;
	const struct envelope *env = job->env;
	struct buf line = BUF_INIT;
	buf_appendf(&line, "MAIL FROM:<%s>", env->sender);
	if (c->size_offered)
		buf_appendf(&line, " SIZE=%zu", job->message_len);
	if (c->send_8bitmime)
		buf_append_str(&line, " BODY=8BITMIME");
	if (env->smtputf8 && c->smtputf8)
		buf_append_str(&line, " SMTPUTF8");
	if (c->dsn && env->ret)
		buf_appendf(&line, " RET=%s", env->ret);
	if (c->dsn && env->envid) {
		buf_append_str(&line, " ENVID=");
		append_xtext(&line, env->envid);
	}
	send_line(c, "%s", line.data);
	buf_free(&line);
}

static void send_rcpt(struct smtp_conn *c, size_t k)
{
	const struct envelope_rcpt *r = &c->job->env->rcpts[c->job->rcpts[k]];
	struct buf line = BUF_INIT;
	buf_appendf(&line, "RCPT TO:<%s>", r->address);
	if (c->dsn && r->notify) {
		static const char *const names[] = {"SUCCESS", "FAILURE", "DELAY",
		                                    "NEVER"};
		buf_append_str(&line, " NOTIFY=");
		bool first = true;
		for (int bit = 0; bit < 4; bit++) {
			if (r->notify & (1u << bit)) {
				buf_appendf(&line, "%s%s", first ? "" : ",", names[bit]);
				first = false;
			}
		}
	}
	if (c->dsn && r->orcpt) {
		const char *semi = strchr(r->orcpt, ';');
		if (semi) {
			buf_appendf(&line, " ORCPT=%.*s;", (int)(semi - r->orcpt),
			            r->orcpt);
			append_xtext(&line, semi + 1);
		}
	}
	send_line(c, "%s", line.data);
	buf_free(&line);
}

/* Timer for the reply at index i of a transaction (0 MAIL, 1..n RCPT,
 * n+1 DATA). */
static void arm_for_reply(struct smtp_conn *c, size_t i)
{
	const struct delivery_config *d = &c->config->delivery;
	arm(c, i == 0                    ? d->mail_timeout
	       : i <= c->job->rcpt_count ? d->rcpt_timeout
	                                 : d->data_timeout);
}

/* Refuses what this server cannot take, before any command. */
static bool job_fits(struct smtp_conn *c, struct mta_job *job)
{
	const struct envelope *env = job->env;
	bool body8 = env->body && strcasecmp(env->body, "8BITMIME") == 0;
	c->send_8bitmime = body8 && c->eightbit;
	if (env->smtputf8 && !c->smtputf8) {
		finish_job(c, OUTCOME_PERM, "5.6.7",
		           "x-petrel; the remote server does not support SMTPUTF8, "
		           "which this message requires");
		return false;
	}
	if (body8 && !c->eightbit && wire_data_has_8bit(job->message, job->message_len)) {
		/* RFC 6152 3: never send 8-bit data to a 7-bit server. */
		finish_job(c, OUTCOME_PERM, "5.6.3",
		           "x-petrel; the remote server does not support 8BITMIME, "
		           "and the message has 8-bit content");
		return false;
	}
	if (c->size_offered && c->size_limit > 0 && job->message_len > c->size_limit) {
		char why[160];
		snprintf(
		    why, sizeof(why),
		    "x-petrel; message of %zu octets exceeds the remote limit of %llu",
		    job->message_len, (unsigned long long)c->size_limit);
		finish_job(c, OUTCOME_PERM, "5.3.4", why);
		return false;
	}
	return true;
}

void smtp_conn_send(struct smtp_conn *c, struct mta_job *job)
{
	evtimer_del(c->timer);
	c->job = job;
	gettimeofday(&c->tx_start, NULL);
	if (!job_fits(c, job)) {
		become_ready(c);
		return;
	}
	c->accepted = xcalloc(job->rcpt_count, sizeof(*c->accepted));
	c->accepted_count = 0;
	c->reply_index = 0;
	c->mail_ok = false;
	c->state = CS_TX;
	send_mail(c);
	if (c->pipelining) {
		/* RFC 2920: the whole group in one write. */
		for (size_t k = 0; k < job->rcpt_count; k++)
			send_rcpt(c, k);
		send_line(c, "DATA");
	}
	arm_for_reply(c, 0);
}

static void send_body_part(struct smtp_conn *c)
{
	struct mta_job *job = c->job;
	struct buf out = BUF_INIT;
	size_t n = job->message_len - c->body_pos;
	if (n > BODY_CHUNK)
		n = BODY_CHUNK;
	wire_data_encode(&c->wire, job->message + c->body_pos, n, &out);
	c->body_pos += n;
	if (c->body_pos == job->message_len) {
		wire_data_finish(&c->wire, &out);
		c->state = CS_DOT;
	}
	bufferevent_write(c->bev, out.data, out.len);
	buf_free(&out);
	arm(c, c->state == CS_DOT ? c->config->delivery.dot_timeout
	                          : c->config->delivery.block_timeout);
}

static void start_body(struct smtp_conn *c)
{
	c->state = CS_BODY;
	c->body_pos = 0;
	wire_data_init(&c->wire);
	/* on_write refills whenever the output drains below this. */
	bufferevent_setwatermark(c->bev, EV_WRITE, BODY_CHUNK / 4, 0);
	send_body_part(c);
}

static enum rcpt_outcome outcome_of(int code)
{
	return code < 400 ? OUTCOME_DELIVERED : code < 500 ? OUTCOME_TEMP : OUTCOME_PERM;
}

static void set_from_reply(struct smtp_conn *c, size_t i, const struct smtp_reply *r)
{
	char dsn_buf[16], text[ERROR_MAX];
	char diag[ERROR_MAX + 8];
	describe_reply(r, text, sizeof(text));
	snprintf(diag, sizeof(diag), "smtp; %s", text);
	rcpt_result_set(&c->job->results[i], outcome_of(r->code),
	                reply_dsn(r, dsn_buf, sizeof(dsn_buf)), c->remote, diag);
}

/* The transaction is over; RSET if it ended early. */
static void end_transaction(struct smtp_conn *c, bool rset)
{
	finish_job(c, OUTCOME_TEMP, "4.0.0", "smtp; transaction ended without a reply");
	if (c->dead)
		return;
	if (rset) {
		c->state = CS_RSET;
		send_line(c, "RSET");
		arm(c, c->config->delivery.mail_timeout);
		return;
	}
	become_ready(c);
}

static void tx_reply(struct smtp_conn *c, const struct smtp_reply *r)
{
	struct mta_job *job = c->job;
	size_t n = job->rcpt_count;
	size_t i = c->reply_index++;
	bool ok = r->code >= 200 && r->code < 300;
	if (i == 0) {
		c->mail_ok = ok;
		if (!ok) {
			for (size_t k = 0; k < n; k++)
				set_from_reply(c, job->rcpts[k], r);
			if (!c->pipelining) {
				end_transaction(c, true);
				return;
			}
		} else if (!c->pipelining) {
			send_rcpt(c, 0);
		}
	} else if (i <= n) {
		size_t k = i - 1;
		if (c->mail_ok) {
			if (ok) {
				c->accepted[k] = true;
				c->accepted_count++;
			} else {
				set_from_reply(c, job->rcpts[k], r);
			}
		}
		if (!c->pipelining) {
			if (k + 1 < n) {
				send_rcpt(c, k + 1);
			} else if (c->accepted_count > 0) {
				send_line(c, "DATA");
			} else {
				end_transaction(c, true);
				return;
			}
		}
	} else {
		if (r->code == 354 && c->mail_ok && c->accepted_count > 0) {
			start_body(c);
			return;
		}
		if (r->code == 354) {
			/* DATA accepted with no recipient: the server broke RFC
			 * 2920 3.1; nothing sensible can follow. */
			session_failed(c, "354 to DATA without recipients from");
			return;
		}
		for (size_t k = 0; k < n; k++)
			if (c->accepted[k])
				set_from_reply(c, job->rcpts[k], r);
		end_transaction(c, true);
		return;
	}
	arm_for_reply(c, c->reply_index);
}

static void dot_reply(struct smtp_conn *c, const struct smtp_reply *r)
{
	struct mta_job *job = c->job;
	for (size_t k = 0; k < job->rcpt_count; k++) {
		if (!c->accepted[k])
			continue;
		size_t i = job->rcpts[k];
		set_from_reply(c, i, r);
		/* NOTIFY=SUCCESS to a server without DSN: we say "relayed". */
		job->results[i].relayed = r->code < 300 && !c->dsn &&
		                          (job->env->rcpts[i].notify & NOTIFY_SUCCESS);
		job->results[i].dsn_passed = r->code < 300 && c->dsn;
	}
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	end_transaction(c, false);
}

static void handle_reply(struct smtp_conn *c, const struct smtp_reply *r)
{
	bool ok = r->code >= 200 && r->code < 300;
	char text[ERROR_MAX];
	describe_reply(r, text, sizeof(text));
	evtimer_del(c->timer);
	switch (c->state) {
	case CS_GREETING:
		if (!ok) {
			address_failed(c, r->code >= 500, "greeting: %s", text);
			return;
		}
		send_ehlo(c);
		return;
	case CS_EHLO:
		if (ok) {
			parse_capabilities(c, r);
			after_ehlo(c);
			return;
		}
		if (c->tls_active) {
			address_failed(c, r->code >= 500, "EHLO after STARTTLS: %s",
			               text);
			return;
		}
		c->state = CS_HELO; /* RFC 5321 3.2 */
		send_line(c, "HELO %s", c->config->hostname);
		arm(c, c->config->delivery.helo_timeout);
		return;
	case CS_HELO:
		if (!ok) {
			address_failed(c, r->code >= 500, "HELO: %s", text);
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
			address_failed(c, false, "STARTTLS refused: %s", text);
			return;
		}
		log_in_or_up(c);
		return;
	case CS_AUTH:
		auth_reply(c, r, text);
		return;
	case CS_TX:
		tx_reply(c, r);
		return;
	case CS_DOT:
		dot_reply(c, r);
		return;
	case CS_RSET:
		if (!ok) {
			session_failed(c, "RSET refused by");
			return;
		}
		become_ready(c);
		return;
	case CS_QUIT:
		conn_close(c);
		return;
	default:
		/* Unsolicited (a 421 while idle, or talking during the body). */
		set_error(c, "smtp; unexpected %s", text);
		session_failed(c, "unexpected reply from");
		return;
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct smtp_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (!c->dead && c->bev == bev) {
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			return;
		const char *data = (const char *)evbuffer_pullup(in, (ssize_t)len);
		const char *error;
		int r = smtp_reply_feed(&c->parser, data, len, &error);
		if (r == 0) {
			evbuffer_drain(in, len);
			return;
		}
		if (r < 0) {
			char why[160];
			snprintf(why, sizeof(why), "malformed reply (%s) from", error);
			log_msg(L_WARN, "event=bad-reply relay=%s error=%s",
			        LOG_Q(c->remote), LOG_Q(error));
			if (c->state < CS_READY && c->first_job)
				address_failed(c, false, "malformed reply: %s", error);
			else
				session_failed(c, why);
			return;
		}
		evbuffer_drain(in, (size_t)r);
		struct smtp_reply reply = c->parser.reply;
		smtp_reply_parser_init(&c->parser);
		handle_reply(c, &reply);
	}
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct smtp_conn *c = arg;
	if (!c->dead && c->state == CS_BODY)
		send_body_part(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct smtp_conn *c = arg;
	if (c->dead)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->state == CS_HANDSHAKE) {
			tls_established(c);
			return;
		}
		c->state = CS_GREETING;
		arm(c, c->config->delivery.greeting_timeout);
		return;
	}
	if (c->state == CS_HANDSHAKE) {
		tls_failed(c);
		return;
	}
	if (c->state == CS_CONNECTING) {
		int e = EVUTIL_SOCKET_ERROR();
		address_failed(c, false, "connect: %s", e ? strerror(e) : "failed");
		return;
	}
	if (c->state == CS_QUIT) {
		conn_close(c);
		return;
	}
	session_failed(c, what & BEV_EVENT_EOF ? "lost connection with"
	                                       : "connection error with");
}

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
		conn_close(c);
		return;
	}
	if (c->state == CS_HANDSHAKE) {
		tls_failed(c);
		return;
	}
	char why[96];
	snprintf(why, sizeof(why), "timeout waiting for %s from", waiting[c->state]);
	if (c->state < CS_READY)
		address_failed(c, false, "timeout waiting for %s", waiting[c->state]);
	else
		session_failed(c, why);
}

static void become_ready(struct smtp_conn *c)
{
	c->state = CS_READY;
	if (c->messages >= c->config->delivery.reuse_messages) {
		smtp_conn_quit(c);
		return;
	}
	arm(c, c->config->delivery.idle_seconds);
	c->cb->idle(c, c->arg);
}

static void connect_next(struct smtp_conn *c)
{
	if (c->addr_index >= c->addr_count) {
		conn_close(c);
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
	c->state = CS_CONNECTING;
	int family = a->addr.ss_family;
	evutil_socket_t fd =
	    socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		address_failed(c, false, "socket: %s", strerror(errno));
		return;
	}
	const struct delivery_config *d = &c->config->delivery;
	const struct sockaddr_storage *source =
	    family == AF_INET6 ? &d->source6 : &d->source4;
	bool have = family == AF_INET6 ? d->have_source6 : d->have_source4;
	if (have && bind(fd, (const struct sockaddr *)source,
	                 family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                    : sizeof(struct sockaddr_in)) < 0) {
		int e = errno;
		close(fd);
		address_failed(c, false, "bind to source address: %s", strerror(e));
		return;
	}
	c->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, INPUT_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	arm(c, d->connect_timeout);
	if (bufferevent_socket_connect(c->bev, (const struct sockaddr *)&a->addr,
	                               (int)a->addr_len) < 0) {
		address_failed(c, false, "connect: %s", strerror(errno));
		return;
	}
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
                                 SSL_CTX *ssl_ctx, const struct route_auth *auth,
                                 const struct mta_address *addrs, size_t addr_count,
                                 struct mta_job *first_job,
                                 const struct smtp_conn_callbacks *callbacks, void *arg)
{
	struct smtp_conn *c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->config = config;
	c->ssl_ctx = ssl_ctx;
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
	if (c->dead || c->bev == NULL)
		return;
	c->state = CS_QUIT;
	send_line(c, "QUIT");
	arm(c, QUIT_SECONDS);
}

void smtp_conn_abort(struct smtp_conn *c)
{
	if (c->dead)
		return;
	set_error(c, "x-petrel; delivery interrupted");
	conn_close(c);
}
