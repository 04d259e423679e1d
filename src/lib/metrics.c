/*
 * metrics.c — the shared metrics store (see metrics.h).
 *
 * Series live in an open-addressing table of fixed size. A slot goes from
 * empty to ready once, under the mutex, and is never removed; readers
 * find ready slots without the mutex (the labels are written before the
 * state is published with release order).
 */
#include "lib/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/shm.h"

#define SERIES     1024
#define LABELS_MAX METRICS_LABELS_MAX
#define BUCKETS    14 /* finite upper bounds; +Inf is the count */

enum { SLOT_EMPTY, SLOT_READY };

enum metric_type { COUNTER, GAUGE, HISTOGRAM };

static const struct {
	const char *name;
	enum metric_type type;
	const char *help;
} families[METRIC_FAMILY_COUNT] = {
    [METRIC_CONNECTIONS] = {"petrel_connections_total", COUNTER,
                            "Connections accepted or refused, by protocol."},
    [METRIC_SESSIONS] = {"petrel_sessions_total", COUNTER,
                         "Sessions ended, by protocol and TLS version."},
    [METRIC_COMMANDS] = {"petrel_smtp_commands_total", COUNTER,
                         "SMTP commands, by verb and class of the reply."},
    [METRIC_COMMAND_SECONDS] = {"petrel_smtp_command_duration_seconds", HISTOGRAM,
                                "Time from an SMTP command to its reply."},
    [METRIC_MESSAGES] = {"petrel_messages_total", COUNTER,
                         "Messages at the end of data: accepted, rejected, "
                         "deferred or discarded."},
    [METRIC_RECEIVED_BYTES] = {"petrel_received_bytes_total", COUNTER,
                               "Octets of messages accepted."},
    [METRIC_DELIVERIES] = {"petrel_deliveries_total", COUNTER,
                           "Delivery attempts per recipient, by transport and "
                           "status."},
    [METRIC_DELIVERY_SECONDS] = {"petrel_delivery_attempt_duration_seconds", HISTOGRAM,
                                 "Time of one delivery attempt."},
    [METRIC_QUEUE_MESSAGES] = {"petrel_queue_messages", GAUGE, "Messages in the queue."},
    [METRIC_QUEUE_OLDEST] = {"petrel_queue_oldest_message_age_seconds", GAUGE,
                             "Age of the oldest message in the queue."},
    [METRIC_DNS_LOOKUPS] = {"petrel_dns_lookups_total", COUNTER,
                            "DNS lookups, by result."},
    [METRIC_DNS_CACHE_HITS] = {"petrel_dns_cache_hits_total", COUNTER,
                               "DNS lookups answered from petrel's cache."},
    [METRIC_MAILBOX_COMMANDS] = {"petrel_mailbox_commands_total", COUNTER,
                                 "IMAP and POP3 commands, by protocol, command and "
                                 "result (ok, no, bad; POP3: ok, err)."},
    [METRIC_MAILBOX_COMMAND_SECONDS] = {"petrel_mailbox_command_duration_seconds",
                                        HISTOGRAM,
                                        "Time from an IMAP or POP3 command to its reply "
                                        "(a FETCH or RETR: until its last octet is out)."},
    [METRIC_LOGINS] = {"petrel_logins_total", COUNTER,
                       "SASL logins, by mechanism and result."},
    [METRIC_AUTH_LOOKUPS] = {"petrel_auth_lookups_total", COUNTER,
                             "User database lookups (recipients, senders), by "
                             "whether a remembered answer served them."},
    [METRIC_START_TIME] = {"petrel_start_time_seconds", GAUGE,
                           "When the daemon started, in Unix seconds."},
    [METRIC_DROPPED_SERIES] = {"petrel_metrics_dropped_series_total", COUNTER,
                               "Updates lost because the metrics store was full."},
};

/* Upper bounds of the histogram buckets, in seconds. */
static const double bounds[BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                       0.1,    0.25,  0.5,    1,     2.5,  5,     10};

