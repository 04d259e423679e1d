/*
 * cmd_auth.c — AUTH (RFC 4954): the SMTP side of SASL. The mechanisms
 * themselves are in auth/sasl.c; here are the replies, the base64 of
 * each line, the rules of when AUTH may be used, and the brute-force
 * defence (auth/penalty.h): a failed login is answered late, later with
 * every failure, and a locked IP or name gets 454 without its password
 * being looked at.
 */
#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/penalty.h"
#include "auth/sasl_session.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/xalloc.h"
#include "proto/base64.h"
#include "smtpd/session.h"

#define REPLY_FAILED   "535 5.7.8 Authentication credentials invalid"
#define REPLY_TEMPFAIL "454 4.7.0 Temporary authentication failure"

/* RFC 4954 4 wants TLS (or an equivalent): plaintext only from loopback
 * and only when the configuration says so. */
static bool auth_permitted(const struct session *s)
{
	if (s->tls_active)
		return true;
	return s->server->config->auth.plaintext_loopback &&
	       sockaddr_is_loopback((const struct sockaddr *)&s->peer);
}

void auth_advertised(const struct session *s, char *out, size_t size)
{
	out[0] = '\0';
	if (!auth_permitted(s) || s->auth_user)
		return;
	unsigned available = sasl_mechanisms_available(s->server->config, &s->cert);
	size_t n = 0;
	for (unsigned i = 0; i < MECH_COUNT; i++) {
		if (!(available & (1u << i)))
			continue;
		const char *name = auth_mechanism_name(1u << i);
		int w = snprintf(out + n, size - n, "%s%s", n ? " " : "", name);
		if (w < 0 || (size_t)w >= size - n)
			break;
		n += (size_t)w;
	}
}

struct auth_step {
	struct auth_job job; /* first: the job is the step */
	struct auth_exchange *exchange;
	char *response; /* decoded; NULL: no initial response */
	size_t response_len;
	struct buf challenge;
	enum sasl_result result;
};

/* An exchange given up half-way: the auth process forgets it (nothing
 * waits for the answer). */
static void abandon_done(struct auth_job *job)
{
	auth_response_clear(&job->response);
	free(job);
}

void session_abandon_exchange(struct session *s)
{
	if (s->exchange == NULL)
		return;
	if (!s->exchange->begun) {
		auth_exchange_free(&s->exchange);
		return;
	}
	struct auth_job *job = xcalloc(1, sizeof(*job));
	job->request.type = AUTH_SASL_END;
	job->request.conversation = s->exchange->id;
	job->done = abandon_done;
	auth_exchange_free(&s->exchange);
	auth_service_submit(s->server->auth, job);
}

static void end_exchange(struct session *s)
{
	session_abandon_exchange(s);
	if (s->state == STATE_AUTH)
		s->state = STATE_GREETED;
}

static void delay_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	reply(s, REPLY_FAILED);
	session_resume(s);
}

static void log_auth(struct session *s, const struct auth_exchange *x, const char *result,
                     unsigned failures)
{
	const char *login = x->login;
	const char *mechanism = auth_mechanism_name(x->mechanism);
	if (strcmp(result, "ok") == 0)
		EVENT(L_INFO, &event_auth, EV_WORD("session", s->log_id),
		      EV_TEXT("client", s->peer_ip), EV_WORD("mechanism", mechanism),
		      EV_TEXT("user", login[0] ? login : "-"), EV_WORD("result", result),
		      EV_UINT("failures", failures),
		      EV_WORD("cached", x->cached ? "yes" : "no"));
	else
		EVENT(L_WARN, &event_auth, EV_WORD("session", s->log_id),
		      EV_TEXT("client", s->peer_ip), EV_WORD("mechanism", mechanism),
		      EV_TEXT("user", login[0] ? login : "-"), EV_WORD("result", result),
		      EV_TEXT("reason", x->reason), EV_UINT("failures", failures),
		      EV_WORD("cached", x->cached ? "yes" : "no"));
}

static void auth_proceed(struct session *s, void *identity)
{
	free(s->auth_user);
	s->auth_user = xstrdup(identity);
	reply(s, "235 2.7.0 Authentication successful");
}

static void auth_succeeded(struct session *s, struct auth_exchange *x)
{
	penalty_login_succeeded(s->peer_ip, x->login);
	log_auth(s, x, "ok", 0);
	if (x->rehashed)
		log_msg(L_INFO, "event=password-rehashed session=%s user=%s", s->log_id,
		        LOG_Q(x->identity));
	/* The login is checked; the AUTH stage's hooks may still refuse the
	 * user on this connection. */
	char *identity = xstrdup(x->identity);
	session_hook(s, SMTP_STAGE_AUTH, identity, auth_proceed, NULL, identity, free);
}

