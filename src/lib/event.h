/*
 * event.h — one call for what happened: a named event with typed fields
 * that writes the log line (lib/log.h's format: `event=NAME key=value`)
 * and updates the metrics the event's definition names (lib/metrics.h),
 * in every process, whether or not the line's level is logged.
 *
 *     EVENT(L_INFO, &event_connect, EV_WORD("session", s->log_id),
 *           EV_TEXT("client", ip), EV_WORD("protocol", "smtp"));
 *
 * An event's definition (events.c) says which fields label which
 * metrics; label values come from small sets the code controls (verbs,
 * statuses), never from peers.
 */
#ifndef PETREL_EVENT_H
#define PETREL_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/log.h"
#include "lib/metrics.h"

enum event_kind {
	EF_TEXT,     /* peer data or free text: quoted when it needs it */
	EF_WORD,     /* our own token (an ID, a status): written as it is */
	EF_UINT,     /* a number */
	EF_SECONDS,  /* a duration, written "0.310s" */
	EF_LABEL,    /* a metric label only, not written in the line */
	EF_OPTIONAL, /* as EF_TEXT, but the field is left out when NULL */
};

struct event_field {
	const char *key;
	enum event_kind kind;
	const char *text;
	uint64_t number;
	double seconds;
};

#define EV_TEXT(k, v)                                                                    \
	{                                                                                \
		.key = (k), .kind = EF_TEXT, .text = (v)                                 \
	}
#define EV_OPTIONAL(k, v)                                                                \
	{                                                                                \
		.key = (k), .kind = EF_OPTIONAL, .text = (v)                             \
	}
#define EV_WORD(k, v)                                                                    \
	{                                                                                \
		.key = (k), .kind = EF_WORD, .text = (v)                                 \
	}
#define EV_UINT(k, v)                                                                    \
	{                                                                                \
		.key = (k), .kind = EF_UINT, .number = (v)                               \
	}
#define EV_SECONDS(k, v)                                                                 \
	{                                                                                \
		.key = (k), .kind = EF_SECONDS, .seconds = (v)                           \
	}
#define EV_LABEL(k, v)                                                                   \
	{                                                                                \
		.key = (k), .kind = EF_LABEL, .text = (v)                                \
	}

/* What one event does to one metric family. */
struct event_metric {
	enum metric_family family;
	const char *labels[3]; /* fields whose values label the series */
	const char *fixed;     /* labels that are always the same, or NULL */
	const char *value;     /* counter: this field's number is added (NULL:
	                          1); histogram: this field's seconds */
};

struct event_def {
	const char *name;
	struct event_metric metrics[2];
	unsigned metric_count;
};

void event_emit(enum log_level level, const struct event_def *def,
                const struct event_field *fields, size_t count);

#define EVENT(level, def, ...)                                                           \
	event_emit(level, def, (const struct event_field[]){__VA_ARGS__},                \
	           sizeof((const struct event_field[]){__VA_ARGS__}) /                   \
	               sizeof(struct event_field))

/* The events that count (events.c). */
extern const struct event_def event_connect, event_connection_refused, event_disconnect,
    event_command, event_auth, event_queued, event_message_refused,
    event_message_discarded, event_delivery, event_dns_lookup, event_http_request,
    event_imap_command, event_pop3_command;

#endif
