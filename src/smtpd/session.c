/*
 * session.c — the I/O side of an SMTP session: connection set-up, the
 * banner, reading command lines, DATA and BDAT octets, STARTTLS, time-outs
 * and tear-down. What each command means lives in commands.c.
 *
 * The connection layer (net/conn.h) does the I/O: TLS, line limits,
 * deadlines, back-pressure. Input is processed in a loop that stops
 * whenever the session must wait: for the spool commit, a lookup, the
 * STARTTLS handshake, or a client that does not read its replies.
 * Pipelined input simply waits in the connection until then.
 */
#include "smtpd/session.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/xalloc.h"
#include "net/tls.h"
#include "service/sessions.h"

/* A client that sends but never reads may not grow our output forever. */
#define OUTPUT_HIGH_WATER (256 * 1024)
/* Input read ahead of processing is bounded too. */
#define INPUT_MAX (64 * 1024)
/* How long the last reply of a timed-out session may take to leave. */
#define CLOSING_GRACE_SECONDS 30

static void process_input(struct session *s);

static void set_timeouts(struct session *s)
{
	const struct limits_config *l = s->limits;
	bool data = s->state == STATE_DATA || s->state == STATE_BDAT;
	conn_set_idle_timeout(s->conn, data ? l->data_timeout : l->idle_timeout);
}

/* A TLS connection for this session, asking for a client certificate
 * when its listener does. */
static SSL *new_ssl(struct session *s)
{
	return tls_server_ssl(s->server->tls, s->listener->client_certificates);
}

static void log_client_cert(struct session *s)
{
	const struct client_cert *c = &s->cert;
	if (!c->present)
		return;
	log_msg(
	    L_INFO,
	    "event=client-certificate session=%s client=%s verified=%s%s%s subject=%s "
	    "issuer=%s san_email=%s sha256=%s not_after=%s",
	    s->log_id, s->peer_ip, c->verified ? "yes" : "no",
	    c->verified ? "" : " error=", c->verified ? "" : LOG_Q(c->verify_error),
	    LOG_Q(c->subject), LOG_Q(c->issuer),
	    LOG_Q(c->san_email[0] ? c->san_email : "-"), c->fingerprint, c->not_after);
}

static void banner_proceed(struct session *s, void *data)
{
	(void)data;
	s->state = STATE_CONNECTED;
	reply(s, "220 %s %s petrel", s->server->config->hostname,
	      s->listener->protocol == PROTO_LMTP ? "LMTP" : "ESMTP");
	process_input(s);
}

/* The CONNECT stage's hooks decide whether the client gets a banner. */
static void send_banner(struct session *s)
{
	session_hook(s, SMTP_STAGE_CONNECT, s->peer_ip, banner_proceed, NULL, NULL, NULL);
}

static void greeting_delay_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	send_banner(s);
}

/* --- connection events --------------------------------------------------- */

static void on_input(struct conn *c, void *arg)
{
	(void)c;
	process_input(arg);
}

static void on_tls_up(struct conn *c, void *arg)
{
	struct session *s = arg;
	const struct conn_info *info = conn_info(c);
	s->tls_active = true;
	snprintf(s->tls_info, sizeof(s->tls_info), "%s", info->tls_description);
	log_msg(L_INFO, "event=tls-established session=%s client=%s tls=%s", s->log_id,
	        s->peer_ip, LOG_Q(s->tls_info));
	if (info->cert)
		s->cert = *info->cert;
	log_client_cert(s);
	/* RFC 3207 4.2: after the handshake the client starts afresh, a
	 * login made in the clear included. */
	free(s->helo);
	s->helo = NULL;
	free(s->auth_user);
	s->auth_user = NULL;
	s->esmtp = false;
	if (s->listener->tls == TLS_IMPLICIT)
		send_banner(s);
	else
		s->state = STATE_CONNECTED; /* input follows from the layer */
}

static void on_timeout(struct conn *c, void *arg, enum conn_end which)
{
	(void)which;
	struct session *s = arg;
	log_msg(L_INFO, "event=timeout session=%s client=%s state=%d", s->log_id,
	        s->peer_ip, s->state);
	session_transaction_reset(s);
	session_close_after(s, "421 4.4.2 Error: timeout exceeded");
	/* The 421 gets a while to leave; a client that never reads it is
	 * then cut off. */
	conn_set_idle_timeout(c, CLOSING_GRACE_SECONDS);
}

