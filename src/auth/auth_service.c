/*
 * auth_service.c — see auth_service.h.
 */
#include "auth/auth_service.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ipc/wire.h"
#include "auth/lookup_cache.h"
#include "lib/xalloc.h"
#include "net/conn.h"

/* A login may wait behind others for argon2id: generous, but bounded. */
#define ANSWER_SECONDS 60
/* At start, or while it is replaced, the auth process may not listen. */
#define CONNECT_MS 3000
#define RETRY_MS   50

struct auth_line {
	struct auth_service *service;
	struct conn *conn;
	struct auth_job *job; /* in flight */
	struct buf frame;
};

struct auth_service {
	struct event_base *base;
	struct sockaddr_un addr;
	struct auth_line *lines;
	unsigned line_count;
	struct auth_job *first, *last; /* waiting, in order */
	struct event *retry;
	struct lookup_cache *cache;
	struct auth_job *answered; /* by the cache; done from the loop */
	struct event *answer_event;
	bool failing; /* connecting fails since failing_since */
	struct timespec failing_since;
	struct buf out;
};

static void pump(struct auth_service *s);

static void finish(struct auth_job *job, const char *error)
{
	if (error) {
		snprintf(job->error, sizeof(job->error), "%s", error);
		memset(&job->response, 0, sizeof(job->response));
	}
	job->done(job);
}

static void wait_last(struct auth_service *s, struct auth_job *job)
{
	job->next = NULL;
	if (s->last)
		s->last->next = job;
	else
		s->first = job;
	s->last = job;
}

static void wait_first(struct auth_service *s, struct auth_job *job)
{
	job->next = s->first;
	s->first = job;
	if (s->last == NULL)
		s->last = job;
}

static struct auth_job *take_first(struct auth_service *s)
{
	struct auth_job *job = s->first;
	s->first = job->next;
	if (s->first == NULL)
		s->last = NULL;
	return job;
}

static void fail_waiting(struct auth_service *s, const char *error)
{
	while (s->first)
		finish(take_first(s), error);
}

/* --- one connection ------------------------------------------------------- */

/* The connection is gone: its job is asked again once, if asking twice is
 * harmless (a lookup), or fails. */
static void line_broken(struct auth_line *line, const char *why)
{
	struct auth_service *s = line->service;
	conn_free(&line->conn);
	struct auth_job *job = line->job;
	line->job = NULL;
	if (job && job->request.type != AUTH_SASL_STEP && !job->asked_again) {
		job->asked_again = true;
		wait_first(s, job);
	} else if (job) {
		char error[200];
		snprintf(error, sizeof(error), "auth process: %s", why);
		finish(job, error);
	}
	pump(s);
}

static void on_input(struct conn *c, void *arg)
{
	struct auth_line *line = arg;
	unsigned char head[WIRE_HEADER];
	if (conn_input_length(c) < WIRE_HEADER)
		return;
	if (line->job == NULL) {
		line_broken(line, "an answer to no question");
		return;
	}
	conn_input_copy(c, head, sizeof(head));
	size_t len = wire_frame_length(head);
	if (len == 0) {
		line_broken(line, "bad answer");
		return;
	}
	if (conn_input_length(c) < len)
		return;
	buf_reset(&line->frame);
	buf_reserve(&line->frame, len);
	line->frame.len = conn_read(c, line->frame.data, len);
	struct auth_job *job = line->job;
	if (auth_response_decode(job->request.type, line->frame.data, line->frame.len,
	                         &job->response) < 0) {
		auth_response_clear(&job->response);
		line_broken(line, "bad answer");
		return;
	}
	line->job = NULL;
	conn_set_idle_timeout(c, 0);
	lookup_cache_put(line->service->cache, &job->request, job->version,
	                 &job->response);
	pump(line->service); /* the next question goes out first */
	finish(job, NULL);
}

static void on_end(struct conn *c, void *arg, enum conn_end why)
{
	(void)c;
	line_broken(arg, why == CONN_END_IDLE ? "no answer" : "connection lost");
}

static const struct conn_handlers line_handlers = {.input = on_input, .end = on_end};

/* 0, or -1 with errno. A local socket connects at once or not at all. */
static int line_connect(struct auth_line *line)
{
	struct auth_service *s = line->service;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&s->addr, sizeof(s->addr)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	struct conn_settings settings = {
	    .input_max = WIRE_MESSAGE_MAX + 4096,
	    .output_high_water = 2 * WIRE_MESSAGE_MAX,
	};
	line->conn = conn_adopt(s->base, fd, CONN_CLIENT, (struct sockaddr *)&s->addr,
	                        sizeof(s->addr), NULL, &settings, &line_handlers, line);
	return 0;
}

