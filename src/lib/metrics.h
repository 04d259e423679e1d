/*
 * metrics.h — counters, gauges and histograms shared by every petrel
 * process, rendered in the Prometheus text format (version 0.0.4) for
 * the http listener's /metrics and for `petrel stats`.
 *
 * The store is shared memory that the master maps before it forks, with
 * a fixed number of series: no allocation, no lock on the hot path (a
 * series found is updated with one atomic add). Creating a series takes
 * a process-shared robust mutex, once per series for the life of the
 * daemon. Label values must come from small sets (verbs, reply classes,
 * statuses), never from peers: the number of series is bounded by the
 * code, and a full store drops new series and counts them.
 *
 * Most metrics change through events (lib/event.h); gauges such as the
 * queue's size are set directly.
 */
#ifndef PETREL_METRICS_H
#define PETREL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum metric_family {
	METRIC_CONNECTIONS,      /* counter {protocol, result} */
	METRIC_SESSIONS,         /* counter {protocol, tls} at the end of a session */
	METRIC_COMMANDS,         /* counter {verb, reply} */
	METRIC_COMMAND_SECONDS,  /* histogram {verb} */
	METRIC_MESSAGES,         /* counter {result} */
	METRIC_RECEIVED_BYTES,   /* counter */
	METRIC_DELIVERIES,       /* counter {transport, status} */
	METRIC_DELIVERY_SECONDS, /* histogram {transport}: one attempt */
	METRIC_QUEUE_MESSAGES,   /* gauge */
	METRIC_QUEUE_OLDEST,     /* gauge: seconds */
	METRIC_DNS_LOOKUPS,      /* counter {result} */
	METRIC_DNS_CACHE_HITS,   /* counter */
	METRIC_LOGINS,           /* counter {mechanism, result} */
	METRIC_AUTH_LOOKUPS,     /* counter {cache}: hit or miss */
	METRIC_MAILBOX_COMMANDS,        /* counter {protocol, command, result}: IMAP, POP3 */
	METRIC_MAILBOX_COMMAND_SECONDS, /* histogram {protocol, command} */
	METRIC_START_TIME,       /* gauge: Unix seconds */
	METRIC_DROPPED_SERIES,   /* counter: series the full store could not hold */
	METRIC_FAMILY_COUNT
};

struct metrics_store;

/* In the master, before forking: the store every process of this daemon
 * then uses (metrics_current). */
struct metrics_store *metrics_create(const char **error_r);
void metrics_destroy(struct metrics_store **store);
struct metrics_store *metrics_current(void);

/* labels: `key="value",key="value"` (already escaped), or "". Without a
 * store (the CLI, unit tests of other modules) these do nothing. */
void metrics_add(enum metric_family family, const char *labels, uint64_t n);
void metrics_set(enum metric_family family, const char *labels, int64_t value);
/* A counter's or gauge's value as every process sees it (0: none yet). */
int64_t metrics_value(enum metric_family family, const char *labels);
void metrics_observe(enum metric_family family, const char *labels, double seconds);
bool metrics_is_histogram(enum metric_family family);

/* Appends `key="value"` to the string labels of size octets (with a comma
 * when not the first), escaping the value as the text format requires;
 * -1 (labels unchanged) when it does not fit. */
int metrics_label(char *labels, size_t size, const char *key, const char *value);

/* The longest labels string a series holds, with its NUL. */
#define METRICS_LABELS_MAX 96

/* Every family, in the Prometheus text format. */
void metrics_render(const struct metrics_store *store, struct buf *out);

#endif
