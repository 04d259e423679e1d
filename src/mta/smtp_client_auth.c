/*
 * smtp_client_auth.c — logging in to a smarthost (RFC 4954): PLAIN
 * (RFC 4616) when offered, else LOGIN, and only over TLS. A refused login
 * defers the mail (the fix is ours), and is logged without the password.
 */
#include <openssl/evp.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "mta/smtp_client_internal.h"

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
	conn_write(c->io, line.data, line.len);
	explicit_bzero(plain.data, plain.len);
	explicit_bzero(line.data, line.len);
	buf_free(&plain);
	buf_free(&line);
}

static bool use_plain(const struct smtp_conn *c)
{
	return (c->ehlo.auth & SMTP_EHLO_AUTH_PLAIN) != 0;
}

void smtp_client_log_in(struct smtp_conn *c)
{
	if (c->auth == NULL) {
		smtp_client_session_up(c);
		return;
	}
	if (!c->tls_active) {
		smtp_client_address_failed(c, false,
		                           "AUTH needs TLS, and the session has none: "
		                           "the password was not sent");
		return;
	}
	c->state = CS_AUTH;
	c->auth_step = 0;
	if (use_plain(c)) {
		const char *parts[] = {"", c->auth->user, c->auth->password};
		send_base64(c, "AUTH PLAIN ", parts, 3);
	} else if (c->ehlo.auth & SMTP_EHLO_AUTH_LOGIN) {
		smtp_client_send_line(c, "AUTH LOGIN");
	} else {
		smtp_client_address_failed(c, false,
		                           "no AUTH mechanism in common (PLAIN, LOGIN)");
		return;
	}
	smtp_client_arm(c, c->config->delivery.helo_timeout);
}

void smtp_client_auth_reply(struct smtp_conn *c, const struct smtp_reply *r,
                            const char *text)
{
	const char *mechanism = use_plain(c) ? "PLAIN" : "LOGIN";
	if (r->code == 334 && !use_plain(c) && c->auth_step < 2) {
		const char *part[] = {c->auth_step == 0 ? c->auth->user
		                                        : c->auth->password};
		send_base64(c, "", part, 1);
		c->auth_step++;
		smtp_client_arm(c, c->config->delivery.helo_timeout);
		return;
	}
	if (r->code == 235) {
		log_msg(L_INFO, "event=auth relay=%s user=%s mechanism=%s result=ok",
		        LOG_Q(c->remote), LOG_Q(c->auth->user), mechanism);
		smtp_client_session_up(c);
		return;
	}
	log_msg(L_WARN, "event=auth relay=%s user=%s mechanism=%s result=failed reply=%s",
	        LOG_Q(c->remote), LOG_Q(c->auth->user), mechanism, LOG_Q(text));
	if (r->code == 334)
		smtp_client_send_line(
		    c, "*"); /* unexpected challenge: cancel (RFC 4954 4) */
	/* Wrong credentials are ours to fix: the mail waits for that. */
	smtp_client_address_failed(c, false, "AUTH refused: %s", text);
}
