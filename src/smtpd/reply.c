/*
 * reply.c — replies to the client, the error counter, and the Received
 * header (RFC 5321 4.4, RFC 3848 protocol names).
 */
#include "smtpd/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "lib/date.h"

uint64_t now_usec(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static void vreply(struct session *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vreply(struct session *s, const char *fmt, va_list ap)
{
	conn_vprintf(s->conn, fmt, ap);
	conn_write(s->conn, "\r\n", 2);
}

void reply(struct session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
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
