/*
 * queue.c — the queue process's event loop (see queue.h).
 *
 * It learns of new messages from the workers' notifications and from a
 * periodic scan of the spool (which also finds everything left there by
 * a crash). Each message is attempted on a delivery thread; the loop only
 * keeps the schedule: which IDs are in progress, which wait for a retry.
 */
#include "queue/queue.h"

#include <dirent.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "ipc/ipc.h"
#include "dns/resolver.h"
#include "mta/route.h"
#include "mta/transport.h"
#include "queue/control.h"
#include "queue/delivery.h"
#include "queue/spool.h"

#define DELIVERY_THREADS      8
#define SCAN_INTERVAL_SECONDS 5
#define TABLE_SIZE            8191

enum entry_state { ENTRY_ACTIVE, ENTRY_WAITING, ENTRY_HELD };

struct entry {
	char id[QUEUE_ID_LEN + 1];
	enum entry_state state;
	time_t next_attempt;
	bool forced; /* `queue retry`: attempt now, whatever the schedule */
	struct entry *next;
};

struct queue {
	const struct config *config;
	struct event_base *base;
	struct spool spool;
	struct workpool *pool;
	struct dns_resolver *resolver;
	struct transport *transport;
	struct entry *table[TABLE_SIZE];
	bool scanning;
	bool stopping;
};

struct attempt {
	struct work work;
	struct queue *queue;
	struct entry *entry;
	bool finishing; /* second half: delivery_finish */
	struct attempt_state state;
	struct mta_job *jobs;
	size_t job_count, jobs_pending;
};

struct scan {
	struct work work;
	struct queue *queue;
	char (*ids)[QUEUE_ID_LEN + 1];
	size_t count;
};

static struct entry **entry_slot(struct queue *q, const char *id)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	struct entry **slot = &q->table[h % TABLE_SIZE];
	while (*slot && strcmp((*slot)->id, id) != 0)
		slot = &(*slot)->next;
	return slot;
}

static void consider(struct queue *q, const char *id);

static void attempt_run(struct work *work)
{
	struct attempt *a = (struct attempt *)work;
	struct queue *q = a->queue;
	if (a->finishing) {
		/* Runs even when stopping: results must reach the journal. */
		delivery_finish(q->config, &q->spool, &a->state);
		return;
	}
	/* Stopping: attempts not yet begun are left for the next start
	 * (the spool is rescanned then). */
	if (__atomic_load_n(&q->stopping, __ATOMIC_RELAXED)) {
		a->state.outcome = DELIVERY_DEFERRED;
		return;
	}
	delivery_begin(q->config, &q->spool, &a->state);
}

static void set_aside(struct queue *q, const char *id)
{
	struct buf from = BUF_INIT, to = BUF_INIT, dir = BUF_INIT;
	buf_appendf(&dir, "%s/../corrupt", q->spool.queue_dir);
	const char *error;
	fs_mkdir_p(dir.data, 0700, &error);
	spool_path(&from, q->spool.queue_dir, id, "");
	spool_path(&to, dir.data, id, "");
	if (rename(from.data, to.data) == 0)
		log_msg(L_ERROR, "event=spool-set-aside id=%s path=%s", id,
		        LOG_Q(to.data));
	buf_free(&from);
	buf_free(&to);
	buf_free(&dir);
}

static void attempt_free(struct attempt *a)
{
	for (size_t j = 0; j < a->job_count; j++) {
		free(a->jobs[j].rcpts);
		free(a->jobs[j].domain);
		free(a->jobs[j].key);
	}
	free(a->jobs);
	attempt_state_clear(&a->state);
	free(a);
}

static void remote_job_done(struct mta_job *job)
{
	struct attempt *a = job->arg;
	if (--a->jobs_pending > 0)
		return;
	a->finishing = true;
	workpool_submit(a->queue->pool, &a->work);
}

/* The remote recipients, grouped by destination, go to the SMTP client. */
static void start_remote(struct attempt *a)
{
	struct attempt_state *st = &a->state;
	const struct envelope *env = &st->env;
	size_t n = env->rcpt_count;
	a->jobs = xcalloc(st->remote_count, sizeof(*a->jobs));
	for (size_t i = 0; i < n; i++) {
		if (!st->remote[i])
			continue;
		const char *at = strrchr(env->rcpts[i].address, '@');
		const char *domain = at ? at + 1 : "";
		struct route route;
		route_for_domain(a->queue->config, domain, false, &route);
		char *key = transport_key(&route);
		struct mta_job *job = NULL;
		for (size_t j = 0; j < a->job_count && job == NULL; j++)
			if (strcmp(a->jobs[j].key, key) == 0)
				job = &a->jobs[j];
		if (job) {
			free(key);
		} else {
			job = &a->jobs[a->job_count++];
			job->env = env;
			job->message = &st->message;
			job->message_len = message_source_size(&st->message);
			job->has_8bit = st->has_8bit;
			job->results = st->results;
			job->domain = xstrdup(domain);
			job->route = route;
			job->route.host =
			    route.kind == ROUTE_MX ? job->domain : route.host;
			job->key = key;
			job->done = remote_job_done;
			job->arg = a;
			job->rcpts = xcalloc(st->remote_count, sizeof(*job->rcpts));
		}
		job->rcpts[job->rcpt_count++] = i;
	}
	a->jobs_pending = a->job_count;
	for (size_t j = 0, count = a->job_count; j < count; j++)
		transport_submit(a->queue->transport, &a->jobs[j]);
}

