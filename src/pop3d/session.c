/*
 * session.c — one POP3 session: the connection's events, the input loop
 * (one line, one command, through the pure parser proto/pop3_cmd.h), the
 * replies. A RETR that the client reads slowly pauses the loop, so
 * pipelined commands (RFC 2449 PIPELINING) run in order.
 */
#include "pop3d/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/xalloc.h"
#include "net/tls.h"
#include "service/sessions.h"

#define INPUT_MAX         (16 * 1024)
#define OUTPUT_HIGH_WATER (256 * 1024)
#define OUTPUT_LOW_WATER  (64 * 1024)
#define SASL_LINE_MAX     12288

static void process_input(struct pop3_session *s);

static uint64_t now_usec(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

void pop3_write(struct pop3_session *s, const void *data, size_t len)
{
	if (s->conn)
		conn_write(s->conn, data, len);
}

void pop3_printf(struct pop3_session *s, const char *fmt, ...)
{
	if (s->conn == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	conn_vprintf(s->conn, fmt, ap);
	va_end(ap);
}

void pop3_reply(struct pop3_session *s, bool ok, const char *fmt, ...)
{
	if (s->conn == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	conn_write(s->conn, ok ? "+OK " : "-ERR ", ok ? 4 : 5);
	conn_vprintf(s->conn, fmt, ap);
	conn_write(s->conn, "\r\n", 2);
	va_end(ap);
	if (!ok)
		s->errors++;
	if (s->command) {
		/* command is one of the table's names (or "-"): ours, never
		 * the peer's, so it may label a metric */
		double seconds = (double)(now_usec() - s->command_usec) / 1e6;
		EVENT(ok ? L_DEBUG : L_INFO, &event_pop3_command,
		      EV_WORD("session", s->log_id),
		      EV_TEXT("user", s->user ? s->user : "-"),
		      EV_WORD("command", s->command),
		      EV_WORD("result", ok ? "ok" : "err"),
		      EV_SECONDS("duration", seconds));
	}
	s->command = NULL;
}

void pop3_close_after(struct pop3_session *s, bool ok, const char *text)
{
	if (s->closing || s->conn == NULL)
		return;
	pop3_reply(s, ok, "%s", text);
	s->closing = true;
	conn_close_after_flush(s->conn);
	conn_set_idle_timeout(s->conn, 30);
}

bool pop3_login_permitted(const struct pop3_session *s)
{
	if (s->tls_active)
		return true;
	return s->server->config->auth.plaintext_loopback &&
	       sockaddr_is_loopback((const struct sockaddr *)&s->peer);
}

void pop3_resume(struct pop3_session *s)
{
	if (s->conn)
		conn_resume(s->conn);
}

static bool read_line(struct pop3_session *s)
{
	char *line;
	size_t len;
	bool sasl = s->sasl && sasl_session_wants_line(s->sasl);
	int r =
	    conn_read_line(s->conn, sasl ? SASL_LINE_MAX : POP3_LINE_MAX, &line, &len);
	if (r == 0)
		return false;
	s->command_usec = now_usec();
	if (sasl) {
		s->command = "AUTH";
		pop3_sasl_line(s, r < 0 ? NULL : line, len);
		return true;
	}
	struct pop3_cmd cmd;
	const char *error;
	if (r < 0) {
		s->command = "-";
		pop3_reply(s, false, "Line too long");
	} else if (pop3_cmd_parse(line, len, &cmd, &error) < 0) {
		s->command = "-";
		pop3_reply(s, false, "%s", error);
	} else {
		pop3_dispatch(s, &cmd);
	}
	if (s->errors >= s->listener->limits.errors)
		pop3_close_after(s, false, "Too many errors");
	return true;
}

static void process_input(struct pop3_session *s)
{
	while (s->conn && !s->closing && !s->tls_pending && conn_readable(s->conn)) {
		if (s->transfer) {
			if (!pop3_transfer_resume(s))
				return;
			pop3_transfer_free(s);
			continue;
		}
		if (s->sasl_pending ||
		    (s->delay_timer && evtimer_pending(s->delay_timer, NULL)))
			return;
		if (!read_line(s))
			return;
	}
}

static void on_input(struct conn *conn, void *arg)
{
	(void)conn;
	process_input(arg);
}

static void on_output_low(struct conn *conn, void *arg)
{
	(void)conn;
	struct pop3_session *s = arg;
	if (s->transfer)
		process_input(s);
}

static void greet(struct pop3_session *s)
{
	pop3_printf(s, "+OK petrel POP3 ready\r\n");
}

static void on_tls_up(struct conn *conn, void *arg)
{
	struct pop3_session *s = arg;
	const struct conn_info *info = conn_info(conn);
	s->tls_active = true;
	s->tls_pending = false;
	if (info->cert)
		s->cert = *info->cert;
	log_msg(L_INFO, "event=tls-established session=%s client=%s tls=%s", s->log_id,
	        s->peer_ip, LOG_Q(info->tls_description));
	if (s->listener->tls == TLS_IMPLICIT)
		greet(s);
	process_input(s);
}

static void on_timeout(struct conn *conn, void *arg, enum conn_end which)
{
	(void)which;
	(void)conn;
	struct pop3_session *s = arg;
	if (s->closing) {
		pop3_session_destroy(s, "timeout writing");
		return;
	}
	/* RFC 1939 3: an autologout never enters UPDATE: nothing deleted. */
	pop3_close_after(s, false, "Autologout: idle for too long");
}

static void on_end(struct conn *conn, void *arg, enum conn_end why)
{
	struct pop3_session *s = arg;
	session_log_tls_error(conn_info(conn), s->log_id, s->peer_ip);
	pop3_session_destroy(
	    s, session_end_reason(why, s->state == POP3_STATE_UPDATE ? "quit" : "closed",
	                          s->tls_active));
}

static const struct conn_handlers handlers = {
    .input = on_input,
    .tls_up = on_tls_up,
    .output_low = on_output_low,
    .timeout = on_timeout,
    .end = on_end,
};

void pop3_session_start(struct pop3d *server, struct worker_listener *accepted_on, int fd,
                        const struct sockaddr *peer, socklen_t peer_len)
{
	const struct listen_config *listener = accepted_on->config;
	const struct limits_config *l = &listener->limits;
	char ip[INET6_ADDRSTRLEN];
	sockaddr_ip(peer, ip, sizeof(ip));
	static const struct worker_refusals refusals = {
	    "-ERR [SYS/TEMP] Server shutting down\r\n",
	    "-ERR [SYS/TEMP] Too many connections, try again later\r\n",
	    "-ERR [SYS/TEMP] Too many connections from your address\r\n", 16};
	if (!worker_admit(accepted_on, fd, peer, "pop3", &refusals))
		return;
	struct pop3_session *s = xcalloc(1, sizeof(*s));
	s->server = server;
	s->accepted_on = accepted_on;
	s->listener = listener;
	s->lock_fd = -1;
	memcpy(&s->peer, peer, peer_len);
	memcpy(s->peer_ip, ip, sizeof(ip));
	session_log_id(s->log_id, now_usec(), fd);
	s->next = server->sessions;
	if (server->sessions)
		server->sessions->prev = s;
	server->sessions = s;
	worker_connection_opened(accepted_on);
	session_log_connect(s->log_id, ip, listener, "pop3");
	struct conn_settings settings = {
	    .idle_seconds = l->idle_timeout,
	    .input_max = INPUT_MAX,
	    .output_high_water = OUTPUT_HIGH_WATER,
	    .output_low_water = OUTPUT_LOW_WATER,
	};
	s->conn = session_conn_accept(server->base, server->tls, listener, fd, peer,
	                              peer_len, &settings, &handlers, s);
	if (listener->tls != TLS_IMPLICIT)
		greet(s);
}

void pop3_session_destroy(struct pop3_session *s, const char *reason)
{
	struct pop3d *server = s->server;
	session_log_disconnect(s->log_id, s->peer_ip, s->user, reason, s->errors,
	                       s->conn ? conn_info(s->conn) : NULL, s->tls_active,
	                       "pop3");
	pop3_transfer_free(s);
	sasl_session_free(&s->sasl);
	if (s->delay_timer)
		event_free(s->delay_timer);
	pop3_maildrop_close(s);
	conn_free(&s->conn);
	worker_ip_release(s->accepted_on, (struct sockaddr *)&s->peer);
	free(s->user_name);
	free(s->user);
	if (s->prev)
		s->prev->next = s->next;
	else
		server->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	struct worker_listener *accepted_on = s->accepted_on;
	free(s);
	worker_connection_closed(accepted_on);
}

void pop3_session_shutdown(struct pop3_session *s)
{
	if (s->transfer == NULL)
		pop3_close_after(s, false, "[SYS/TEMP] Server shutting down");
}
