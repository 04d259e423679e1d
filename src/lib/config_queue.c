/*
 * config_queue.c — the `queue:` section: the retry schedule and when
 * senders hear about delays and failures.
 */
#include "lib/config_sections.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define SEVEN_DAYS (7 * 86400)

static int read_retry(struct loader *ld, struct fy_node *node, void *base)
{
	struct queue_config *q = base;
	if (loader_sequence(ld, node, "queue.retry") < 0)
		return -1;
	free(q->retry);
	q->retry = NULL;
	q->retry_count = 0;
	size_t cap = 0;
	void *iter = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
		xgrow((void **)&q->retry, &cap, q->retry_count + 1, sizeof(*q->retry));
		if (loader_duration(ld, item, 1, SEVEN_DAYS,
		                    &q->retry[q->retry_count++]) < 0)
			return -1;
	}
	return 0;
}

static void print_retry(FILE *out, const void *base, int indent)
{
	(void)indent;
	const struct queue_config *q = base;
	fprintf(out, " [");
	for (size_t i = 0; i < q->retry_count; i++) {
		fputs(i ? ", " : "", out);
		config_print_duration(out, q->retry[i]);
	}
	fprintf(out, "]\n");
}

static void free_retry(void *base)
{
	struct queue_config *q = base;
	x_free(&q->retry);
	q->retry_count = 0;
}

static void default_retry(void *base)
{
	static const unsigned schedule[] = {300, 600, 1200, 2400};
	struct queue_config *q = base;
	q->retry = xmalloc(sizeof(schedule));
	memcpy(q->retry, schedule, sizeof(schedule));
	q->retry_count = sizeof(schedule) / sizeof(schedule[0]);
}

static const struct config_custom retry = {read_retry, print_retry, free_retry,
                                           default_retry};

#define AGE(key, field, dflt, lo, help)                                                  \
	CONFIG_ROW_DURATION(key, struct queue_config, field, dflt, lo, SEVEN_DAYS, help)

static const struct config_key queue_keys[] = {
    CONFIG_ROW_CUSTOM("retry", &retry, "`[5m, 10m, 20m, 40m]`",
                      "delays after the first temporary failures"),
    AGE("retry_interval", retry_interval, 3600, 1,
        "then this, until the message is `retry_slow_after` old"),
    AGE("retry_slow_after", retry_slow_after, 4 * 3600, 0, "see `retry_interval`"),
    AGE("retry_slow_interval", retry_slow_interval, 4 * 3600, 1, "then this"),
    AGE("delay_warning", delay_warning, 4 * 3600, 0,
        "a delay notice (RFC 3464) at this age, once; `0`: never"),
    AGE("max_lifetime", max_lifetime, 5 * 86400, 1,
        "then undelivered recipients are bounced"),
    {0},
};

const struct config_section config_queue_section = {"queue", queue_keys, NULL};