static void attempt_done(struct work *work)
{
	struct attempt *a = (struct attempt *)work;
	struct queue *q = a->queue;
	struct entry *e = a->entry;
	struct attempt_state *st = &a->state;
	if (st->outcome == DELIVERY_REMOTE && !a->finishing) {
		if (q->stopping) {
			st->outcome = DELIVERY_DEFERRED;
		} else {
			start_remote(a);
			return;
		}
	}
	switch (st->outcome) {
	case DELIVERY_BROKEN:
		set_aside(q, e->id);
		/* fall through */
	case DELIVERY_DONE: {
		struct entry **slot = entry_slot(q, e->id);
		*slot = e->next;
		free(e);
		break;
	}
	case DELIVERY_HELD:
		e->state = ENTRY_HELD;
		break;
	default:
		e->state = ENTRY_WAITING;
		e->next_attempt = st->next_attempt;
		break;
	}
	for (size_t i = 0; i < st->new_dsn_count; i++)
		consider(q, st->new_dsns[i]);
	attempt_free(a);
}

static void start_attempt(struct queue *q, struct entry *e)
{
	struct attempt *a = xcalloc(1, sizeof(*a));
	a->work.run = attempt_run;
	a->work.done = attempt_done;
	a->queue = q;
	a->entry = e;
	memcpy(a->state.id, e->id, sizeof(e->id));
	a->state.forced = e->forced;
	e->forced = false;
	e->state = ENTRY_ACTIVE;
	workpool_submit(q->pool, &a->work);
}

/* A message we may not know yet: attempt it unless already in hand. */
static void consider(struct queue *q, const char *id)
{
	if (q->stopping)
		return;
	struct entry **slot = entry_slot(q, id);
	if (*slot)
		return;
	struct entry *e = xcalloc(1, sizeof(*e));
	memcpy(e->id, id, QUEUE_ID_LEN + 1);
	*slot = e;
	start_attempt(q, e);
}

/* Hooks for the control socket (control.h). */
static bool hook_is_active(void *queue, const char *id)
{
	struct entry *e = *entry_slot(queue, id);
	return e && e->state == ENTRY_ACTIVE;
}

static void hook_attempt_now(void *queue, const char *id)
{
	struct queue *q = queue;
	if (id == NULL) {
		for (size_t i = 0; i < TABLE_SIZE; i++)
			for (struct entry *e = q->table[i]; e; e = e->next)
				if (e->state == ENTRY_WAITING) {
					e->forced = true;
					start_attempt(q, e);
				}
		return;
	}
	struct entry **slot = entry_slot(q, id);
	if (*slot == NULL) {
		struct entry *e = xcalloc(1, sizeof(*e));
		memcpy(e->id, id, QUEUE_ID_LEN + 1);
		e->state = ENTRY_WAITING;
		*slot = e;
	}
	struct entry *e = *slot;
	if (e->state == ENTRY_WAITING && !q->stopping) {
		e->forced = true;
		start_attempt(q, e);
	}
}

static void hook_forget(void *queue, const char *id)
{
	struct entry **slot = entry_slot(queue, id);
	struct entry *e = *slot;
	if (e && e->state != ENTRY_ACTIVE) {
		*slot = e->next;
		free(e);
	}
}

static void hook_set_held(void *queue, const char *id, bool held)
{
	struct entry *e = *entry_slot(queue, id);
	if (e && e->state == (held ? ENTRY_WAITING : ENTRY_HELD))
		e->state = held ? ENTRY_HELD : ENTRY_WAITING;
}

static void scan_run(struct work *work)
{
	struct scan *scan = (struct scan *)work;
	DIR *dir = opendir(scan->queue->spool.queue_dir);
	if (dir == NULL)
		return;
	size_t cap = 0;
	struct dirent *d;
	while ((d = readdir(dir)) != NULL) {
		if (!queue_id_valid(d->d_name, strlen(d->d_name)))
			continue;
		xgrow((void **)&scan->ids, &cap, scan->count + 1, sizeof(*scan->ids));
		memcpy(scan->ids[scan->count++], d->d_name, QUEUE_ID_LEN + 1);
	}
	closedir(dir);
	spool_count_free(&scan->queue->spool);
}

