/*
 * imap_cmd_authenticate.c — AUTHENTICATE (RFC 9051 6.2.2, SASL-IR of RFC
 * 4959) and the exchange LOGIN also goes through: the mechanisms run in
 * the auth process (auth/sasl.c); here are the continuations, the base64
 * of each line, and the brute-force defence shared with SMTP (a failure
 * answered late, later with every failure; auth/penalty.h).
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/penalty.h"
#include "imapd/commands.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "proto/base64.h"

struct sasl_step {
	struct auth_job job; /* first: the job is the step */
	struct auth_exchange *exchange;
	char *response;
	size_t response_len;
	struct buf challenge;
};

static void abandon_done(struct auth_job *job)
{
	auth_response_clear(&job->response);
	free(job);
}

void client_abandon_exchange(struct imap_client *c)
{
	x_free(&c->sasl_tag);
	if (c->exchange == NULL)
		return;
	if (!c->exchange->begun) {
		auth_exchange_free(&c->exchange);
		return;
	}
	struct auth_job *job = xcalloc(1, sizeof(*job));
	job->request.type = AUTH_SASL_END;
	job->request.conversation = c->exchange->id;
	job->done = abandon_done;
	auth_exchange_free(&c->exchange);
	auth_service_submit(c->server->auth, job);
}

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

static void succeeded(struct imap_client *c, struct auth_exchange *x)
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

static void failed(struct imap_client *c, struct auth_exchange *x)
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

static void step_done(struct auth_job *job)
{
	struct sasl_step *step = (struct sasl_step *)job;
	struct imap_client *c = job->owner;
	struct auth_exchange *x = step->exchange;
	enum sasl_result result = auth_exchange_answer(
	    x, job->error[0] ? NULL : &job->response, job->error, &step->challenge);
	auth_response_clear(&job->response);
	if (c) {
		c->auth_job = NULL;
		if (!c->closing && c->conn) {
			switch (result) {
			case SASL_CHALLENGE: {
				size_t size =
				    base64_encoded_length(step->challenge.len) + 1;
				char *text = xmalloc(size);
				base64_encode(BASE64_STANDARD, step->challenge.data,
				              step->challenge.len, text, size);
				client_write(c, "+ ", 2);
				client_write(c, text, strlen(text));
				client_write(c, "\r\n", 2);
				free(text);
				c->exchange = x; /* the next line continues it */
				x = NULL;
				break;
			}
			case SASL_SUCCESS:
				x_free(&c->sasl_tag);
				succeeded(c, x);
				break;
			case SASL_FAILURE:
				x_free(&c->sasl_tag);
				failed(c, x);
				break;
			case SASL_TEMPFAIL:
				x_free(&c->sasl_tag);
				log_auth(c, x, "tempfail", 0);
				client_tagged(
				    c, "NO",
				    "[UNAVAILABLE] Temporary authentication failure");
				break;
			}
		}
	}
	auth_exchange_free(&x);
	buf_free(&step->challenge);
	if (step->response)
		OPENSSL_cleanse(step->response, step->response_len);
	free(step->response);
	free(step);
	if (c)
		client_resume(c);
}

static void submit_step(struct imap_client *c, char *response, size_t len)
{
	struct sasl_step *step = xcalloc(1, sizeof(*step));
	step->exchange = c->exchange;
	c->exchange = NULL;
	step->response = response;
	step->response_len = len;
	auth_exchange_request(step->exchange, response, len, &step->job.request);
	step->job.done = step_done;
	step->job.owner = c;
	c->auth_job = &step->job;
	auth_service_submit(c->server->auth, &step->job);
}

void client_sasl_start(struct imap_client *c, unsigned mechanism, char *response,
                       size_t len)
{
	c->exchange =
	    auth_exchange_new(mechanism, c->peer_ip, c->cert.verified ? &c->cert : NULL);
	submit_step(c, response, len);
}

/* Strict base64 into a fresh NUL-terminated buffer; -1 if malformed. */
static int decode(const char *text, size_t len, char **out_r, size_t *len_r)
{
	char *out = xmalloc(base64_decoded_max(len) + 1);
	const char *error;
	long n = base64_decode(BASE64_STANDARD, text, len, (unsigned char *)out,
	                       base64_decoded_max(len), &error);
	if (n < 0) {
		free(out);
		return -1;
	}
	out[n] = '\0';
	*out_r = out;
	*len_r = (size_t)n;
	return 0;
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
	unsigned available = sasl_mechanisms_available(c->server->config, &c->cert);
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
		         decode(text, strlen(text), &response, &len) < 0) {
			client_tagged(c, "BAD", "Invalid base64 in the initial response");
			return;
		}
	}
	c->sasl_tag = xstrdup(c->tag);
	client_sasl_start(c, mechanism, response, len);
}

void client_sasl_line(struct imap_client *c, const char *line, size_t len)
{
	/* The tag of AUTHENTICATE answers the continuation. */
	snprintf(c->tag, sizeof(c->tag), "%s", c->sasl_tag);
	if (line == NULL) {
		client_abandon_exchange(c);
		client_tagged(c, "BAD", "Authentication line too long");
		return;
	}
	if (len == 1 && line[0] == '*') {
		client_abandon_exchange(c);
		client_tagged(c, "BAD", "Authentication cancelled");
		return;
	}
	char *response;
	size_t decoded_len;
	if (c->exchange == NULL || decode(line, len, &response, &decoded_len) < 0) {
		client_abandon_exchange(c);
		client_tagged(c, "BAD", "Invalid base64 data");
		return;
	}
	submit_step(c, response, decoded_len);
}
