/*
 * test-ip_count.c — connections per client IP across workers: the limit
 * holds over two workers' regions, scopes (listeners) count apart, a
 * worker only gives back what it took, a worker killed while holding
 * connections has them taken back by the master, and the open-addressing
 * maps stay right through thousands of random adds and removes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service/ip_count.h"

static struct ip_key key_for(const char *ip, const char *scope)
{
	struct sockaddr_storage ss = {0};
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &in6->sin6_addr);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &in->sin_addr);
	}
	struct ip_key key;
	ip_key_make(&key, (struct sockaddr *)&ss, scope);
	return key;
}

static void test_limit_across_workers(void **state)
{
	(void)state;
	const char *error;
	struct ip_count_table *t = ip_count_create(4, 100, &error);
	assert_non_null(t);
	int a = ip_count_claim_region(t), b = ip_count_claim_region(t);
	assert_int_not_equal(a, b);
	struct ip_key k = key_for("192.0.2.1", "127.0.0.1:25");
	unsigned count;
	assert_true(ip_count_acquire(t, a, &k, 3, &count));
	assert_int_equal(count, 1);
	assert_true(ip_count_acquire(t, b, &k, 3, &count));
	assert_true(ip_count_acquire(t, a, &k, 3, &count));
	assert_int_equal(count, 3);
	/* the fourth is refused on either worker */
	assert_false(ip_count_acquire(t, b, &k, 3, &count));
	assert_int_equal(count, 3);
	assert_false(ip_count_acquire(t, a, &k, 3, &count));
	/* another listener, another address: counted apart */
	struct ip_key other_scope = key_for("192.0.2.1", "127.0.0.1:587");
	struct ip_key other_ip = key_for("192.0.2.2", "127.0.0.1:25");
	assert_true(ip_count_acquire(t, a, &other_scope, 3, &count));
	assert_int_equal(count, 1);
	assert_true(ip_count_acquire(t, a, &other_ip, 3, &count));
	assert_int_equal(count, 1);
	ip_count_release(t, b, &k);
	assert_int_equal(ip_count_get(t, &k), 2);
	assert_true(ip_count_acquire(t, b, &k, 3, &count));
	/* IPv4-mapped IPv6 is the same client as IPv4 */
	struct ip_key mapped = key_for("::ffff:192.0.2.1", "127.0.0.1:25");
	assert_int_equal(ip_count_get(t, &mapped), 3);
	ip_count_destroy(&t);
	assert_null(t);
}

static void test_release_only_what_was_taken(void **state)
{
	(void)state;
	const char *error;
	struct ip_count_table *t = ip_count_create(2, 10, &error);
	int a = ip_count_claim_region(t), b = ip_count_claim_region(t);
	struct ip_key k = key_for("2001:db8::1", "x");
	unsigned count;
	assert_true(ip_count_acquire(t, a, &k, 5, &count));
	/* b never took one: its release must not lower a's count */
	ip_count_release(t, b, &k);
	assert_int_equal(ip_count_get(t, &k), 1);
	/* no region left: that worker counts nothing and is never refused */
	assert_int_equal(ip_count_claim_region(t), -1);
	assert_true(ip_count_acquire(t, -1, &k, 1, &count));
	assert_int_equal(ip_count_get(t, &k), 1);
	ip_count_destroy(&t);
}

/* A worker killed with connections open: the master takes them back when
 * it reaps the worker, and frees its region for the next one. */
static void test_killed_worker_is_taken_back(void **state)
{
	(void)state;
	const char *error;
	struct ip_count_table *t = ip_count_create(2, 10, &error);
	int region = ip_count_claim_region(t);
	struct ip_key k = key_for("198.51.100.7", "l");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned count;
		for (int i = 0; i < 4; i++)
			ip_count_acquire(t, region, &k, 10, &count);
		_exit(0); /* no release: as if killed */
	}
	int status;
	waitpid(pid, &status, 0);
	assert_int_equal(ip_count_get(t, &k), 4);
	assert_int_equal(ip_count_release_region(t, region), 4);
	assert_int_equal(ip_count_get(t, &k), 0);
	assert_int_equal(ip_count_claim_region(t), region);
	ip_count_destroy(&t);
}

/* Thousands of random adds and removes against a plain array: backward
 * shift deletion keeps every key findable. */
static void test_random_against_reference(void **state)
{
	(void)state;
	const char *error;
	struct ip_count_table *t = ip_count_create(1, 300, &error);
	int region = ip_count_claim_region(t);
	enum { KEYS = 250 };
	unsigned expected[KEYS] = {0};
	struct ip_key keys[KEYS];
	for (int i = 0; i < KEYS; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 200, i % 200);
		keys[i] = key_for(ip, "s");
	}
	srand(7);
	for (int step = 0; step < 20000; step++) {
		int i = rand() % KEYS;
		unsigned count;
		if (rand() % 2 || expected[i] == 0) {
			if (ip_count_acquire(t, region, &keys[i], 1000, &count))
				expected[i]++;
		} else {
			ip_count_release(t, region, &keys[i]);
			expected[i]--;
		}
		if (step % 1000 == 0)
			for (int j = 0; j < KEYS; j++)
				assert_int_equal(ip_count_get(t, &keys[j]), expected[j]);
	}
	unsigned total = 0;
	for (int j = 0; j < KEYS; j++) {
		assert_int_equal(ip_count_get(t, &keys[j]), expected[j]);
		total += expected[j];
	}
	assert_int_equal(ip_count_release_region(t, region), total);
	for (int j = 0; j < KEYS; j++)
		assert_int_equal(ip_count_get(t, &keys[j]), 0);
	ip_count_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limit_across_workers),
	    cmocka_unit_test(test_release_only_what_was_taken),
	    cmocka_unit_test(test_killed_worker_is_taken_back),
	    cmocka_unit_test(test_random_against_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
