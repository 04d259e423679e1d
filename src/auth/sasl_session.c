/*
 * sasl_session.c — a protocol session's SASL exchange with the auth
 * process (see sasl_session.h).
 */
#include "auth/sasl_session.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "proto/base64.h"

struct sasl_session {
	struct auth_service *service;
	const struct sasl_session_handlers *handlers;
	void *owner;
	struct auth_exchange *exchange; /* between steps */
	struct sasl_step *step;         /* a step at the auth process */
	bool wants_line;
};

struct sasl_step {
	struct auth_job job; /* first: the job is the step */
	struct sasl_session *session;
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

void sasl_session_abandon(struct sasl_session *s)
{
	s->wants_line = false;
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
	auth_service_submit(s->service, job);
}

struct sasl_session *sasl_session_new(struct auth_service *service,
                                      const struct sasl_session_handlers *handlers,
                                      void *owner)
{
	struct sasl_session *s = xcalloc(1, sizeof(*s));
	s->service = service;
	s->handlers = handlers;
	s->owner = owner;
	return s;
}

void sasl_session_free(struct sasl_session **s_p)
{
	struct sasl_session *s = *s_p;
	if (s == NULL)
		return;
	if (s->step)
		s->step->session = NULL; /* its answer goes to no one */
	sasl_session_abandon(s);
	free(s);
	*s_p = NULL;
}

static void step_done(struct auth_job *job)
{
	struct sasl_step *step = (struct sasl_step *)job;
	struct sasl_session *s = step->session;
	struct auth_exchange *x = step->exchange;
	enum sasl_result result = auth_exchange_answer(
	    x, job->error[0] ? NULL : &job->response, job->error, &step->challenge);
	auth_response_clear(&job->response);
	if (s) {
		s->step = NULL;
		if (result == SASL_CHALLENGE) {
			size_t size = base64_encoded_length(step->challenge.len) + 1;
			char *text = xmalloc(size);
			base64_encode(BASE64_STANDARD, step->challenge.data,
			              step->challenge.len, text, size);
			s->exchange = x; /* the next line continues it */
			x = NULL;
			s->wants_line = true;
			s->handlers->challenge(s->owner, text);
			free(text);
		} else {
			s->handlers->done(s->owner, result, x);
		}
	}
	/* A session gone mid-exchange leaves it to the auth process, which
	 * forgets idle exchanges. */
	auth_exchange_free(&x);
	buf_free(&step->challenge);
	if (step->response)
		OPENSSL_cleanse(step->response, step->response_len);
	free(step->response);
	free(step);
}

static void submit(struct sasl_session *s, char *response, size_t len)
{
	struct sasl_step *step = xcalloc(1, sizeof(*step));
	step->session = s;
	step->exchange = s->exchange;
	s->exchange = NULL;
	step->response = response;
	step->response_len = len;
	auth_exchange_request(step->exchange, response, len, &step->job.request);
	step->job.done = step_done;
	step->job.owner = s->owner;
	s->step = step;
	s->wants_line = false;
	auth_service_submit(s->service, &step->job);
}

void sasl_session_start(struct sasl_session *s, unsigned mechanism, const char *client_ip,
                        const struct client_cert *cert, char *response, size_t len)
{
	sasl_session_abandon(s);
	s->exchange = auth_exchange_new(mechanism, client_ip, cert);
	submit(s, response, len);
}

int sasl_decode_base64(const char *text, size_t len, char **out_r, size_t *len_r)
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

int sasl_session_line(struct sasl_session *s, const char *line, size_t len,
                      const char **error_r)
{
	if (len == 1 && line[0] == '*') {
		sasl_session_abandon(s);
		*error_r = "Authentication cancelled";
		return -1;
	}
	/* An empty line is an empty response (SCRAM's last step). */
	char *response;
	size_t decoded;
	if (s->exchange == NULL ||
	    sasl_decode_base64(line, len, &response, &decoded) < 0) {
		sasl_session_abandon(s);
		*error_r = "Invalid base64 data";
		return -1;
	}
	submit(s, response, decoded);
	return 0;
}

bool sasl_session_busy(const struct sasl_session *s)
{
	return s->step != NULL;
}

bool sasl_session_wants_line(const struct sasl_session *s)
{
	return s->wants_line;
}
