/*
 * test-envelope.c — the spool format round-trips arbitrary octets and
 * refuses anything truncated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/xalloc.h"
#include "message/envelope.h"

static void build(struct buf *out, const char *message, size_t message_len)
{
	struct envelope env;
	memset(&env, 0, sizeof(env));
	memcpy(env.id, "1K0YXEC2ZAB0040Y", 17);
	env.arrival = 1795465389;
	env.sender = xstrdup("a@b.c");
	env.helo = xstrdup("client\r\nR 5:forge");
	env.client = xstrdup("127.0.0.1");
	env.body = xstrdup("8BITMIME");
	env.smtputf8 = true;
	env.auth_user = xstrdup("alice@example.test");
	env.cert_subject = xstrdup("CN=alice\n,O=Example");
	env.cert_issuer = xstrdup("CN=Test CA");
	env.cert_sha256 = xstrdup("ab01");
	env.cert_san = xstrdup("alice@example.test");
	env.cert_not_after = xstrdup("2027-01-01T00:00:00Z");
	envelope_add_rcpt(&env, "x@y.z");
	envelope_add_rcpt(&env, "\"q\\\"t\"@y.z");
	envelope_serialize(&env, message_len, out);
	buf_append(out, message, message_len);
	envelope_clear(&env);
}

static void test_round_trip(void **state)
{
	(void)state;
	const char message[] = "Subject: x\r\n\r\nM 3:\n\0\r\n.\r\n";
	struct buf file = BUF_INIT;
	build(&file, message, sizeof(message) - 1);
	struct envelope env;
	const char *msg, *error;
	size_t msg_len;
	assert_int_equal(
	    envelope_parse(file.data, file.len, &env, &msg, &msg_len, &error), 0);
	assert_string_equal(env.id, "1K0YXEC2ZAB0040Y");
	assert_int_equal(env.arrival, 1795465389);
	assert_string_equal(env.helo, "client\r\nR 5:forge");
	assert_int_equal(env.rcpt_count, 2);
	assert_string_equal(env.rcpts[1].address, "\"q\\\"t\"@y.z");
	assert_true(env.smtputf8);
	assert_string_equal(env.auth_user, "alice@example.test");
	assert_string_equal(env.cert_subject, "CN=alice\n,O=Example");
	assert_string_equal(env.cert_issuer, "CN=Test CA");
	assert_string_equal(env.cert_sha256, "ab01");
	assert_string_equal(env.cert_san, "alice@example.test");
	assert_string_equal(env.cert_not_after, "2027-01-01T00:00:00Z");
	assert_int_equal(msg_len, sizeof(message) - 1);
	assert_memory_equal(msg, message, msg_len);
	envelope_clear(&env);

	/* Every truncation is detected (a crash mid-write). */
	for (size_t cut = 0; cut < file.len; cut++)
		assert_int_equal(
		    envelope_parse(file.data, cut, &env, &msg, &msg_len, &error), -1);
	/* So is trailing garbage. */
	buf_append(&file, "x", 1);
	assert_int_equal(
	    envelope_parse(file.data, file.len, &env, &msg, &msg_len, &error), -1);
	buf_free(&file);
}

static void test_rejects(void **state)
{
	(void)state;
	struct envelope env;
	const char *msg, *error;
	size_t len;
	static const char *const bad[] = {
	    "",
	    "PETREL-SPOOL 2\n",
	    "PETREL-SPOOL 1\nI 16:1K0YXEC2ZAB0040Y\nS 0:\nM 0:\n", /* no recipients */
	    "PETREL-SPOOL 1\nI 3:../\nS 0:\nR 1:x\nM 0:\n",        /* bad id */
	    "PETREL-SPOOL 1\nI 16:1K0YXEC2ZAB0040Y\nS 99999999999999999:\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    envelope_parse(bad[i], strlen(bad[i]), &env, &msg, &len, &error), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
