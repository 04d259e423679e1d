/*
 * test-penalty.c — the shared login-failure table: counting, delays,
 * lockout and its end, the window, per-kind keys, case-insensitive user
 * names, sharing across fork(), and a full table that still works.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/penalty.h"

static struct auth_config auth = {
    .failure_delay_ms = 100,
    .failure_max_delay_ms = 1000,
    .lockout_after_ip = 3,
    .lockout_after_user = 5,
    .lockout_seconds = 60,
    .failure_window = 600,
};

static void test_counting_and_lockout(void **state)
{
	(void)state;
	const char *error;
	struct penalty_table *t = penalty_table_create(1024, &error);
	assert_non_null(t);
	struct penalty_state st;
	time_t now = 1000000;
	penalty_fail(t, PENALTY_IP, "192.0.2.1", now, &auth, &st);
	penalty_fail(t, PENALTY_IP, "192.0.2.1", now + 1, &auth, &st);
	assert_int_equal(st.failures, 2);
	assert_int_equal(st.locked_until, 0);
	penalty_fail(t, PENALTY_IP, "192.0.2.1", now + 2, &auth, &st);
	assert_int_equal(st.locked_until, now + 2 + 60);
	penalty_get(t, PENALTY_IP, "192.0.2.1", now + 30, &auth, &st);
	assert_int_equal(st.locked_until, now + 62);
	/* The same string as a user name is another key. */
	penalty_get(t, PENALTY_USER, "192.0.2.1", now + 30, &auth, &st);
	assert_int_equal(st.failures, 0);
	/* The lockout ends, and with it the count. */
	penalty_get(t, PENALTY_IP, "192.0.2.1", now + 63, &auth, &st);
	assert_int_equal(st.locked_until, 0);
	assert_int_equal(st.failures, 0);
	/* Failures older than the window are forgotten. */
	penalty_fail(t, PENALTY_USER, "Alice@Example.Test", now, &auth, &st);
	penalty_fail(t, PENALTY_USER, "alice@example.test", now, &auth, &st);
	assert_int_equal(st.failures, 2); /* names without case */
	penalty_get(t, PENALTY_USER, "ALICE@example.test", now + 601, &auth, &st);
	assert_int_equal(st.failures, 0);
	/* Success clears. */
	penalty_fail(t, PENALTY_USER, "bob", now, &auth, &st);
	penalty_clear(t, PENALTY_USER, "bob");
	penalty_get(t, PENALTY_USER, "bob", now, &auth, &st);
	assert_int_equal(st.failures, 0);
	penalty_table_destroy(&t);
}

static void test_delays(void **state)
{
	(void)state;
	assert_int_equal(penalty_delay_ms(&auth, 0), 0);
	assert_int_equal(penalty_delay_ms(&auth, 1), 100);
	assert_int_equal(penalty_delay_ms(&auth, 2), 200);
	assert_int_equal(penalty_delay_ms(&auth, 4), 800);
	assert_int_equal(penalty_delay_ms(&auth, 5), 1000);
	assert_int_equal(penalty_delay_ms(&auth, 1000000), 1000);
}

static void test_shared_across_fork(void **state)
{
	(void)state;
	const char *error;
	struct penalty_table *t = penalty_table_create(64, &error);
	pid_t pid = fork();
	if (pid == 0) {
		struct penalty_state st;
		penalty_fail(t, PENALTY_IP, "198.51.100.7", 5000, &auth, &st);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	struct penalty_state st;
	penalty_get(t, PENALTY_IP, "198.51.100.7", 5000, &auth, &st);
	assert_int_equal(st.failures, 1);
	penalty_table_destroy(&t);
}

static void test_full_table(void **state)
{
	(void)state;
	const char *error;
	struct penalty_table *t = penalty_table_create(16, &error);
	struct penalty_state st;
	/* A locked key survives a flood of other keys where it can. */
	for (int i = 0; i < 3; i++)
		penalty_fail(t, PENALTY_IP, "203.0.113.1", 100, &auth, &st);
	for (int i = 0; i < 1000; i++) {
		char key[32];
		snprintf(key, sizeof(key), "flood-%d", i);
		penalty_fail(t, PENALTY_USER, key, 101, &auth, &st);
		assert_int_equal(st.failures, 1);
	}
	penalty_get(t, PENALTY_IP, "203.0.113.1", 102, &auth, &st);
	assert_true(st.locked_until > 102);
	penalty_table_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counting_and_lockout),
	    cmocka_unit_test(test_delays),
	    cmocka_unit_test(test_shared_across_fork),
	    cmocka_unit_test(test_full_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
