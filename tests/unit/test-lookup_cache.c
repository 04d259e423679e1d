/*
 * test-lookup_cache.c — remembered lookup answers: each kind of lookup
 * comes back as it was answered, keys do not run into each other, only
 * definite lookup answers are kept, any change of the database version
 * (in this process or another, after fork) forgets everything, an answer
 * asked before a change is never kept, and nothing is remembered without
 * a shared version or with PostgreSQL.
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

#include "auth/lookup_cache.h"
#include "lib/xalloc.h"

static struct config sqlite_config = {.auth = {.backend = AUTH_BACKEND_SQLITE}};

static struct auth_request request(enum auth_request_type type, const char *name,
                                   const char *other)
{
	struct auth_request r = {.type = type};
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.other, sizeof(r.other), "%s", other);
	return r;
}

static void remember(struct lookup_cache *c, struct auth_request r, int result,
                     const char *user)
{
	struct auth_response a = {.result = result};
	snprintf(a.user, sizeof(a.user), "%s", user);
	lookup_cache_put(c, &r, lookup_cache_version(c), &a);
}

/* 1 found with the answer's user in out, 0 found with result 0, -1 not. */
static int recall(struct lookup_cache *c, struct auth_request r, char *out)
{
	struct auth_response a;
	if (!lookup_cache_get(c, &r, &a))
		return -1;
	if (out)
		snprintf(out, AUTH_NAME_SIZE, "%s", a.user);
	int result = a.result;
	auth_response_clear(&a);
	return result;
}

static int setup(void **state)
{
	const char *error;
	struct userdb_version *v = userdb_version_create(&error);
	assert_non_null(v);
	userdb_version_set_current(v);
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	struct userdb_version *v = *state;
	userdb_version_destroy(&v);
	return 0;
}

static void test_answers_come_back(void **state)
{
	(void)state;
	struct lookup_cache *c = lookup_cache_new(&sqlite_config);
	assert_non_null(c);
	char user[AUTH_NAME_SIZE];
	struct auth_request alice = request(AUTH_LOCAL_RCPT, "alice@example.test", "");
	assert_int_equal(recall(c, alice, NULL), -1);
	remember(c, alice, 1, "alice@example.test");
	assert_int_equal(recall(c, alice, user), 1);
	assert_string_equal(user, "alice@example.test");
	/* "not ours" is an answer too */
	struct auth_request remote = request(AUTH_LOCAL_RCPT, "x@remote.test", "");
	remember(c, remote, 0, "");
	assert_int_equal(recall(c, remote, NULL), 0);

	/* an expansion, addresses and all */
	struct auth_request sales = request(AUTH_EXPAND, "sales@example.test", "");
	struct auth_response a = {.result = 1};
	a.expansion.local = true;
	a.expansion.count = 2;
	a.expansion.addresses = xcalloc(3, sizeof(char *));
	a.expansion.addresses[0] = xstrdup("alice@example.test");
	a.expansion.addresses[1] = xstrdup("bob@example.test");
	lookup_cache_put(c, &sales, lookup_cache_version(c), &a);
	auth_response_clear(&a);
	struct auth_response b;
	assert_true(lookup_cache_get(c, &sales, &b));
	assert_int_equal(b.result, 1);
	assert_true(b.expansion.local);
	assert_int_equal(b.expansion.count, 2);
	assert_string_equal(b.expansion.addresses[1], "bob@example.test");
	auth_response_clear(&b);
	lookup_cache_free(&c);
	assert_null(c);
}