/* Counts the failure, logs it, and answers after the penalty delay. */
static void auth_failed(struct session *s, struct auth_exchange *x)
{
	unsigned failures;
	unsigned delay = penalty_login_failed(&s->server->config->auth, s->log_id,
	                                      s->peer_ip, x->login, &failures);
	log_auth(s, x, "failed", failures);
	if (delay == 0) {
		reply(s, REPLY_FAILED);
		return;
	}
	if (s->delay_timer == NULL)
		s->delay_timer = evtimer_new(s->server->base, delay_over, s);
	struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
	evtimer_add(s->delay_timer, &tv);
}

static void step_done(struct auth_job *job)
{
	struct auth_step *step = (struct auth_step *)job;
	struct session *s = job->owner;
	struct auth_exchange *x = step->exchange;
	/* The auth process runs the mechanism; what it said goes into x. */
	step->result = auth_exchange_answer(x, job->error[0] ? NULL : &job->response,
	                                    job->error, &step->challenge);
	auth_response_clear(&job->response);
	if (s && s->state != STATE_CLOSING) {
		s->pending = NULL;
		switch (step->result) {
		case SASL_CHALLENGE: {
			size_t size = base64_encoded_length(step->challenge.len) + 1;
			char *text = xmalloc(size);
			base64_encode(BASE64_STANDARD, step->challenge.data,
			              step->challenge.len, text, size);
			reply(s, "334 %s", text);
			free(text);
			s->exchange = x; /* the next line continues the exchange */
			x = NULL;
			break;
		}
		case SASL_SUCCESS:
			s->state = STATE_GREETED;
			auth_succeeded(s, x);
			break;
		case SASL_FAILURE:
			s->state = STATE_GREETED;
			auth_failed(s, x);
			break;
		case SASL_TEMPFAIL:
			s->state = STATE_GREETED;
			log_auth(s, x, "tempfail", 0);
			reply(s, REPLY_TEMPFAIL);
			break;
		}
	} else if (s) {
		s->pending = NULL;
	}
	/* A session gone mid-exchange leaves it to the auth process, which
	 * forgets exchanges idle for ten minutes. */
	auth_exchange_free(&x);
	buf_free(&step->challenge);
	if (step->response)
		OPENSSL_cleanse(step->response, step->response_len);
	free(step->response);
	free(step);
	if (s)
		session_resume(s);
}

/* Hands the exchange and one decoded response to an auth thread. */
static void submit_step(struct session *s, char *response, size_t len)
{
	struct auth_step *step = xcalloc(1, sizeof(*step));
	step->exchange = s->exchange;
	s->exchange = NULL; /* the step owns it until it is done */
	step->response = response;
	step->response_len = len;
	auth_exchange_request(step->exchange, response, len, &step->job.request);
	step->job.done = step_done;
	step->job.owner = s;
	s->pending = &step->job;
	s->state = STATE_AUTH;
	auth_service_submit(s->server->auth, &step->job);
}

void cmd_auth(struct session *s, const struct smtp_cmd *cmd)
{
	if (s->auth_user) {
		reply_error(s, "503 5.5.1 Error: already authenticated");
		return;
	}
	if (!auth_permitted(s)) {
		reply_error(s,
		            "538 5.7.11 Encryption required for requested authentication "
		            "mechanism");
		return;
	}
	const char *space = memchr(cmd->arg, ' ', cmd->arg_len);
	size_t name_len = space ? (size_t)(space - cmd->arg) : cmd->arg_len;
	unsigned mechanism = auth_mechanism_by_name(cmd->arg, name_len);
	unsigned available = sasl_mechanisms_available(s->server->config, &s->cert);
	if (name_len == 0 || !(mechanism & available)) {
		reply_error(s, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	char *response = NULL;
	size_t len = 0;
	if (space) {
		const char *text = space + 1;
		size_t text_len = cmd->arg_len - name_len - 1;
		/* RFC 4954 4: "=" is an empty initial response. */
		bool empty = text_len == 1 && text[0] == '=';
		if (empty)
			response = xstrdup("");
		else if (text_len == 0 || memchr(text, ' ', text_len) ||
		         sasl_decode_base64(text, text_len, &response, &len) < 0) {
			reply_error(s,
			            "501 5.5.2 Invalid base64 data in initial response");
			return;
		}
	}
	s->exchange =
	    auth_exchange_new(mechanism, s->peer_ip, s->cert.verified ? &s->cert : NULL);
	submit_step(s, response, len);
}

void auth_response(struct session *s, const char *line, size_t len)
{
	if (line == NULL) {
		end_exchange(s);
		reply_error(s, "500 5.5.6 Authentication Exchange line is too long");
		return;
	}
	if (len == 1 && line[0] == '*') {
		end_exchange(s);
		reply_error(s, "501 5.7.0 Authentication cancelled");
		return;
	}
	/* An empty line is an empty response (SCRAM's last step). */
	char *response;
	size_t decoded_len;
	if (sasl_decode_base64(line, len, &response, &decoded_len) < 0) {
		end_exchange(s);
		reply_error(s, "501 5.5.2 Invalid base64 data");
		return;
	}
	submit_step(s, response, decoded_len);
}
