/*
 * cmd_authenticate.c — AUTHENTICATE (RFC 9051 6.2.2, SASL-IR of RFC
 * 4959), and the exchange LOGIN goes through too: the mechanisms run in
 * the auth process (auth/sasl_session.h); here are IMAP's continuations
 * and replies, and the brute-force defence shared with SMTP and POP3 (a
 * failure answered late, later with every failure; auth/penalty.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/penalty.h"
#include "imapd/commands.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/xalloc.h"

static void log_auth(struct imap_client *c, const struct auth_exchange *x,
                     const char *result, unsigned failures)
{
	const char *login = x->login[0] ? x->login : "-";
	EVENT(strcmp(result, "ok") == 0 ? L_INFO : L_WARN, &event_auth,
	      EV_WORD("session", c->log_id), EV_TEXT("client", c->peer_ip),
	      EV_WORD("protocol", "imap"),
	      EV_WORD("mechanism", auth_mechanism_name(x->mechanism)),
	      EV_TEXT("user", login), EV_WORD("result", result),
	      EV_OPTIONAL("reason", x->reason[0] ? x->reason : NULL),
	      EV_UINT("failures", failures));
}

static void delay_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct imap_client *c = arg;
	client_tagged(c, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
	client_resume(c);
}

static void succeeded(struct imap_client *c, const struct auth_exchange *x)
{
	penalty_login_succeeded(c->peer_ip, x->login);
	log_auth(c, x, "ok", 0);
	const char *error;
	if (!client_logged_in(c, x->identity, x->quota, &error)) {
		log_msg(L_ERROR, "event=mailbox-error session=%s user=%s error=%s",
		        c->log_id, LOG_Q(x->identity), LOG_Q(error));
		client_tagged(c, "NO", "[UNAVAILABLE] The mailbox cannot be opened now");
		return;
	}
	struct buf caps = BUF_INIT;
	client_capabilities(c, &caps);
	client_tagged(c, "OK", "[CAPABILITY %s] Logged in", caps.data);
	buf_free(&caps);
}

static void failed(struct imap_client *c, const struct auth_exchange *x)
{
	unsigned failures;
	unsigned delay = penalty_login_failed(&c->server->config->auth, c->log_id,
	                                      c->peer_ip, x->login, &failures);
	log_auth(c, x, "failed", failures);
	if (c->errors + 1 >= c->listener->limits.errors) {
		client_tagged(c, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
		client_bye(c, "Too many failed logins");
		return;
	}
	if (delay == 0) {
		client_tagged(c, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
		return;
	}
	if (c->delay_timer == NULL)
		c->delay_timer = evtimer_new(c->server->base, delay_over, c);
	struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
	evtimer_add(c->delay_timer, &tv);
}

static void on_challenge(void *owner, const char *base64)
{
	struct imap_client *c = owner;
	client_puts(c, "+ ");
	client_puts(c, base64);
	client_puts(c, "\r\n");
	client_resume(c);
}

static void on_done(void *owner, enum sasl_result result, const struct auth_exchange *x)
{
	struct imap_client *c = owner;
	/* The tag of AUTHENTICATE (or LOGIN) answers. */
	snprintf(c->tag, sizeof(c->tag), "%s", c->sasl_tag ? c->sasl_tag : "*");
	x_free(&c->sasl_tag);
	if (c->closing || c->conn == NULL)
		return;
	switch (result) {
	case SASL_SUCCESS:
		succeeded(c, x);
		break;
	case SASL_FAILURE:
		failed(c, x);
		break;
	default:
		log_auth(c, x, "tempfail", 0);
		client_tagged(c, "NO", "[UNAVAILABLE] Temporary authentication failure");
		break;
	}
	client_resume(c);
}

static const struct sasl_session_handlers handlers = {
    .challenge = on_challenge,
    .done = on_done,
};

void client_sasl_start(struct imap_client *c, unsigned mechanism, char *response,
                       size_t len)
{
	if (c->sasl == NULL)
		c->sasl = sasl_session_new(c->server->auth, &handlers, c);
	free(c->sasl_tag);
	c->sasl_tag = xstrdup(c->tag);
	sasl_session_start(c->sasl, mechanism, c->peer_ip,
	                   client_cert(c)->verified ? client_cert(c) : NULL, response,
	                   len);
}

void imap_cmd_authenticate(struct imap_client *c, const struct imap_arg *args,
                           unsigned count)
{
	const char *name = count >= 1 && args->type == IMAP_ARG_ATOM ? args->str : NULL;
	if (name == NULL || count > 2) {
		client_tagged(c, "BAD", "AUTHENTICATE mechanism [initial-response]");
		return;
	}
	if (!client_login_permitted(c)) {
		client_tagged(c, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
		return;
	}
	unsigned mechanism = auth_mechanism_by_name(name, strlen(name));
	unsigned available = sasl_mechanisms_available(c->server->config, client_cert(c));
	if (!(mechanism & available)) {
		client_tagged(c, "NO", "[CANNOT] Unsupported authentication mechanism");
		return;
	}
	char *response = NULL;
	size_t len = 0;
	if (count == 2) {
		const char *text = imap_arg_string(args->next);
		/* RFC 4959: "=" is an empty initial response. */
		if (text && strcmp(text, "=") == 0)
			response = xstrdup("");
		else if (text == NULL ||
		         sasl_decode_base64(text, strlen(text), &response, &len) < 0) {
			client_tagged(c, "BAD", "Invalid base64 in the initial response");
			return;
		}
	}
	client_sasl_start(c, mechanism, response, len);
}

void client_sasl_line(struct imap_client *c, const char *line, size_t len)
{
	const char *error = "Authentication line too long";
	if (line && sasl_session_line(c->sasl, line, len, &error) == 0)
		return;
	if (line == NULL)
		sasl_session_abandon(c->sasl);
	snprintf(c->tag, sizeof(c->tag), "%s", c->sasl_tag ? c->sasl_tag : "*");
	x_free(&c->sasl_tag);
	client_tagged(c, "BAD", "%s", error);
}