static void test_keys_apart(void **state)
{
	(void)state;
	struct lookup_cache *c = lookup_cache_new(&sqlite_config);
	remember(c, request(AUTH_SENDER, "a", "bc"), 1, "");
	assert_int_equal(recall(c, request(AUTH_SENDER, "a", "bc"), NULL), 1);
	assert_int_equal(recall(c, request(AUTH_SENDER, "ab", "c"), NULL), -1);
	assert_int_equal(recall(c, request(AUTH_SENDER, "a", "bC"), NULL), -1);
	/* the same name, another question */
	remember(c, request(AUTH_LOCAL_RCPT, "x@example.test", ""), 0, "");
	assert_int_equal(recall(c, request(AUTH_EXPAND, "x@example.test", ""), NULL), -1);
	/* many names: a table of fixed size keeps the latest */
	char name[64];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "user%d@example.test", i);
		remember(c, request(AUTH_LOCAL_RCPT, name, ""), 1, name);
	}
	char user[AUTH_NAME_SIZE];
	assert_int_equal(recall(c, request(AUTH_LOCAL_RCPT, name, ""), user), 1);
	assert_string_equal(user, name);
	lookup_cache_free(&c);
}

static void test_only_definite_lookups(void **state)
{
	(void)state;
	struct lookup_cache *c = lookup_cache_new(&sqlite_config);
	remember(c, request(AUTH_LOCAL_RCPT, "down@example.test", ""), -1, "");
	assert_int_equal(
	    recall(c, request(AUTH_LOCAL_RCPT, "down@example.test", ""), NULL), -1);
	remember(c, request(AUTH_SASL_STEP, "", ""), 0, "");
	assert_int_equal(recall(c, request(AUTH_SASL_STEP, "", ""), NULL), -1);
	/* an answer too large to keep is asked again */
	struct auth_request big = request(AUTH_EXPAND, "list@example.test", "");
	struct auth_response a = {.result = 1};
	a.expansion.count = 100;
	a.expansion.addresses = xcalloc(101, sizeof(char *));
	for (size_t i = 0; i < a.expansion.count; i++)
		a.expansion.addresses[i] =
		    xstrdup("someone-with-a-long-name@example.test");
	lookup_cache_put(c, &big, lookup_cache_version(c), &a);
	auth_response_clear(&a);
	assert_int_equal(recall(c, big, NULL), -1);
	lookup_cache_free(&c);
}

static void test_a_change_forgets(void **state)
{
	(void)state;
	struct lookup_cache *c = lookup_cache_new(&sqlite_config);
	struct auth_request bob = request(AUTH_LOCAL_RCPT, "bob@example.test", "");
	remember(c, bob, 1, "bob@example.test");
	userdb_version_advance();
	assert_int_equal(recall(c, bob, NULL), -1);
	/* asked before a change, answered after: never kept */
	uint64_t asked = lookup_cache_version(c);
	userdb_version_advance();
	struct auth_response a = {.result = 1};
	lookup_cache_put(c, &bob, asked, &a);
	assert_int_equal(recall(c, bob, NULL), -1);
	/* another process (the control socket's) advances it */
	remember(c, bob, 1, "bob@example.test");
	assert_int_equal(recall(c, bob, NULL), 1);
	pid_t pid = fork();
	if (pid == 0) {
		userdb_version_advance();
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_int_equal(recall(c, bob, NULL), -1);
	lookup_cache_free(&c);
}

static void test_not_remembered(void **state)
{
	struct config postgres = {.auth = {.backend = AUTH_BACKEND_POSTGRES}};
	assert_null(lookup_cache_new(&postgres));
	userdb_version_set_current(NULL);
	assert_null(lookup_cache_new(&sqlite_config));
	userdb_version_set_current(*state);
	/* no cache: every call is a miss and a no-op */
	remember(NULL, request(AUTH_LOCAL_RCPT, "a@example.test", ""), 1, "");
	assert_int_equal(
	    recall(NULL, request(AUTH_LOCAL_RCPT, "a@example.test", ""), NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answers_come_back),
	    cmocka_unit_test(test_keys_apart),
	    cmocka_unit_test(test_only_definite_lookups),
	    cmocka_unit_test(test_a_change_forgets),
	    cmocka_unit_test(test_not_remembered),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
