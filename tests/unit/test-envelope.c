/*
 * test-envelope.c — the spool format: written as the message arrives
 * (version 2), it round-trips arbitrary octets, says where the message
 * is, and refuses anything truncated; version 1 files (records first),
 * written before streaming, are still read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/xalloc.h"
#include "message/envelope.h"

static void fill(struct envelope *env)
{
	memset(env, 0, sizeof(*env));
	memcpy(env->id, "1K0YXEC2ZAB0040Y", 17);
	env->arrival = 1795465389;
	env->sender = xstrdup("a@b.c");
	env->helo = xstrdup("client\r\nR 5:forge");
	env->client = xstrdup("127.0.0.1");
	env->body = xstrdup("8BITMIME");
	env->smtputf8 = true;
	env->auth_user = xstrdup("alice@example.test");
	env->cert_subject = xstrdup("CN=alice\n,O=Example");
	env->cert_issuer = xstrdup("CN=Test CA");
	env->cert_sha256 = xstrdup("ab01");
	env->cert_san = xstrdup("alice@example.test");
	env->cert_not_after = xstrdup("2027-01-01T00:00:00Z");
	envelope_add_rcpt(env, "x@y.z")->original = xstrdup("sales@y.z");
	envelope_add_rcpt(env, "\"q\\\"t\"@y.z");
}

/* A spool file as the SMTP server writes it: the message as received,
 * then the envelope with the header section to deliver. */
static void build(struct buf *out, const char *received, size_t received_len,
                  size_t header_len, const char *deliver_header)
{
	struct envelope env;
	fill(&env);
	envelope_spool_begin(out);
	buf_append(out, received, received_len);
	envelope_spool_end(&env, deliver_header, strlen(deliver_header), header_len,
	                   received_len, out);
	envelope_clear(&env);
}

static void test_round_trip(void **state)
{
	(void)state;
	const char received[] =
	    "Subject: x\r\n\r\nM 3:\n\0\r\nPETREL-END 00000000000000000015\n";
	const char *header = "Received: from x\r\n\tby y\r\nSubject: x\r\n";
	struct buf file = BUF_INIT;
	build(&file, received, sizeof(received) - 1, 12, header);
	struct envelope env;
	struct spool_layout layout;
	const char *error;
	assert_int_equal(envelope_parse(file.data, file.len, &env, &layout, &error), 0);
	assert_string_equal(env.id, "1K0YXEC2ZAB0040Y");
	assert_int_equal(env.arrival, 1795465389);
	assert_string_equal(env.helo, "client\r\nR 5:forge");
	assert_int_equal(env.rcpt_count, 2);
	assert_string_equal(env.rcpts[1].address, "\"q\\\"t\"@y.z");
	assert_string_equal(env.rcpts[0].original, "sales@y.z");
	assert_null(env.rcpts[1].original);
	assert_true(env.smtputf8);
	assert_string_equal(env.auth_user, "alice@example.test");
	assert_string_equal(env.cert_subject, "CN=alice\n,O=Example");
	assert_string_equal(env.cert_not_after, "2027-01-01T00:00:00Z");
	/* Delivered: the new header section, then the body as received. */
	assert_int_equal(layout.header_len, strlen(header));
	assert_memory_equal(layout.header, header, layout.header_len);
	assert_int_equal(layout.body_offset, SPOOL_MAGIC_LEN + 12);
	assert_int_equal(layout.body_len, sizeof(received) - 1 - 12);
	assert_memory_equal(file.data + layout.body_offset, received + 12,
	                    layout.body_len);
	envelope_clear(&env);

	/* The trailer alone, as the queue reads it. */
	uint64_t offset;
	assert_int_equal(envelope_trailer_offset(file.data + file.len - SPOOL_FOOTER_LEN,
	                                         file.len, &offset),
	                 0);
	assert_int_equal(offset, SPOOL_MAGIC_LEN + sizeof(received) - 1);
	assert_int_equal(envelope_parse_trailer(file.data + offset,
	                                        file.len - SPOOL_FOOTER_LEN - offset,
	                                        offset, &env, &layout, &error),
	                 0);
	assert_int_equal(layout.body_len, sizeof(received) - 1 - 12);
	envelope_clear(&env);

	/* Every truncation is detected (a crash mid-write). */
	for (size_t cut = 0; cut < file.len; cut++)
		assert_int_equal(envelope_parse(file.data, cut, &env, &layout, &error),
		                 -1);
	/* So is trailing garbage. */
	buf_append(&file, "x", 1);
	assert_int_equal(envelope_parse(file.data, file.len, &env, &layout, &error), -1);
	buf_free(&file);
}

static void test_version_1(void **state)
{
	(void)state;
	static const char file[] =
	    "PETREL-SPOOL 1\nI 16:1K0YXEC2ZAB0040Y\nT 10:1795465389\n"
	    "S 5:a@b.c\nR 5:x@y.z\nN 1:2\nM 8:\nSubject:";
	struct envelope env;
	struct spool_layout layout;
	const char *error;
	size_t len = sizeof(file) - 1;
	assert_int_equal(envelope_parse(file, len, &env, &layout, &error), 0);
	assert_string_equal(env.sender, "a@b.c");
	assert_int_equal(env.rcpts[0].notify, 2);
	assert_int_equal(layout.header_len, 0);
	assert_int_equal(layout.body_len, 8);
	assert_memory_equal(file + layout.body_offset, "Subject:", 8);
	envelope_clear(&env);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(envelope_parse(file, cut, &env, &layout, &error), -1);
}

static void test_rejects(void **state)
{
	(void)state;
	struct envelope env;
	struct spool_layout layout;
	const char *error;
	static const char *const bad[] = {
	    "",
	    "PETREL-SPOOL 2\n",
	    "PETREL-SPOOL 1\nI 16:1K0YXEC2ZAB0040Y\nS 0:\nM 0:\n", /* no recipients */
	    "PETREL-SPOOL 1\nI 3:../\nS 0:\nR 1:x\nM 0:\n",        /* bad id */
	    "PETREL-SPOOL 1\nI 16:1K0YXEC2ZAB0040Y\nS 99999999999999999:\n",
	    /* version 2: no body offset; an offset past the message; a
	     * footer pointing before the message; an M record. */
	    "PETREL-SPOOL 2\nI 16:1K0YXEC2ZAB0040Y\nS 0:\nR 1:x\n"
	    "PETREL-END 00000000000000000015\n",
	    "PETREL-SPOOL 2\nI 16:1K0YXEC2ZAB0040Y\nS 0:\nR 1:x\nG 1:1\n"
	    "PETREL-END 00000000000000000015\n",
	    "PETREL-SPOOL 2\nI 16:1K0YXEC2ZAB0040Y\nS 0:\nR 1:x\nG 1:0\n"
	    "PETREL-END 00000000000000000003\n",
	    "PETREL-SPOOL 2\nI 16:1K0YXEC2ZAB0040Y\nS 0:\nR 1:x\nG 1:0\nM 0:\n"
	    "PETREL-END 00000000000000000015\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (envelope_parse(bad[i], strlen(bad[i]), &env, &layout, &error) != -1)
			fail_msg("case %zu parsed", i);
	/* The smallest good one, for contrast. */
	const char *good = "PETREL-SPOOL 2\nI 16:1K0YXEC2ZAB0040Y\nS 0:\nR 1:x\nG 1:0\n"
	                   "PETREL-END 00000000000000000015\n";
	assert_int_equal(envelope_parse(good, strlen(good), &env, &layout, &error), 0);
	assert_int_equal(layout.body_len, 0);
	envelope_clear(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_version_1),
	    cmocka_unit_test(test_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
