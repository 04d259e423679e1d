/*
 * test-dsn.c — delivery status notifications (RFC 3464).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "queue/dsn.h"

static void check_lines(const struct buf *b)
{
	/* CRLF only, no line over 998 octets. */
	size_t line = 0;
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\n') {
			assert_true(i > 0 && b->data[i - 1] == '\r');
			line = 0;
			continue;
		}
		if (b->data[i] == '\r')
			assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
		assert_true(++line <= 999);
	}
}

static void build(enum dsn_kind kind, const char *ret, const char *diagnostic,
                  struct buf *out)
{
	struct envelope env;
	memset(&env, 0, sizeof(env));
	memcpy(env.id, "1K0YXEC2ZAB0040Y", 17);
	env.arrival = 1700000000;
	env.sender = strdup("alice@example.test");
	env.envid = strdup("QQ314159");
	env.ret = ret ? strdup(ret) : NULL;
	struct envelope_rcpt *r = envelope_add_rcpt(&env, "bob@remote.test");
	r->orcpt = strdup("rfc822;bob@remote.test");
	envelope_add_rcpt(&env, "carol@remote.test");
	struct msg_status st;
	msg_status_init(&st, 2);
	struct buf rec = BUF_INIT;
	status_record_failure(&rec, 0, kind == DSN_FAILURE,
	                      kind == DSN_FAILURE ? "5.1.1" : "4.4.1",
	                      "mx.remote.test[127.0.0.9]:25", diagnostic);
	msg_status_apply(&st, rec.data, rec.len);
	size_t rcpts[] = {0};
	const char *message =
	    "Subject: hi\r\nFrom: alice@example.test\r\n\r\nbody line\r\n";
	struct dsn_input in = {
	    .kind = kind,
	    .hostname = "mx.example.test",
	    .dsn_id = "1K0YXEC2ZAB0050Y",
	    .now = 1700000100,
	    .retry_until = 1700432000,
	    .env = &env,
	    .status = &st,
	    .rcpts = rcpts,
	    .rcpt_count = 1,
	    .message = message,
	    .message_len = strlen(message),
	};
	dsn_build(&in, out);
	check_lines(out);
	msg_status_clear(&st);
	envelope_clear(&env);
	buf_free(&rec);
}

static void test_failure(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	build(DSN_FAILURE, NULL, "smtp; 550 5.1.1 <bob@remote.test>: no such user", &b);
	const char *must[] = {
	    "To: <alice@example.test>\r\n",
	    "Auto-Submitted: auto-replied\r\n",
	    "Content-Type: multipart/report; report-type=delivery-status;",
	    "Content-Type: message/delivery-status\r\n",
	    "Reporting-MTA: dns; mx.example.test\r\n",
	    "Original-Envelope-Id: QQ314159\r\n",
	    "Original-Recipient: rfc822;bob@remote.test\r\n",
	    "Final-Recipient: rfc822; bob@remote.test\r\n",
	    "Action: failed\r\n",
	    "Status: 5.1.1\r\n",
	    "Remote-MTA: dns; mx.remote.test\r\n",
	    "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.test>: no such user\r\n",
	    "Content-Type: message/rfc822\r\n",
	    "\r\nbody line\r\n",
	    "--1K0YXEC2ZAB0050Y/mx.example.test--\r\n",
	};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		if (strstr(b.data, must[i]) == NULL)
			fail_msg("missing %s in:\n%s", must[i], b.data);
	assert_null(strstr(b.data, "carol"));
	buf_free(&b);
}

static void test_delay_and_headers_only(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	build(DSN_DELAY, NULL, "smtp; 451 4.4.1 try later", &b);
	assert_non_null(strstr(b.data, "Action: delayed\r\n"));
	assert_non_null(strstr(b.data, "Will-Retry-Until: "));
	assert_non_null(strstr(b.data, "Content-Type: text/rfc822-headers\r\n"));
	assert_null(strstr(b.data, "body line"));
	buf_reset(&b);
	build(DSN_FAILURE, "HDRS", "smtp; 550 no", &b);
	assert_non_null(strstr(b.data, "text/rfc822-headers"));
	assert_null(strstr(b.data, "body line"));
	buf_free(&b);
}

static void test_hostile_diagnostic(void **state)
{
	(void)state;
	/* A remote reply of 1,000 octets, with controls: folded, cleaned. */
	char diag[1100];
	memset(diag, 'x', sizeof(diag) - 1);
	diag[sizeof(diag) - 1] = '\0';
	memcpy(diag, "smtp; 550 \x01\x7f", 12);
	struct buf b = BUF_INIT;
	build(DSN_FAILURE, NULL, diag, &b);
	assert_null(memchr(b.data, '\x01', b.len));
	assert_null(memchr(b.data, '\x7f', b.len));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_failure),
	    cmocka_unit_test(test_delay_and_headers_only),
	    cmocka_unit_test(test_hostile_diagnostic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