static void on_end(struct conn *c, void *arg, enum conn_end why)
{
	struct session *s = arg;
	const struct conn_info *info = conn_info(c);
	const char *reason;
	switch (why) {
	case CONN_END_CLOSED:
		reason = "closed";
		break;
	case CONN_END_IDLE:
	case CONN_END_DEADLINE:
		reason = s->state == STATE_CLOSING ? "timeout writing" : "timeout";
		break;
	case CONN_END_TLS:
		reason = s->listener->tls == TLS_IMPLICIT && !s->tls_active
		             ? "TLS handshake failed"
		             : "STARTTLS handshake failed";
		if (s->tls_active)
			reason = "TLS error";
		break;
	case CONN_END_EOF:
		reason = "client closed";
		break;
	default:
		reason = "connection error";
		break;
	}
	session_log_tls_error(info, s->log_id, s->peer_ip);
	session_destroy(s, reason);
}

static const struct conn_handlers session_handlers = {
    .input = on_input,
    .tls_up = on_tls_up,
    .timeout = on_timeout,
    .end = on_end,
};

/* --- life cycle ---------------------------------------------------------- */

void session_start(struct smtpd *server, struct worker_listener *accepted_on,
                   evutil_socket_t fd, const struct sockaddr *peer, int peer_len)
{
	const struct listen_config *listener = accepted_on->config;
	const struct limits_config *l = &listener->limits;
	char ip[INET6_ADDRSTRLEN];
	sockaddr_ip(peer, ip, sizeof(ip));
	static const struct worker_refusals refusals = {
	    "421 4.3.2 Service shutting down\r\n",
	    "421 4.3.2 Too many connections, try again later\r\n",
	    "421 4.7.0 Too many connections from your address\r\n", 10};
	if (!worker_admit(accepted_on, fd, peer, listen_protocol_name(listener->protocol),
	                  &refusals))
		return;
	/* From here on the session holds its per-IP count until destroyed. */
	struct session *s = xcalloc(1, sizeof(*s));
	s->server = server;
	s->accepted_on = accepted_on;
	s->listener = listener;
	s->limits = &listener->limits;
	memcpy(&s->peer, peer, (size_t)peer_len);
	memcpy(s->peer_ip, ip, sizeof(ip));
	s->relay_allowed = config_in_relay_networks(server->config, peer);
	s->connect_usec = now_usec();
	session_log_id(s->log_id, s->connect_usec, fd);
	s->next = server->sessions;
	if (server->sessions)
		server->sessions->prev = s;
	server->sessions = s;
	server->session_count++;
	worker_connection_opened(accepted_on);
	session_log_connect(s->log_id, ip, listener,
	                    listen_protocol_name(listener->protocol));

	s->state = STATE_GREETING;
	struct conn_settings settings = {
	    .idle_seconds = l->idle_timeout,
	    .input_max = INPUT_MAX,
	    .output_high_water = OUTPUT_HIGH_WATER,
	};
	bool implicit = listener->tls == TLS_IMPLICIT;
	s->conn =
	    conn_accept(server->base, fd, peer, (socklen_t)peer_len,
	                implicit ? new_ssl(s) : NULL, &settings, &session_handlers, s);
	if (implicit)
		return; /* the banner follows the handshake (on_tls_up) */
	if (l->greeting_delay_ms > 0) {
		s->greeting_timer = evtimer_new(server->base, greeting_delay_over, s);
		struct timeval tv = {l->greeting_delay_ms / 1000,
		                     (l->greeting_delay_ms % 1000) * 1000};
		evtimer_add(s->greeting_timer, &tv);
		return;
	}
	/* A client that talks before our banner is not speaking SMTP
	 * (RFC 5321 4.3.1). */
	if (conn_peer_spoke(s->conn)) {
		session_close_after(
		    s, "554 5.5.0 SMTP synchronization error: input before greeting");
		return;
	}
	send_banner(s);
}

void session_transaction_reset(struct session *s)
{
	struct transaction *tx = &s->tx;
	spool_stream_abort(&tx->stream); /* what was written goes */
	envelope_clear(&tx->env);
	buf_free(&tx->header);
	buf_free(&tx->discard);
	memset(tx, 0, sizeof(*tx));
	if (s->state == STATE_MAIL || s->state == STATE_RCPT || s->state == STATE_DATA ||
	    s->state == STATE_BDAT || s->state == STATE_SPOOLING)
		s->state = STATE_GREETED;
}

