/*
 * test-queue_id.c — queue IDs are unique, ordered and file-name safe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/pid.h"
#include "message/queue_id.h"

static void test_order_and_uniqueness(void **state)
{
	(void)state;
	struct queue_id_gen gen;
	queue_id_gen_init(&gen, 4242);
	char prev[QUEUE_ID_LEN + 1] = "";
	uint64_t now = 1795465389000000ull;
	for (int i = 0; i < 10000; i++) {
		char id[QUEUE_ID_LEN + 1];
		/* The same microsecond, or a clock going backwards. */
		uint64_t t = now + (uint64_t)(i / 3) - (i % 7 == 0 ? 5 : 0);
		queue_id_next(&gen, t, id);
		assert_int_equal(strlen(id), QUEUE_ID_LEN);
		assert_true(queue_id_valid(id, strlen(id)));
		assert_true(strcmp(prev, id) < 0);
		memcpy(prev, id, sizeof(id));
	}
}

static void test_generators_differ(void **state)
{
	(void)state;
	struct queue_id_gen a, b;
	queue_id_gen_init(&a, 1);
	queue_id_gen_init(&b, 2);
	char ia[QUEUE_ID_LEN + 1], ib[QUEUE_ID_LEN + 1];
	queue_id_next(&a, 1000, ia);
	queue_id_next(&b, 1000, ib);
	assert_string_not_equal(ia, ib);
	assert_memory_equal(ia, ib, 11); /* same time prefix */
}

/* A forked child's IDs carry its own pid, not a copy of its parent's
 * (pid_current() forgets across fork). */
static void test_child_generator_is_its_own(void **state)
{
	(void)state;
	char parent[QUEUE_ID_LEN + 1];
	queue_id_new(parent);
	assert_int_equal(pid_current(), getpid());
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char id[QUEUE_ID_LEN + 1];
		queue_id_new(id);
		char ok =
		    pid_current() == getpid() && strcmp(id, parent) != 0 ? 'y' : 'n';
		_exit(write(pipefd[1], &ok, 1) == 1 ? 0 : 1);
	}
	char answer = 0;
	assert_int_equal(read(pipefd[0], &answer, 1), 1);
	assert_int_equal(answer, 'y');
	int status;
	waitpid(child, &status, 0);
	assert_int_equal(pid_current(), getpid());
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_valid(void **state)
{
	(void)state;
	assert_false(queue_id_valid("../../etc/passw", 15));
	assert_false(queue_id_valid("1K0YXEC2ZAB0040Y.done", 21));
	assert_false(queue_id_valid("1K0YXEC2ZAB0040U", 16)); /* U not in alphabet */
	assert_false(queue_id_valid("1k0yxec2zab0040y", 16));
	assert_true(queue_id_valid("1K0YXEC2ZAB0040Y", 16));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_uniqueness),
	    cmocka_unit_test(test_generators_differ),
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_child_generator_is_its_own),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
