/*
 * test-msg_status.c — the per-recipient journal and the retry schedule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "queue/msg_status.h"
#include "queue/retry.h"

static void test_records_round_trip(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	status_record_delivered(&b, 0);
	status_record_failure(&b, 1, false, "4.4.1", "mx.test[127.0.0.1]:25",
	                      "smtp; connection refused");
	status_record_failure(&b, 2, true, "5.1.1", "mx.test[127.0.0.1]:25",
	                      "smtp; 550 5.1.1 no\r\nF 0 such user");
	status_record_retry(&b, 3, 1700000000);
	status_record_hold(&b, true);
	size_t failed[] = {2};
	status_record_intent(&b, DSN_FAILURE, "1K0YXEC2ZAB0040Y", failed, 1);
	status_record_commit(&b, "1K0YXEC2ZAB0040Y");
	struct msg_status st;
	msg_status_init(&st, 3);
	msg_status_apply(&st, b.data, b.len);
	assert_int_equal(st.rcpt[0].state, RCPT_DELIVERED);
	assert_int_equal(st.rcpt[1].state, RCPT_PENDING);
	assert_true(st.rcpt[1].temp_failed);
	assert_string_equal(st.rcpt[1].dsn, "4.4.1");
	assert_string_equal(st.rcpt[1].diagnostic, "smtp; connection refused");
	assert_int_equal(st.rcpt[2].state, RCPT_FAILED);
	/* A forged record inside a reply stays inside the string. */
	assert_string_equal(st.rcpt[2].diagnostic, "smtp; 550 5.1.1 no  F 0 such user");
	assert_string_equal(st.rcpt[2].remote, "mx.test[127.0.0.1]:25");
	assert_int_equal(st.attempts, 3);
	assert_int_equal(st.next_attempt, 1700000000);
	assert_true(st.held);
	assert_int_equal(st.intent_count, 1);
	assert_true(st.intents[0].committed);
	assert_true(msg_status_notified(&st, 2, DSN_FAILURE));
	assert_false(msg_status_notified(&st, 1, DSN_FAILURE));
	assert_false(msg_status_notified(&st, 2, DSN_DELAY));
	msg_status_clear(&st);
	buf_free(&b);
}

static void test_final_states_stay(void **state)
{
	(void)state;
	const char *j = "D 0\nF 0 5.1.1 0: 3:bad\nT 1 4.0.0 0: 0:\nF 1 5.0.0 0: 1:x\n"
	                "T 1 4.4.1 0: 4:late\n";
	struct msg_status st;
	msg_status_init(&st, 2);
	msg_status_apply(&st, j, strlen(j));
	assert_int_equal(st.rcpt[0].state, RCPT_DELIVERED);
	assert_int_equal(st.rcpt[1].state, RCPT_FAILED);
	assert_string_equal(st.rcpt[1].diagnostic, "x");
	msg_status_clear(&st);
}

static void test_malformed_and_torn(void **state)
{
	(void)state;
	const char *lines[] = {
	    "D\n",
	    "D x\n",
	    "D 9\n",
	    "D 0 junk\n",
	    "F 0 5.1.1\n",
	    "F 0 5.1.1 9:a 1:b\n",
	    "R 1\n",
	    "H 2\n",
	    "N X 1K0YXEC2ZAB0040Y 0\n",
	    "N F ../../etc 0\n",
	    "C\n",
	    "Q 1\n",
	    "D 0", /* torn: no newline */
	};
	struct msg_status st;
	msg_status_init(&st, 1);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		msg_status_apply(&st, lines[i], strlen(lines[i]));
	assert_int_equal(st.rcpt[0].state, RCPT_PENDING);
	assert_int_equal(st.attempts, 0);
	assert_false(st.held);
	assert_int_equal(st.intent_count, 0);
	msg_status_clear(&st);
}

static void test_append_after_torn_record(void **state)
{
	(void)state;
	char path[] = "/tmp/petrel-status-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	/* A crash left half a record. */
	assert_int_equal(write(fd, "F 1 5.1.1 10:mx.t", 17), 17);
	close(fd);
	struct msg_status st;
	msg_status_init(&st, 2);
	const char *error;
	assert_int_equal(msg_status_load(&st, path, &error), 0);
	struct buf b = BUF_INIT;
	status_record_delivered(&b, 0);
	assert_int_equal(msg_status_append(&st, path, &b, &error), 0);
	msg_status_clear(&st);
	msg_status_init(&st, 2);
	assert_int_equal(msg_status_load(&st, path, &error), 0);
	assert_int_equal(st.rcpt[0].state, RCPT_DELIVERED);
	assert_int_equal(st.rcpt[1].state, RCPT_PENDING);
	msg_status_clear(&st);
	buf_free(&b);
	unlink(path);
}

static void test_retry_schedule(void **state)
{
	(void)state;
	const char *error;
	struct config *c = config_load_string("t", "{}", 2, NULL, &error);
	assert_non_null(c);
	const struct queue_config *q = &c->queue;
	int64_t t0 = 1000000;
	/* 5, 10, 20, 40 minutes, then hourly until 4 h old, then 4-hourly. */
	int64_t now = t0;
	int64_t expected[] = {300,  600,  1200,  2400,  3600,
	                      3600, 3600, 14400, 14400, 14400};
	for (unsigned n = 1; n <= 10; n++) {
		int64_t next = retry_next(q, t0, n, now);
		assert_int_equal(next - now, expected[n - 1]);
		now = next;
	}
	/* Never past the lifetime: the last attempt is at expiry. */
	int64_t late = t0 + 5 * 86400 - 100;
	assert_int_equal(retry_next(q, t0, 30, late), t0 + 5 * 86400);
	assert_false(retry_expired(q, t0, late));
	assert_true(retry_expired(q, t0, t0 + 5 * 86400));
	config_free(&c);

	const char *yaml = "queue: {retry: [1s, 2s], retry_interval: 3s, "
	                   "retry_slow_after: 10s, retry_slow_interval: 7s, "
	                   "max_lifetime: 1m, delay_warning: 5s}\n";
	c = config_load_string("t", yaml, strlen(yaml), NULL, &error);
	if (c == NULL)
		fail_msg("%s", error);
	assert_int_equal(retry_next(&c->queue, 0, 1, 0), 1);
	assert_int_equal(retry_next(&c->queue, 0, 2, 1), 3);
	assert_int_equal(retry_next(&c->queue, 0, 3, 3), 6);
	assert_int_equal(retry_next(&c->queue, 0, 4, 12), 19);
	assert_int_equal(c->queue.delay_warning, 5);
	config_free(&c);

	const char *bad[] = {"queue: {max_lifetime: 8d}\n", "queue: {retry: [5x]}\n",
	                     "queue: {retry_interval: 0}\n", "delivery: {tls: maybe}\n",
	                     "delivery: {source_address: [1.2.3.4, 5.6.7.8]}\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = config_load_string("t", bad[i], strlen(bad[i]), NULL, &error);
		if (c != NULL)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(error, "t:1:"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_records_round_trip),
	    cmocka_unit_test(test_final_states_stay),
	    cmocka_unit_test(test_malformed_and_torn),
	    cmocka_unit_test(test_append_after_torn_record),
	    cmocka_unit_test(test_retry_schedule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