void session_destroy(struct session *s, const char *reason)
{
	struct smtpd *server = s->server;
	/* "TLSv1.3 TLS_AES_256_GCM_SHA384": the version labels the session. */
	char tls_version[16] = "none";
	if (s->tls_active)
		snprintf(tls_version, sizeof(tls_version), "%.*s",
		         (int)strcspn(s->tls_info, " "), s->tls_info);
	EVENT(L_INFO, &event_disconnect, EV_WORD("session", s->log_id),
	      EV_TEXT("client", s->peer_ip), EV_TEXT("reason", reason),
	      EV_UINT("messages", s->messages), EV_UINT("errors", s->errors),
	      EV_LABEL("protocol", listen_protocol_name(s->listener->protocol)),
	      EV_LABEL("tls_version", tls_version));
	if (s->commit)
		spool_stream_disown(s->commit); /* the commit finishes without us */
	session_hook_cancel(s); /* a hook still deciding answers to no one */
	message_clear(&s->message);
	if (s->pending)
		s->pending->owner = NULL; /* so does a lookup */
	session_abandon_exchange(s);
	if (s->delay_timer)
		event_free(s->delay_timer);
	if (s->greeting_timer)
		event_free(s->greeting_timer);
	conn_free(&s->conn);
	worker_ip_release(s->accepted_on, (struct sockaddr *)&s->peer);
	session_transaction_reset(s);
	free(s->helo);
	free(s->auth_user);
	if (s->prev)
		s->prev->next = s->next;
	else
		server->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	server->session_count--;
	struct worker_listener *accepted_on = s->accepted_on;
	free(s);
	worker_connection_closed(accepted_on); /* last: a stopping worker may exit */
}

void session_close_after(struct session *s, const char *last_reply)
{
	if (s->greeting_timer)
		evtimer_del(s->greeting_timer);
	reply(s, "%s", last_reply);
	s->state = STATE_CLOSING;
	/* The layer ends the connection once the reply is out; a client that
	 * never reads it is cut off by the idle deadline. */
	conn_close_after_flush(s->conn);
}

void session_shutdown(struct session *s)
{
	/* Between commands a session can go now; in the middle of a message
	 * or a commit it finishes first (smtpd.c enforces a deadline). */
	if (s->state == STATE_DATA || s->state == STATE_BDAT ||
	    s->state == STATE_SPOOLING || s->state == STATE_CLOSING ||
	    s->state == STATE_TLS_PENDING)
		return;
	session_close_after(s, "421 4.3.2 Service shutting down, try again later");
}

void session_start_tls(struct session *s)
{
	reply(s, "220 2.0.0 Ready to start TLS");
	s->state = STATE_TLS_PENDING;
	/* CVE-2011-0411: anything pipelined after STARTTLS was sent in the
	 * clear and must never be read as if it came through TLS; the layer
	 * discards it. */
	size_t injected = conn_starttls(s->conn, new_ssl(s));
	if (injected > 0)
		log_msg(L_WARN,
		        "event=starttls-injection session=%s client=%s discarded=%zu",
		        s->log_id, s->peer_ip, injected);
}

/* --- DATA and BDAT ------------------------------------------------------- */

/* The spool writer has caught up: input may go on. */
static void stream_ready(void *owner)
{
	struct session *s = owner;
	if (s->tx.stage_waits_for_disk) {
		commands_data_stage(s);
		return;
	}
	if (!s->tx.disk_wait)
		return;
	s->tx.disk_wait = false;
	session_resume(s);
}

static void open_stream(struct session *s)
{
	struct transaction *tx = &s->tx;
	const struct limits_config *l = s->limits;
	tx->stream = spool_stream_open(s->server->writer, stream_ready, s);
	rfc5322_scan_init(&tx->scan, l->header_size, l->header_fields);
}

/* Where the next octets of the message go: the spool, or nowhere once
 * the message is refused (too big) but must still be read to its end. */
static struct buf *message_buffer(struct session *s)
{
	struct transaction *tx = &s->tx;
	if (tx->stream)
		return spool_stream_buffer(tx->stream);
	buf_reset(&tx->discard);
	return &tx->discard;
}

/* Octets of the message just appended at data[0..len): kept in memory
 * as long as they may be header, and counted against the size limit. */
