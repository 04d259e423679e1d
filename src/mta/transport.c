/*
 * transport.c — destinations, connection limits and reuse (see
 * transport.h).
 */
#include "mta/transport.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "mta/mx_resolve.h"
#include "mta/smtp_client.h"
#include "net/tls.h"

/* Addresses are looked up again after this long (the resolver caches). */
#define RESOLVED_SECONDS 60

enum dest_state { DEST_NEW, DEST_RESOLVING, DEST_READY };

struct conn_ref {
	struct smtp_conn *conn;
	struct destination *dest;
	bool idle;
	struct conn_ref *next;
};

struct destination {
	struct transport *transport;
	char *key;
	struct route route;
	char *route_host;
	enum dest_state state;
	struct mx_resolution *resolution;
	time_t resolved_at;
	struct mta_job *head, *tail;
	struct conn_ref *conns;
	unsigned conn_count;
	bool waiting_for_slot;
	struct destination *next;
};

struct transport {
	struct event_base *base;
	const struct config *config;
	struct dns_resolver *resolver;
	SSL_CTX *ssl_ctx;
	struct workpool *reader; /* reads messages from the spool for sending */
	struct destination *dests;
	unsigned conn_count;
	bool stopping;
};

static void dispatch(struct destination *d);

char *transport_key(const struct route *route)
{
	struct buf key = BUF_INIT;
	if (route->mx_lookup)
		buf_appendf(&key, "mx:%s:%u", route->host, route->port);
	else
		buf_appendf(&key, "[%s]:%u", route->host, route->port);
	for (char *p = key.data; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	/* Sessions logged in as one user are not shared with another. */
	if (route->auth)
		buf_appendf(&key, " auth=%s", route->auth->user);
	return key.data;
}

static struct destination *find_destination(struct transport *t,
                                            const struct mta_job *job)
{
	for (struct destination *d = t->dests; d; d = d->next)
		if (strcmp(d->key, job->key) == 0)
			return d;
	struct destination *d = xcalloc(1, sizeof(*d));
	d->transport = t;
	d->key = xstrdup(job->key);
	d->route = job->route;
	d->route_host = xstrdup(job->route.host);
	d->route.host = d->route_host;
	d->next = t->dests;
	t->dests = d;
	return d;
}

static void maybe_free(struct destination *d)
{
	if (d->head || d->conns || d->state == DEST_RESOLVING)
		return;
	struct transport *t = d->transport;
	for (struct destination **p = &t->dests; *p; p = &(*p)->next) {
		if (*p == d) {
			*p = d->next;
			break;
		}
	}
	free(d->key);
	free(d->route_host);
	free(d->resolution);
	free(d);
}

static struct mta_job *pop_job(struct destination *d)
{
	struct mta_job *job = d->head;
	if (job) {
		d->head = job->next;
		if (d->head == NULL)
			d->tail = NULL;
		job->next = NULL;
	}
	return job;
}

/* Defers or bounces every job waiting for d. */
static void fail_queued(struct destination *d, enum rcpt_outcome outcome, const char *dsn,
                        const char *diagnostic)
{
	struct mta_job *job;
	while ((job = pop_job(d)) != NULL) {
		mta_job_fail(job, outcome, dsn, NULL, diagnostic);
		char delay[24];
		snprintf(delay, sizeof(delay), "%llds",
		         (long long)(time(NULL) - job->env->arrival));
		for (size_t k = 0; k < job->rcpt_count; k++)
			EVENT(outcome == OUTCOME_PERM ? L_WARN : L_INFO, &event_delivery,
			      EV_WORD("id", job->env->id),
			      EV_TEXT("to", job->env->rcpts[job->rcpts[k]].address),
			      EV_OPTIONAL("orig_to",
			                  job->env->rcpts[job->rcpts[k]].original),
			      EV_WORD("relay", "none"), EV_WORD("tls", "none"),
			      EV_WORD("delay", delay), EV_WORD("dsn", dsn),
			      EV_WORD("status",
			              outcome == OUTCOME_PERM ? "bounced" : "deferred"),
			      EV_TEXT("reply", diagnostic),
			      EV_LABEL("transport", "smtp"));
		job->done(job);
	}
}

static void dispatch_waiting(struct transport *t)
{
	for (struct destination *d = t->dests, *next; d; d = next) {
		next = d->next;
		if (d->waiting_for_slot)
			dispatch(d);
	}
}

static void on_job_done(struct smtp_conn *conn, struct mta_job *job, void *arg)
{
	(void)conn;
	(void)arg;
	job->done(job);
}

static void on_idle(struct smtp_conn *conn, void *arg)
{
	struct conn_ref *ref = arg;
	struct destination *d = ref->dest;
	struct mta_job *job = d->transport->stopping ? NULL : pop_job(d);
	if (job) {
		ref->idle = false;
		smtp_conn_send(conn, job);
		return;
	}
	ref->idle = true;
}

static void on_closed(struct smtp_conn *conn, bool ever_established,
                      const char *last_error, void *arg)
{
	(void)conn;
	struct conn_ref *ref = arg;
	struct destination *d = ref->dest;
	struct transport *t = d->transport;
	for (struct conn_ref **p = &d->conns; *p; p = &(*p)->next) {
		if (*p == ref) {
			*p = ref->next;
			break;
		}
	}
	d->conn_count--;
	t->conn_count--;
	free(ref);
	bool others_up = false;
	for (struct conn_ref *r = d->conns; r; r = r->next)
		others_up = others_up || r->idle;
	if (!ever_established && !others_up && d->head) {
		/* Every address failed: the rest would only wait out the
		 * same time-outs. They are deferred together. */
		fail_queued(d, OUTCOME_TEMP, "4.4.1",
		            last_error && last_error[0] ? last_error
		                                        : "smtp; no server answered");
	}
	if (!t->stopping) {
		dispatch(d);
		dispatch_waiting(t);
	}
	maybe_free(d);
}

static const struct smtp_conn_callbacks conn_callbacks = {
    .job_done = on_job_done,
    .idle = on_idle,
    .closed = on_closed,
};

static void on_resolved(void *arg, const struct mx_resolution *result)
{
	struct destination *d = arg;
	d->state = DEST_READY;
	d->resolved_at = time(NULL);
	free(d->resolution);
	d->resolution = xmalloc(sizeof(*d->resolution));
	*d->resolution = *result;
	if (result->failure != OUTCOME_NONE) {
		struct mx_resolution failed = *result;
		/* A failed lookup is not kept: the next job asks again. */
		d->state = DEST_NEW;
		fail_queued(d, failed.failure, failed.dsn, failed.diagnostic);
		maybe_free(d);
		return;
	}
	dispatch(d);
	maybe_free(d);
}

/*
 * Each connection gets its own order of equal-preference hosts (RFC 5321
 * 5.1), so that parallel connections spread over them; a host's
 * addresses stay together and in order.
 */
static struct mta_address *connection_order(const struct mx_resolution *r)
{
	struct mta_address *out = xcalloc(r->count, sizeof(*out));
	memcpy(out, r->addrs, r->count * sizeof(*out));
	size_t start = 0;
	while (start < r->count) {
		size_t end = start;
		while (end < r->count && out[end].preference == out[start].preference)
			end++;
		/* Rotate the run by a random number of hosts. */
		size_t hosts = 0;
		for (size_t i = start; i < end; i++)
			hosts += i == start || strcmp(out[i].host, out[i - 1].host) != 0;
		size_t skip = hosts > 1 ? arc4random_uniform((uint32_t)hosts) : 0;
		size_t split = start;
		for (size_t seen = 0; split < end && seen < skip; split++)
			if (split + 1 < end &&
			    strcmp(out[split].host, out[split + 1].host) != 0)
				seen++;
		if (split > start && split < end) {
			size_t len = end - start, first = split - start;
			struct mta_address *tmp = xcalloc(len, sizeof(*tmp));
			memcpy(tmp, out + split, (len - first) * sizeof(*tmp));
			memcpy(tmp + (len - first), out + start, first * sizeof(*tmp));
			memcpy(out + start, tmp, len * sizeof(*tmp));
			free(tmp);
		}
		start = end;
	}
	return out;
}

static void dispatch(struct destination *d)
{
	struct transport *t = d->transport;
	if (t->stopping || d->head == NULL)
		return;
	if (d->state == DEST_RESOLVING)
		return;
	if (d->state == DEST_READY && d->conns == NULL &&
	    time(NULL) - d->resolved_at > RESOLVED_SECONDS)
		d->state = DEST_NEW;
	if (d->state == DEST_NEW) {
		d->state = DEST_RESOLVING;
		mx_resolve(t->resolver, t->config, &d->route, on_resolved, d);
		return;
	}
	const struct delivery_config *cfg = &t->config->delivery;
	d->waiting_for_slot = false;
	for (struct conn_ref *r = d->conns; r && d->head; r = r->next) {
		if (r->idle) {
			r->idle = false;
			smtp_conn_send(r->conn, pop_job(d));
		}
	}
	while (d->head) {
		if (d->conn_count >= cfg->destination_concurrency)
			break;
		if (t->conn_count >= cfg->concurrency) {
			d->waiting_for_slot = true;
			break;
		}
		struct conn_ref *ref = xcalloc(1, sizeof(*ref));
		ref->dest = d;
		ref->next = d->conns;
		d->conns = ref;
		d->conn_count++;
		t->conn_count++;
		struct mta_address *order = connection_order(d->resolution);
		ref->conn = smtp_conn_open(t->base, t->config, t->ssl_ctx, t->reader,
		                           d->route.auth, order, d->resolution->count,
		                           pop_job(d), &conn_callbacks, ref);
		free(order);
	}
}

void transport_submit(struct transport *t, struct mta_job *job)
{
	struct destination *d = find_destination(t, job);
	job->next = NULL;
	if (d->tail)
		d->tail->next = job;
	else
		d->head = job;
	d->tail = job;
	dispatch(d);
}

struct transport *transport_create(struct event_base *base, const struct config *config,
                                   struct dns_resolver *resolver, const char **error_r)
{
	SSL_CTX *ctx = tls_client_context(error_r);
	if (ctx == NULL)
		return NULL;
	struct transport *t = xcalloc(1, sizeof(*t));
	t->base = base;
	t->config = config;
	t->resolver = resolver;
	t->ssl_ctx = ctx;
	t->reader = workpool_create(base, 2);
	return t;
}

void transport_stop(struct transport *t)
{
	t->stopping = true;
	/* Aborting a connection finishes its job and may free its
	 * destination: restart the walk after each. */
	for (;;) {
		struct destination *d = t->dests;
		while (d && d->conns == NULL && d->head == NULL)
			d = d->next;
		if (d == NULL)
			break;
		if (d->conns) {
			smtp_conn_abort(d->conns->conn);
		} else {
			fail_queued(d, OUTCOME_TEMP, "4.3.2", "x-petrel; shutting down");
			maybe_free(d);
		}
	}
}

void transport_destroy(struct transport **transport)
{
	struct transport *t = *transport;
	if (t == NULL)
		return;
	transport_stop(t);
	while (t->dests) {
		struct destination *d = t->dests;
		d->state = DEST_READY; /* its lookup, if any, was cancelled */
		maybe_free(d);
	}
	workpool_destroy(&t->reader); /* after the connections, which detach */
	SSL_CTX_free(t->ssl_ctx);
	x_free(transport);
}
