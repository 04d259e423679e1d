/*
 * event.c — an event's log line and metric updates (see event.h).
 */
#include "lib/event.h"

#include <string.h>

#include "lib/buf.h"

static const struct event_field *field(const struct event_field *fields, size_t count,
                                       const char *key)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(fields[i].key, key) == 0)
			return &fields[i];
	return NULL;
}

static void update(const struct event_metric *m, const struct event_field *fields,
                   size_t count)
{
	char labels[METRICS_LABELS_MAX];
	snprintf(labels, sizeof(labels), "%s", m->fixed ? m->fixed : "");
	for (size_t i = 0; i < 3 && m->labels[i]; i++) {
		const struct event_field *f = field(fields, count, m->labels[i]);
		metrics_label(labels, sizeof(labels), m->labels[i],
		              f && f->text ? f->text : "");
	}
	const struct event_field *value =
	    m->value ? field(fields, count, m->value) : NULL;
	if (metrics_is_histogram(m->family))
		metrics_observe(m->family, labels, value ? value->seconds : 0);
	else
		metrics_add(m->family, labels, value ? value->number : 1);
}

void event_emit(enum log_level level, const struct event_def *def,
                const struct event_field *fields, size_t count)
{
	for (unsigned i = 0; i < def->metric_count; i++)
		update(&def->metrics[i], fields, count);
	if (!log_enabled(level))
		return;
	struct buf line = BUF_INIT;
	buf_appendf(&line, "event=%s", def->name);
	for (size_t i = 0; i < count; i++) {
		const struct event_field *f = &fields[i];
		if (f->kind == EF_LABEL || (f->kind == EF_OPTIONAL && f->text == NULL))
			continue;
		buf_appendf(&line, " %s=", f->key);
		switch (f->kind) {
		case EF_TEXT:
		case EF_OPTIONAL:
			buf_append_quoted(&line, f->text ? f->text : "",
			                  f->text ? strlen(f->text) : 0);
			break;
		case EF_WORD:
			buf_append_str(&line, f->text ? f->text : "-");
			break;
		case EF_UINT:
			buf_appendf(&line, "%llu", (unsigned long long)f->number);
			break;
		case EF_SECONDS:
			buf_appendf(&line, "%.3fs", f->seconds);
			break;
		case EF_LABEL:
			break;
		}
	}
	log_msg(level, "%s", buf_cstr(&line));
	buf_free(&line);
}