static void message_octets(struct session *s, const char *data, size_t len)
{
	struct transaction *tx = &s->tx;
	const struct limits_config *l = s->limits;
	tx->size += len;
	if (!tx->header_done && !tx->too_big) {
		/* One octet past the limit is enough to tell it is over. */
		size_t room = l->header_size + 1 > tx->header.len
		                  ? l->header_size + 1 - tx->header.len
		                  : 0;
		buf_append(&tx->header, data, len < room ? len : room);
		size_t end;
		const char *error;
		int r = rfc5322_scan(&tx->scan, tx->header.data, tx->header.len, &end,
		                     &error);
		if (r != 0) {
			tx->header_done = true;
			if (r > 0) {
				buf_truncate(&tx->header, end);
			} else {
				tx->header_error = error;
				buf_free(&tx->header);
			}
		}
	}
	if (tx->size > l->message_size && !tx->too_big) {
		tx->too_big = true;
		spool_stream_abort(&tx->stream);
		buf_free(&tx->header);
	}
}

/* A full buffer goes to disk; false when the disk is behind and input
 * must wait (stream_ready resumes it). */
static bool flush_stream(struct session *s)
{
	struct transaction *tx = &s->tx;
	if (tx->stream == NULL || spool_stream_flush(tx->stream))
		return true;
	tx->disk_wait = true;
	return false;
}

void session_begin_data(struct session *s)
{
	s->state = STATE_DATA;
	smtp_data_init(&s->tx.data, s->limits->text_line);
	open_stream(s);
	set_timeouts(s);
}

static void finish_bdat_chunk(struct session *s);

void session_begin_bdat(struct session *s, uint64_t size, bool last, const char *error)
{
	struct transaction *tx = &s->tx;
	tx->bdat_remaining = size;
	tx->bdat_last = last;
	tx->bdat_error = error;
	if (!error && !tx->bdat_started) {
		smtp_data_init(&tx->data, s->limits->text_line);
		open_stream(s);
	}
	if (!error && tx->size + size > s->limits->message_size) {
		tx->too_big = true;
		spool_stream_abort(&tx->stream);
	}
	s->bdat_return_state = s->state;
	s->state = STATE_BDAT;
	set_timeouts(s);
	if (size == 0)
		finish_bdat_chunk(s);
}

static void finish_bdat_chunk(struct session *s)
{
	struct transaction *tx = &s->tx;
	s->state = s->bdat_return_state;
	set_timeouts(s);
	if (tx->bdat_error) {
		const char *error = tx->bdat_error;
		tx->bdat_error = NULL;
		reply_error(s, "%s", error);
		return;
	}
	if (tx->too_big) {
		session_transaction_reset(s);
		reply_error(s,
		            "552 5.3.4 Message size exceeds fixed limit of %llu octets",
		            (unsigned long long)s->limits->message_size);
		return;
	}
	tx->bdat_started = true;
	if (!tx->bdat_last) {
		reply(s, "250 2.0.0 Ok: %llu octets received",
		      (unsigned long long)tx->size);
		return;
	}
	smtp_data_check_end(&tx->data);
	commands_message_complete(s);
}

/* Consumes BDAT chunk octets; returns false when more input is needed
 * (or the disk is behind). */
static bool read_bdat(struct session *s)
{
	struct transaction *tx = &s->tx;
	size_t avail = conn_input_length(s->conn);
	size_t n = avail < tx->bdat_remaining ? avail : (size_t)tx->bdat_remaining;
	if (tx->bdat_error || tx->too_big) {
		conn_drain(s->conn, n);
	} else {
		struct buf *out = message_buffer(s);
		buf_reserve(out, n + 1);
		char *start = out->data + out->len;
		conn_read(s->conn, start, n);
		smtp_data_check(&tx->data, start, n);
		out->len += n;
		message_octets(s, start, n);
	}
	tx->bdat_remaining -= n;
	if (tx->bdat_remaining > 0) {
		flush_stream(s);
		return false;
	}
	if (tx->bdat_last) {
		finish_bdat_chunk(s);
		return true;
	}
	bool go_on = flush_stream(s);
	finish_bdat_chunk(s);
	return go_on;
}

/* Feeds DATA octets to the end detector; returns false if more needed
 * (or the disk is behind). */