static int compare_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void scan_done(struct work *work)
{
	struct scan *scan = (struct scan *)work;
	struct queue *q = scan->queue;
	q->scanning = false;
	/* Sorted IDs are arrival order: oldest first. */
	if (scan->count > 0)
		qsort(scan->ids, scan->count, sizeof(*scan->ids), compare_ids);
	for (size_t i = 0; i < scan->count; i++)
		consider(q, scan->ids[i]);
	free(scan->ids);
	free(scan);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct queue *q = arg;
	if (q->stopping)
		return;
	time_t now = time(NULL);
	int64_t messages = 0;
	const char *oldest = NULL;
	for (size_t i = 0; i < TABLE_SIZE; i++)
		for (struct entry *e = q->table[i]; e; e = e->next) {
			messages++;
			if (oldest == NULL || strcmp(e->id, oldest) < 0)
				oldest = e->id; /* IDs sort in arrival order */
			if (e->state == ENTRY_WAITING && e->next_attempt <= now)
				start_attempt(q, e);
		}
	metrics_set(METRIC_QUEUE_MESSAGES, "", messages);
	metrics_set(METRIC_QUEUE_OLDEST, "",
	            oldest ? (int64_t)now - (int64_t)(queue_id_usec(oldest) / 1000000)
	                   : 0);
	if (!q->scanning) {
		q->scanning = true;
		struct scan *scan = xcalloc(1, sizeof(*scan));
		scan->work.run = scan_run;
		scan->work.done = scan_done;
		scan->queue = q;
		workpool_submit(q->pool, &scan->work);
	}
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct queue *q = arg;
	struct ipc_message message;
	while (ipc_receive(fd, &message) > 0)
		consider(q, message.id);
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct queue *q = arg;
	log_msg(L_INFO, "event=shutdown in_progress=%u", workpool_pending(q->pool));
	__atomic_store_n(&q->stopping, true, __ATOMIC_RELAXED);
	event_base_loopbreak(q->base);
}

int queue_run(const struct config *config, int notify_fd, const char **error_r)
{
	struct queue *q = xcalloc(1, sizeof(*q));
	q->config = config;
	evthread_use_pthreads();
	q->base = event_base_new();
	if (spool_open(&q->spool, config->home, error_r) < 0) {
		event_base_free(q->base);
		free(q);
		return -1;
	}
	q->pool = workpool_create(q->base, DELIVERY_THREADS);
	struct dns_resolver_config dns;
	dns_resolver_config_from(&dns, config);
	q->resolver = dns_resolver_create(q->base, &dns, error_r);
	if (q->resolver)
		/* Said at start: a resolver that cannot be reached otherwise
		 * shows only as deferred deliveries. */
		log_msg(L_INFO, "event=dns-resolver upstream=%s dnssec=%s",
		        LOG_Q(dns_resolver_upstream(q->resolver)),
		        config->dns.trust_anchor ? "validating" : "off");
	q->transport =
	    q->resolver ? transport_create(q->base, config, q->resolver, error_r) : NULL;
	if (q->transport == NULL) {
		dns_resolver_destroy(&q->resolver);
		workpool_destroy(&q->pool);
		spool_close(&q->spool);
		event_base_free(q->base);
		free(q);
		return -1;
	}
	struct control_hooks hooks = {
	    .is_active = hook_is_active,
	    .attempt_now = hook_attempt_now,
	    .forget = hook_forget,
	    .set_held = hook_set_held,
	    .queue = q,
	};
	struct control *control =
	    control_start(q->base, q->pool, &q->spool, &hooks, error_r);
	if (control == NULL)
		log_msg(L_ERROR, "event=control-socket-failed error=%s", LOG_Q(*error_r));
	struct event *notify =
	    event_new(q->base, notify_fd, EV_READ | EV_PERSIST, on_notify, q);
	struct event *tick = event_new(q->base, -1, EV_PERSIST, on_tick, q);
	struct event *term = evsignal_new(q->base, SIGTERM, on_sigterm, q);
	struct event *intr = evsignal_new(q->base, SIGINT, on_sigterm, q);
	struct timeval interval = {SCAN_INTERVAL_SECONDS, 0};
	event_add(notify, NULL);
	event_add(tick, &interval);
	event_add(term, NULL);
	event_add(intr, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	on_tick(-1, 0, q); /* recover what is already in the spool */

	event_base_dispatch(q->base);

	/* Remote deliveries in progress are cut off and deferred; their
	 * results so far are journalled by the finishing half, which runs
	 * even now. Local attempts already running finish (a delivery is
	 * never cut midway); queued ones return at once (attempt_run). */
	transport_stop(q->transport);
	dns_resolver_destroy(&q->resolver);
	event_base_loop(q->base, EVLOOP_NONBLOCK); /* frees closed connections */
	transport_destroy(&q->transport);
	workpool_destroy(&q->pool);
	control_stop(&control);
	for (size_t i = 0; i < TABLE_SIZE; i++) {
		for (struct entry *e = q->table[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	event_free(notify);
	event_free(tick);
	event_free(term);
	event_free(intr);
	spool_close(&q->spool);
	event_base_free(q->base);
	free(q);
	return 0;
}
