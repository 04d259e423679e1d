/*
 * test-credential_cache.c — remembered logins: a right password answers
 * with its user, a wrong one with its reason, another password misses, the
 * login compares without case, entries expire, a flush by login or by
 * user forgets them, the table is shared across fork(), and what is too
 * long to key is simply not remembered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/credential_cache.h"

static enum cache_answer get(struct credential_cache *c, const char *login,
                             const char *password, time_t now, char *out)
{
	char user[256] = "", reason[64] = "";
	enum cache_answer a =
	    credential_cache_get(c, login, password, strlen(password), now, user,
	                         sizeof(user), reason, sizeof(reason));
	if (out)
		memcpy(out, a == CACHE_OK ? user : reason, 64);
	return a;
}

static void test_answers_and_ttl(void **state)
{
	(void)state;
	const char *error;
	struct credential_cache *c = credential_cache_create(1024, &error);
	assert_non_null(c);
	char out[64];
	assert_int_equal(get(c, "alice", "pw", 100, NULL), CACHE_MISS);
	credential_cache_put(c, "alice", "pw", 2, 100, true, "alice@example.test", 60);
	assert_int_equal(get(c, "ALICE", "pw", 120, out), CACHE_OK);
	assert_string_equal(out, "alice@example.test");
	assert_int_equal(get(c, "alice", "pw2", 120, NULL),
	                 CACHE_MISS); /* another password */
	assert_int_equal(get(c, "alice", "pw", 160, NULL), CACHE_MISS); /* expired */
	credential_cache_put(c, "bob", "guess", 5, 100, false, "wrong password", 30);
	assert_int_equal(get(c, "bob", "guess", 110, out), CACHE_FAILED);
	assert_string_equal(out, "wrong password");
	/* ttl 0: nothing remembered */
	credential_cache_put(c, "carol", "pw", 2, 100, true, "carol@example.test", 0);
	assert_int_equal(get(c, "carol", "pw", 100, NULL), CACHE_MISS);
	/* a password too long to key is not remembered */
	char longpw[4000];
	memset(longpw, 'p', sizeof(longpw));
	credential_cache_put(c, "dave", longpw, sizeof(longpw), 100, true, "d", 60);
	char user[64], reason[64];
	assert_int_equal(credential_cache_get(c, "dave", longpw, sizeof(longpw), 100,
	                                      user, sizeof(user), reason, sizeof(reason)),
	                 CACHE_MISS);
	credential_cache_destroy(&c);
	assert_null(c);
	assert_int_equal(get(NULL, "x", "y", 1, NULL), CACHE_MISS); /* no cache */
}

static void test_flush(void **state)
{
	(void)state;
	const char *error;
	struct credential_cache *c = credential_cache_create(1024, &error);
	/* a login by an alias name resolves to the user */
	credential_cache_put(c, "sales@example.test", "pw", 2, 100, true,
	                     "alice@example.test", 60);
	credential_cache_put(c, "alice@example.test", "pw", 2, 100, true,
	                     "alice@example.test", 60);
	credential_cache_put(c, "bob@example.test", "pw", 2, 100, true,
	                     "bob@example.test", 60);
	assert_int_equal(credential_cache_flush(c, "Alice@Example.Test"), 2);
	assert_int_equal(get(c, "sales@example.test", "pw", 110, NULL), CACHE_MISS);
	assert_int_equal(get(c, "bob@example.test", "pw", 110, NULL), CACHE_OK);
	assert_int_equal(credential_cache_flush(c, NULL), 1);
	assert_int_equal(get(c, "bob@example.test", "pw", 110, NULL), CACHE_MISS);
	credential_cache_destroy(&c);
}

static void test_shared_across_fork(void **state)
{
	(void)state;
	const char *error;
	struct credential_cache *c = credential_cache_create(1024, &error);
	pid_t pid = fork();
	if (pid == 0) {
		credential_cache_put(c, "eve", "pw", 2, 100, true, "eve@example.test",
		                     60);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_int_equal(get(c, "eve", "pw", 110, NULL), CACHE_OK);
	credential_cache_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answers_and_ttl),
	    cmocka_unit_test(test_flush),
	    cmocka_unit_test(test_shared_across_fork),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
