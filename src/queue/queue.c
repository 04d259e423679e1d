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
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "master/ipc.h"
#include "queue/delivery.h"
#include "queue/spool.h"

#define DELIVERY_THREADS      8
#define SCAN_INTERVAL_SECONDS 5
#define RETRY_SECONDS         300 /* first step of RFC 5321 4.5.4.1's schedule */
#define TABLE_SIZE            8191

enum entry_state { ENTRY_ACTIVE, ENTRY_WAITING };

struct entry {
	char id[QUEUE_ID_LEN + 1];
	enum entry_state state;
	time_t next_attempt;
	unsigned attempts;
	struct entry *next;
};

struct queue {
	const struct config *config;
	struct event_base *base;
	struct spool spool;
	struct workpool *pool;
	struct entry *table[TABLE_SIZE];
	bool scanning;
	bool stopping;
};

struct attempt {
	struct work work;
	struct queue *queue;
	struct entry *entry;
	enum delivery_outcome outcome;
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

static void attempt_run(struct work *work)
{
	struct attempt *a = (struct attempt *)work;
	/* Stopping: attempts not yet begun are left for the next start
	 * (the spool is rescanned then); one already running finishes. */
	if (__atomic_load_n(&a->queue->stopping, __ATOMIC_RELAXED)) {
		a->outcome = DELIVERY_DEFERRED;
		return;
	}
	a->outcome = delivery_attempt(a->queue->config, &a->queue->spool, a->entry->id);
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

static void attempt_done(struct work *work)
{
	struct attempt *a = (struct attempt *)work;
	struct queue *q = a->queue;
	struct entry *e = a->entry;
	if (a->outcome == DELIVERY_BROKEN)
		set_aside(q, e->id);
	if (a->outcome == DELIVERY_DEFERRED) {
		e->state = ENTRY_WAITING;
		e->attempts++;
		e->next_attempt = time(NULL) + RETRY_SECONDS;
	} else {
		struct entry **slot = entry_slot(q, e->id);
		*slot = e->next;
		free(e);
	}
	free(a);
}

static void start_attempt(struct queue *q, struct entry *e)
{
	struct attempt *a = xcalloc(1, sizeof(*a));
	a->work.run = attempt_run;
	a->work.done = attempt_done;
	a->queue = q;
	a->entry = e;
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
	for (size_t i = 0; i < TABLE_SIZE; i++)
		for (struct entry *e = q->table[i]; e; e = e->next)
			if (e->state == ENTRY_WAITING && e->next_attempt <= now)
				start_attempt(q, e);
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

	/* Attempts already running finish (a delivery is never cut midway);
	 * queued ones return at once (attempt_run). */
	workpool_destroy(&q->pool);
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