static bool read_data(struct session *s)
{
	struct transaction *tx = &s->tx;
	struct iovec vec[16];
	int count = conn_peek(s->conn, vec, 16);
	size_t drained = 0;
	bool ended = false;
	for (int i = 0; i < count && !ended; i++) {
		struct buf *out = message_buffer(s);
		buf_reserve(out, vec[i].iov_len + 1);
		char *start = out->data + out->len;
		size_t out_len;
		size_t used = smtp_data_feed(&tx->data, vec[i].iov_base, vec[i].iov_len,
		                             start, &out_len);
		out->len += out_len;
		message_octets(s, start, out_len);
		ended = used > 0;
		drained += ended ? used : vec[i].iov_len;
	}
	conn_drain(s->conn, drained);
	if (ended) {
		commands_message_complete(s);
		return true;
	}
	if (!flush_stream(s))
		return false;
	return conn_input_length(s->conn) > 0; /* more spans than peeked */
}

/* --- commands ------------------------------------------------------------ */

/* RFC 4954 4: SASL lines, and an AUTH command with its initial
 * response, may be longer than other commands. */
static size_t line_limit(struct session *s)
{
	const struct limits_config *l = s->limits;
	size_t auth = (size_t)l->auth_line + 2;
	if (s->state == STATE_AUTH)
		return auth;
	char head[5];
	if (conn_input_copy(s->conn, head, 5) == 5 && strncasecmp(head, "AUTH ", 5) == 0)
		return auth > l->command_line ? auth : l->command_line;
	return l->command_line;
}

/* log.level debug: the session's transcript, one line each way (reply.c
 * writes the server's). Credentials never reach the log: an AUTH
 * command keeps its mechanism only, and a SASL response is not shown. */
static void log_client_line(const struct session *s, const char *line, size_t len,
                            bool sasl_response)
{
	size_t shown = len;
	const char *redacted = "";
	if (sasl_response) {
		shown = 0;
		redacted = "(SASL response, not shown)";
	} else if (len > 5 && strncasecmp(line, "AUTH ", 5) == 0) {
		shown = 5 + strcspn(line + 5, " ");
		redacted = shown < len ? " (initial response, not shown)" : "";
	}
	struct buf text = BUF_INIT;
	buf_append(&text, line, shown);
	buf_append_str(&text, redacted);
	log_msg(L_DEBUG, "event=smtp-in session=%s line=%s", s->log_id,
	        log_quote(text.data, text.len));
	buf_free(&text);
}

/* Reads one command line; returns false when more input is needed. */
static bool read_command(struct session *s)
{
	size_t command_limit = s->limits->command_line;
	char *line;
	size_t len;
	int r = conn_read_line(s->conn, line_limit(s), &line, &len);
	if (r == 0)
		return false;
	if (r < 0) {
		/* len: the limit the line broke, which says what it was. */
		if (s->state == STATE_AUTH || len > command_limit)
			auth_response(s, NULL, 0); /* too long: ends the exchange */
		else
			reply_error(s, "500 5.5.2 Line too long (limit %zu octets)", len);
		return true;
	}
	bool auth_line = s->state == STATE_AUTH;
	if (log_enabled(L_DEBUG))
		log_client_line(s, line, len, auth_line);
	if (auth_line)
		auth_response(s, line, len);
	else
		commands_dispatch(s, line, len);
	if (auth_line || (len > 5 && strncasecmp(line, "AUTH ", 5) == 0))
		OPENSSL_cleanse(line, len); /* credentials do not linger */
	return true;
}

static void process_input(struct session *s)
{
	for (;;) {
		if (!conn_readable(s->conn) || session_paused(s))
			return; /* the layer, the lookup or the delay resumes */
		if (conn_input_length(s->conn) == 0)
			return;
		bool progressed;
		switch (s->state) {
		case STATE_SPOOLING:
		case STATE_TLS_PENDING:
		case STATE_CLOSING:
			return;
		case STATE_GREETING:
			/* Only during a greeting delay: TLS input comes after
			 * the banner. */
			session_close_after(s, "554 5.5.0 SMTP synchronization error: "
			                       "input before greeting");
			return;
		case STATE_DATA:
			progressed = read_data(s);
			break;
		case STATE_BDAT:
			progressed = read_bdat(s);
			break;
		default:
			progressed = read_command(s);
			break;
		}
		if (!progressed)
			return;
	}
}

bool session_paused(const struct session *s)
{
	return s->pending != NULL || s->tx.disk_wait || s->hook_call != NULL ||
	       (s->delay_timer && evtimer_pending(s->delay_timer, NULL));
}

/* Reading again after a pause (spool commit done, a lookup answered). */
void session_resume(struct session *s)
{
	if (s->state == STATE_CLOSING || s->state == STATE_TLS_PENDING ||
	    session_paused(s))
		return;
	conn_resume(s->conn);
}
