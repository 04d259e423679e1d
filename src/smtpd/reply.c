/*
 * reply.c — replies to the client, the error counter, and the Received
 * header (RFC 5321 4.4, RFC 3848 protocol names).
 */
#include "smtpd/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "lib/date.h"
#include "lib/event.h"

uint64_t now_usec(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static void vreply(struct session *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

void reply_command_started(struct session *s, const char *command)
{
	s->command = command;
	s->command_usec = now_usec();
	s->command_path[0] = '\0';
	s->refused_by = NULL;
}

/* Postfix's "NOQUEUE: reject" line: who was refused what, and why, at
 * info. AUTH and the end of data have their own events (auth,
 * message-refused) that say it already. */
static void log_refusal(const struct session *s, const char *line)
{
	if (strcmp(s->command, "AUTH") == 0 || strcmp(s->command, "end-of-data") == 0)
		return;
	bool mail = strcmp(s->command, "MAIL") == 0;
	bool rcpt = strcmp(s->command, "RCPT") == 0;
	const char *sender = s->tx.env.sender ? s->tx.env.sender
	                     : mail           ? s->command_path
	                                      : NULL;
	struct buf text = BUF_INIT;
	buf_appendf(&text, "event=reject session=%s client=%s", s->log_id, s->peer_ip);
	if (s->helo)
		buf_appendf(&text, " helo=%s", LOG_Q(s->helo));
	if (s->auth_user)
		buf_appendf(&text, " user=%s", LOG_Q(s->auth_user));
	if (sender)
		buf_appendf(&text, " sender=%s", LOG_Q(sender));
	if (rcpt)
		buf_appendf(&text, " rcpt=%s", LOG_Q(s->command_path));
	buf_appendf(&text, " command=%s code=%.3s reason=%s", s->command, line,
	            LOG_Q(line[3] ? line + 4 : ""));
	if (s->refused_by)
		buf_appendf(&text, " hook=%s", LOG_Q(s->refused_by));
	log_msg(L_INFO, "%s", text.data);
	buf_free(&text);
}

/* A final reply line ("250 ", not "250-") ends the command: one event,
 * logged at debug, counted by verb and reply class, timed; a refusal is
 * logged at info too. */
static void command_replied(struct session *s, const char *head)
{
	if ((head[0] == '4' || head[0] == '5') && log_enabled(L_INFO))
		log_refusal(s, head);
	static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
	char code[4] = {head[0], head[1], head[2], '\0'};
	const char *reply_class =
	    head[0] >= '1' && head[0] <= '5' ? classes[head[0] - '1'] : "other";
	EVENT(L_DEBUG, &event_command, EV_WORD("session", s->log_id),
	      EV_WORD("command", s->command), EV_WORD("reply", code),
	      EV_SECONDS("duration", (double)(now_usec() - s->command_usec) / 1e6),
	      EV_LABEL("verb", s->command), EV_LABEL("reply_class", reply_class));
	s->command = NULL;
}

static void vreply(struct session *s, const char *fmt, va_list ap)
{
	char line[1024];
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(line, sizeof(line), fmt, copy);
	va_end(copy);
	if (n >= 0 && (size_t)n < sizeof(line))
		conn_write(s->conn, line, (size_t)n);
	else
		conn_vprintf(s->conn, fmt, ap); /* longer than any reply we make */
	conn_write(s->conn, "\r\n", 2);
	if (log_enabled(L_DEBUG))
		log_msg(L_DEBUG, "event=smtp-out session=%s line=%s", s->log_id,
		        log_quote(line, n >= 0 && (size_t)n < sizeof(line)
		                            ? (size_t)n
		                            : sizeof(line) - 1));
	if (s->command && n >= 3 && (line[3] == ' ' || line[3] == '\0'))
		command_replied(s, line);
}

void reply(struct session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
}

void reply_per_rcpt(struct session *s, const char *fmt, ...)
{
	/* RFC 2033 4.2: after the data, LMTP answers once for each
	 * recipient accepted, in order; they share the spool's fate here. */
	unsigned count = s->listener->protocol == PROTO_LMTP && s->tx.rcpt_accepted
	                     ? s->tx.rcpt_accepted
	                     : 1;
	for (unsigned i = 0; i < count; i++) {
		va_list ap;
		va_start(ap, fmt);
		vreply(s, fmt, ap);
		va_end(ap);
	}
}

void reply_error(struct session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
	s->errors++;
	if (s->errors >= s->limits->errors) {
		log_msg(L_WARN, "event=too-many-errors session=%s client=%s errors=%u",
		        s->log_id, s->peer_ip, s->errors);
		session_transaction_reset(s);
		session_close_after(s, "421 4.7.0 Too many errors, closing connection");
	}
}

void reply_received_header(struct session *s, struct buf *out)
{
	const struct envelope *env = &s->tx.env;
	/* RFC 3848: SMTP, ESMTP, ESMTPS (TLS), UTF8SMTP variants. */
	const char *protocol = !s->esmtp ? "SMTP"
	                       : env->smtputf8
	                           ? (s->tls_active ? "UTF8SMTPS" : "UTF8SMTP")
	                       : s->tls_active ? "ESMTPS"
	                                       : "ESMTP";
	char date[64];
	date_rfc5322((int64_t)time(NULL), date, sizeof(date));
	/* The HELO name was validated as a hostname or address literal in
	 * commands.c, so it cannot break out of this header. */
	buf_appendf(out, "Received: from %s ([%s])\r\n\tby %s (petrel) with %s id %s",
	            s->helo ? s->helo : "unknown", s->peer_ip,
	            s->server->config->hostname, protocol, env->id);
	if (s->tls_active)
		buf_appendf(out, "\r\n\t(using %s)", s->tls_info);
	if (s->cert.verified) {
		/* Subject (RFC 2253, printable ASCII) with the comment's own
		 * specials escaped (RFC 5322 3.2.2). */
		buf_append_str(out, "\r\n\t(client certificate verified: ");
		for (const char *p = s->cert.subject; *p; p++) {
			if (*p == '(' || *p == ')' || *p == '\\')
				buf_append_char(out, '\\');
			buf_append_char(out, *p);
		}
		buf_appendf(out, " sha256 %s)", s->cert.fingerprint);
	}
	if (s->auth_user)
		buf_appendf(out, "\r\n\t(Authenticated sender: %s)", s->auth_user);
	if (env->rcpt_count == 1)
		buf_appendf(out, "\r\n\tfor <%s>", env->rcpts[0].address);
	buf_appendf(out, ";\r\n\t%s\r\n", date);
}