struct series {
	uint32_t state; /* SLOT_EMPTY until published */
	uint32_t family;
	char labels[LABELS_MAX];
	uint64_t value;  /* counter; gauge as int64; histogram: count */
	uint64_t sum_ns; /* histogram */
	uint64_t buckets[BUCKETS];
};

struct metrics_store {
	pthread_mutex_t lock;
	uint64_t dropped;
	struct series series[SERIES];
};

static struct metrics_store *current;

struct metrics_store *metrics_create(const char **error_r)
{
	struct metrics_store *store =
	    shm_map(sizeof(struct metrics_store), "the metrics store", error_r);
	if (store == NULL)
		return NULL;
	shm_mutex_init(&store->lock);
	current = store;
	return store;
}

void metrics_destroy(struct metrics_store **store)
{
	if (*store == NULL)
		return;
	if (current == *store)
		current = NULL;
	shm_unmap(*store, sizeof(**store));
	*store = NULL;
}

struct metrics_store *metrics_current(void)
{
	return current;
}

static uint32_t hash(enum metric_family family, const char *labels)
{
	uint32_t h = 2166136261u ^ (uint32_t)family;
	for (const char *p = labels; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static bool matches(const struct series *s, enum metric_family family, const char *labels)
{
	return s->family == (uint32_t)family && strcmp(s->labels, labels) == 0;
}

/* The series of family and labels, created on first use; NULL when the
 * store is full (counted) or the labels too long (a bug: counted too). */
static struct series *find(struct metrics_store *store, enum metric_family family,
                           const char *labels)
{
	if (strlen(labels) >= LABELS_MAX) {
		__atomic_add_fetch(&store->dropped, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	uint32_t start = hash(family, labels) % SERIES;
	for (uint32_t n = 0; n < SERIES; n++) {
		struct series *s = &store->series[(start + n) % SERIES];
		uint32_t state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		if (state == SLOT_READY) {
			if (matches(s, family, labels))
				return s;
			continue;
		}
		/* An empty slot: create the series here, unless another
		 * process did meanwhile (here or further on). */
		shm_lock(&store->lock);
		struct series *found = NULL;
		for (uint32_t m = n; m < SERIES && found == NULL; m++) {
			struct series *t = &store->series[(start + m) % SERIES];
			if (t->state == SLOT_READY) {
				if (matches(t, family, labels))
					found = t;
				continue;
			}
			t->family = (uint32_t)family;
			snprintf(t->labels, sizeof(t->labels), "%s", labels);
			__atomic_store_n(&t->state, SLOT_READY, __ATOMIC_RELEASE);
			found = t;
		}
		pthread_mutex_unlock(&store->lock);
		if (found == NULL)
			break;
		return found;
	}
	__atomic_add_fetch(&store->dropped, 1, __ATOMIC_RELAXED);
	return NULL;
}

void metrics_add(enum metric_family family, const char *labels, uint64_t n)
{
	struct series *s = current ? find(current, family, labels) : NULL;
	if (s)
		__atomic_add_fetch(&s->value, n, __ATOMIC_RELAXED);
}

void metrics_set(enum metric_family family, const char *labels, int64_t value)
{
	struct series *s = current ? find(current, family, labels) : NULL;
	if (s)
		__atomic_store_n(&s->value, (uint64_t)value, __ATOMIC_RELAXED);
}

int64_t metrics_value(enum metric_family family, const char *labels)
{
	struct series *s = current ? find(current, family, labels) : NULL;
	return s ? (int64_t)__atomic_load_n(&s->value, __ATOMIC_RELAXED) : 0;
}

bool metrics_is_histogram(enum metric_family family)
{
	return families[family].type == HISTOGRAM;
}

void metrics_observe(enum metric_family family, const char *labels, double seconds)
{
	struct series *s = current ? find(current, family, labels) : NULL;
	if (s == NULL)
		return;
	size_t bucket = 0;
	while (bucket < BUCKETS && seconds > bounds[bucket])
		bucket++;
	if (bucket < BUCKETS)
		__atomic_add_fetch(&s->buckets[bucket], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->sum_ns, (uint64_t)(seconds > 0 ? seconds * 1e9 : 0),
	                   __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->value, 1, __ATOMIC_RELAXED);
}

int metrics_label(char *labels, size_t size, const char *key, const char *value)
{
	size_t start = strlen(labels), n = start;
	int w = snprintf(labels + n, size - n, "%s%s=\"", n ? "," : "", key);
	if (w < 0 || (size_t)w >= size - n)
		goto too_long;
	n += (size_t)w;
	for (const char *p = value; *p; p++) {
		bool escape = *p == '\\' || *p == '"' || *p == '\n';
		if (n + (escape ? 2 : 1) + 2 > size)
			goto too_long;
		if (escape)
			labels[n++] = '\\';
		labels[n++] = *p == '\n' ? 'n' : *p;
	}
	labels[n++] = '"';
	labels[n] = '\0';
	return 0;
too_long:
	labels[start] = '\0';
	return -1;
}

/* name{labels,extra} or name{extra} or name{labels} or name. */
static void series_name(struct buf *out, const char *name, const char *suffix,
                        const char *labels, const char *extra)
{
	buf_appendf(out, "%s%s", name, suffix);
	if (labels[0] || extra[0])
		buf_appendf(out, "{%s%s%s}", labels, labels[0] && extra[0] ? "," : "",
		            extra);
	buf_append_str(out, " ");
}

static void render_series(struct buf *out, enum metric_family family,
                          const struct series *s)
{
	const char *name = families[family].name;
	uint64_t value = __atomic_load_n(&s->value, __ATOMIC_RELAXED);
	switch (families[family].type) {
	case COUNTER:
		series_name(out, name, "", s->labels, "");
		buf_appendf(out, "%llu\n", (unsigned long long)value);
		break;
	case GAUGE:
		series_name(out, name, "", s->labels, "");
		buf_appendf(out, "%lld\n", (long long)value);
		break;
	case HISTOGRAM: {
		uint64_t cumulative = 0;
		for (size_t i = 0; i < BUCKETS; i++) {
			char le[32];
			cumulative += __atomic_load_n(&s->buckets[i], __ATOMIC_RELAXED);
			snprintf(le, sizeof(le), "le=\"%g\"", bounds[i]);
			series_name(out, name, "_bucket", s->labels, le);
			buf_appendf(out, "%llu\n", (unsigned long long)cumulative);
		}
		/* +Inf is the count: read once, so that it is never below the
		 * finite buckets read before it. */
		if (value < cumulative)
			value = cumulative;
		series_name(out, name, "_bucket", s->labels, "le=\"+Inf\"");
		buf_appendf(out, "%llu\n", (unsigned long long)value);
		series_name(out, name, "_sum", s->labels, "");
		buf_appendf(out, "%.9f\n",
		            (double)__atomic_load_n(&s->sum_ns, __ATOMIC_RELAXED) / 1e9);
		series_name(out, name, "_count", s->labels, "");
		buf_appendf(out, "%llu\n", (unsigned long long)value);
		break;
	}
	}
}

void metrics_render(const struct metrics_store *store, struct buf *out)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};
	for (int family = 0; family < METRIC_FAMILY_COUNT; family++) {
		buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", families[family].name,
		            families[family].help, families[family].name,
		            type_names[families[family].type]);
		if (family == METRIC_DROPPED_SERIES) {
			buf_appendf(out, "%s %llu\n", families[family].name,
			            (unsigned long long)__atomic_load_n(
			                &store->dropped, __ATOMIC_RELAXED));
			continue;
		}
		for (size_t i = 0; i < SERIES; i++) {
			const struct series *s = &store->series[i];
			if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_READY &&
			    s->family == (uint32_t)family)
				render_series(out, family, s);
		}
	}
}