static void send_job(struct auth_line *line, struct auth_job *job)
{
	struct auth_service *s = line->service;
	if (auth_request_encode(&job->request, &s->out) < 0) {
		finish(job, "request too large for the auth process");
		return;
	}
	conn_write(line->conn, s->out.data, s->out.len);
	if (job->request.type == AUTH_SASL_STEP)
		OPENSSL_cleanse(s->out.data, s->out.len); /* it held the response */
	conn_set_idle_timeout(line->conn, ANSWER_SECONDS);
	line->job = job;
}

/* --- the waiting jobs -------------------------------------------------------- */

static double ms_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Could not connect: try again shortly, or give up on the waiting jobs. */
static void connect_failed(struct auth_service *s, int error)
{
	bool not_yet = error == ENOENT || error == ECONNREFUSED || error == EAGAIN;
	if (!s->failing) {
		s->failing = true;
		clock_gettime(CLOCK_MONOTONIC, &s->failing_since);
	}
	if (not_yet && ms_since(&s->failing_since) < CONNECT_MS) {
		struct timeval tv = {0, RETRY_MS * 1000};
		evtimer_add(s->retry, &tv);
		return;
	}
	s->failing = false;
	char message[256];
	snprintf(message, sizeof(message), "auth process unavailable: %s: %s",
	         s->addr.sun_path, strerror(error));
	fail_waiting(s, message);
}

static struct auth_line *idle_line(struct auth_service *s)
{
	struct auth_line *unconnected = NULL;
	for (unsigned i = 0; i < s->line_count; i++) {
		struct auth_line *line = &s->lines[i];
		if (line->conn && line->job == NULL)
			return line;
		if (line->conn == NULL && unconnected == NULL)
			unconnected = line;
	}
	return unconnected;
}

static void pump(struct auth_service *s)
{
	while (s->first) {
		struct auth_line *line = idle_line(s);
		if (line == NULL)
			return; /* all busy: the next answer sends the next job */
		if (line->conn == NULL) {
			if (evtimer_pending(s->retry, NULL))
				return; /* connecting again soon */
			if (line_connect(line) < 0) {
				connect_failed(s, errno);
				continue;
			}
			s->failing = false;
		}
		send_job(line, take_first(s));
	}
}

static void retry_now(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

/* Answers the cache gave are done from the loop, never inside submit():
 * the caller may not expect its job to end before submit returns. */
static void answer_from_cache(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct auth_service *s = arg;
	struct auth_job *job = s->answered;
	s->answered = NULL;
	while (job) {
		struct auth_job *next = job->next;
		finish(job, NULL);
		job = next;
	}
}

/* --- the service -------------------------------------------------------------- */

struct auth_service *auth_service_create(struct event_base *base,
                                         const struct config *config)
{
	struct auth_service *s = xcalloc(1, sizeof(*s));
	s->base = base;
	s->addr.sun_family = AF_UNIX;
	struct buf path = BUF_INIT;
	auth_socket_path(config, &path);
	snprintf(s->addr.sun_path, sizeof(s->addr.sun_path), "%s", buf_cstr(&path));
	buf_free(&path);
	s->line_count = config->auth.threads ? config->auth.threads : 1;
	s->lines = xcalloc(s->line_count, sizeof(*s->lines));
	for (unsigned i = 0; i < s->line_count; i++)
		s->lines[i].service = s;
	s->retry = evtimer_new(base, retry_now, s);
	s->cache = lookup_cache_new(config);
	s->answer_event = event_new(base, -1, 0, answer_from_cache, s);
	return s;
}

void auth_service_destroy(struct auth_service **sp)
{
	struct auth_service *s = *sp;
	if (s == NULL)
		return;
	for (unsigned i = 0; i < s->line_count; i++) {
		struct auth_line *line = &s->lines[i];
		conn_free(&line->conn);
		if (line->job)
			finish(line->job, "auth service: shutting down");
		buf_free(&line->frame);
	}
	fail_waiting(s, "auth service: shutting down");
	answer_from_cache(-1, 0, s);
	event_free(s->answer_event);
	lookup_cache_free(&s->cache);
	event_free(s->retry);
	buf_free(&s->out);
	free(s->lines);
	x_free(sp);
}

int auth_job_result(struct auth_job *job)
{
	if (job->error[0])
		return -1;
	if (job->response.result >= 0)
		return job->response.result;
	snprintf(job->error, sizeof(job->error), "%s",
	         job->response.error[0] ? job->response.error : "database error");
	return -1;
}

void auth_service_submit(struct auth_service *s, struct auth_job *job)
{
	job->error[0] = '\0';
	job->asked_again = false;
	memset(&job->response, 0, sizeof(job->response));
	if (lookup_cache_get(s->cache, &job->request, &job->response)) {
		job->next = s->answered;
		s->answered = job;
		event_active(s->answer_event, 0, 0);
		return;
	}
	job->version = lookup_cache_version(s->cache);
	wait_last(s, job);
	pump(s);
}
