/*
 * test-metrics.c — the shared metrics store and events: counters and
 * gauges, histogram buckets cumulative with +Inf equal to the count,
 * label escaping, updates from a forked child seen by the parent, a full
 * store counting what it drops, and an event updating its families.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/metrics.h"

static struct buf rendered(void)
{
	struct buf out = BUF_INIT;
	metrics_render(metrics_current(), &out);
	return out;
}

static void assert_line(const struct buf *text, const char *line)
{
	char needle[512];
	snprintf(needle, sizeof(needle), "\n%s\n", line);
	if (strstr(buf_cstr(text), needle) == NULL)
		fail_msg("no line '%s' in:\n%s", line, buf_cstr(text));
}

static void test_counters_and_histograms(void **state)
{
	(void)state;
	const char *error;
	struct metrics_store *store = metrics_create(&error);
	assert_non_null(store);
	metrics_add(METRIC_MESSAGES, "result=\"accepted\"", 2);
	metrics_add(METRIC_MESSAGES, "result=\"accepted\"", 1);
	metrics_set(METRIC_QUEUE_MESSAGES, "", 7);
	metrics_observe(METRIC_COMMAND_SECONDS, "verb=\"MAIL\"", 0.0004);
	metrics_observe(METRIC_COMMAND_SECONDS, "verb=\"MAIL\"", 0.3);
	metrics_observe(METRIC_COMMAND_SECONDS, "verb=\"MAIL\"", 60);
	struct buf text = rendered();
	assert_line(&text, "# TYPE petrel_messages_total counter");
	assert_line(&text, "petrel_messages_total{result=\"accepted\"} 3");
	assert_line(&text, "petrel_queue_messages 7");
	assert_line(
	    &text,
	    "petrel_smtp_command_duration_seconds_bucket{verb=\"MAIL\",le=\"0.0005\"} 1");
	assert_line(
	    &text,
	    "petrel_smtp_command_duration_seconds_bucket{verb=\"MAIL\",le=\"0.25\"} 1");
	assert_line(
	    &text,
	    "petrel_smtp_command_duration_seconds_bucket{verb=\"MAIL\",le=\"0.5\"} 2");
	assert_line(
	    &text,
	    "petrel_smtp_command_duration_seconds_bucket{verb=\"MAIL\",le=\"10\"} 2");
	assert_line(
	    &text,
	    "petrel_smtp_command_duration_seconds_bucket{verb=\"MAIL\",le=\"+Inf\"} 3");
	assert_line(&text, "petrel_smtp_command_duration_seconds_count{verb=\"MAIL\"} 3");
	assert_line(
	    &text,
	    "petrel_smtp_command_duration_seconds_sum{verb=\"MAIL\"} 60.300400000");
	buf_free(&text);
	metrics_destroy(&store);
	assert_null(metrics_current());
	metrics_add(METRIC_MESSAGES, "", 1); /* no store: nothing, no crash */
}

static void test_labels_escaped(void **state)
{
	(void)state;
	char labels[METRICS_LABELS_MAX] = "";
	assert_int_equal(metrics_label(labels, sizeof(labels), "a", "x\"y\\z\n"), 0);
	assert_string_equal(labels, "a=\"x\\\"y\\\\z\\n\"");
	assert_int_equal(metrics_label(labels, sizeof(labels), "b", "2"), 0);
	assert_string_equal(labels, "a=\"x\\\"y\\\\z\\n\",b=\"2\"");
	char big[200];
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(metrics_label(labels, sizeof(labels), "c", big), -1);
	assert_string_equal(labels, "a=\"x\\\"y\\\\z\\n\",b=\"2\""); /* unchanged */
}

static void test_shared_across_fork(void **state)
{
	(void)state;
	const char *error;
	struct metrics_store *store = metrics_create(&error);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 1000; i++)
			metrics_add(METRIC_DNS_CACHE_HITS, "", 1);
		_exit(0);
	}
	for (int i = 0; i < 1000; i++)
		metrics_add(METRIC_DNS_CACHE_HITS, "", 1);
	int status;
	waitpid(pid, &status, 0);
	struct buf text = rendered();
	assert_line(&text, "petrel_dns_cache_hits_total 2000");
	buf_free(&text);
	metrics_destroy(&store);
}

static void test_full_store_drops(void **state)
{
	(void)state;
	const char *error;
	struct metrics_store *store = metrics_create(&error);
	char labels[64];
	for (int i = 0; i < 1100; i++) {
		snprintf(labels, sizeof(labels), "result=\"r%d\"", i);
		metrics_add(METRIC_DNS_LOOKUPS, labels, 1);
	}
	struct buf text = rendered();
	assert_line(&text, "petrel_metrics_dropped_series_total 76"); /* 1100 - 1024 */
	assert_line(&text, "petrel_dns_lookups_total{result=\"r0\"} 1");
	buf_free(&text);
	metrics_destroy(&store);
}

static void test_event_updates_its_families(void **state)
{
	(void)state;
	const char *error;
	struct metrics_store *store = metrics_create(&error);
	log_init("test", L_ERROR, false); /* the line itself is not written */
	EVENT(L_INFO, &event_queued, EV_WORD("id", "X"), EV_UINT("size", 1234));
	EVENT(L_INFO, &event_queued, EV_WORD("id", "Y"), EV_UINT("size", 16));
	EVENT(L_DEBUG, &event_command, EV_WORD("command", "RCPT"),
	      EV_LABEL("verb", "RCPT"), EV_LABEL("reply_class", "5xx"),
	      EV_SECONDS("duration", 0.002));
	struct buf text = rendered();
	assert_line(&text, "petrel_messages_total{result=\"accepted\"} 2");
	assert_line(&text, "petrel_received_bytes_total 1250");
	assert_line(&text,
	            "petrel_smtp_commands_total{verb=\"RCPT\",reply_class=\"5xx\"} 1");
	assert_line(
	    &text,
	    "petrel_smtp_command_duration_seconds_bucket{verb=\"RCPT\",le=\"0.0025\"} 1");
	buf_free(&text);
	metrics_destroy(&store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counters_and_histograms),
	    cmocka_unit_test(test_labels_escaped),
	    cmocka_unit_test(test_shared_across_fork),
	    cmocka_unit_test(test_full_store_drops),
	    cmocka_unit_test(test_event_updates_its_families),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
