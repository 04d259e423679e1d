/*
 * test-smtp_ehlo.c — EHLO capabilities from whole reply lines, as the
 * reply parser hands them over: keywords in any case, SIZE with and
 * without a limit, AUTH and the old AUTH=, lines that are not capabilities,
 * and capabilities far past the reply's 1 KB display text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/smtp_ehlo.h"
#include "proto/smtp_reply.h"

static int line(struct smtp_ehlo *e, const char *text)
{
	return smtp_ehlo_line(e, text, strlen(text));
}

static void test_keywords(void **state)
{
	(void)state;
	struct smtp_ehlo e;
	smtp_ehlo_init(&e);
	assert_int_equal(line(&e, "PIPELINING"), 1);
	assert_int_equal(line(&e, "starttls"), 1);
	assert_int_equal(line(&e, "8BITMIME"), 1);
	assert_int_equal(line(&e, "SMTPUTF8"), 1);
	assert_int_equal(line(&e, "DSN"), 1);
	assert_int_equal(line(&e, "CHUNKING"), 1);
	assert_int_equal(line(&e, "ENHANCEDSTATUSCODES"), 1);
	assert_true(e.pipelining && e.starttls && e.eightbitmime && e.smtputf8 && e.dsn &&
	            e.chunking && e.enhancedstatuscodes);
	assert_false(e.size);
	assert_int_equal(line(&e, "SIZE"), 1);
	assert_true(e.size);
	assert_int_equal(e.size_limit, 0);
	assert_int_equal(line(&e, "SIZE 52428800"), 1);
	assert_int_equal(e.size_limit, 52428800);
	smtp_ehlo_init(&e);
	assert_int_equal(line(&e, "SIZE 12x"), 1); /* offered, limit unreadable */
	assert_true(e.size);
	assert_int_equal(e.size_limit, 0);
	assert_int_equal(line(&e, "SIZE 99999999999999999999999"), 1);
	assert_int_equal(e.size_limit, 0);
}

static void test_auth(void **state)
{
	(void)state;
	struct smtp_ehlo e;
	smtp_ehlo_init(&e);
	assert_int_equal(line(&e, "AUTH CRAM-MD5 LOGIN"), 1);
	assert_int_equal(e.auth, SMTP_EHLO_AUTH_LOGIN);
	assert_int_equal(line(&e, "AUTH=PLAIN"), 1);
	assert_int_equal(e.auth, SMTP_EHLO_AUTH_LOGIN | SMTP_EHLO_AUTH_PLAIN);
	smtp_ehlo_init(&e);
	assert_int_equal(line(&e, "AUTH PLAINX LOGINS"), 1);
	assert_int_equal(e.auth, 0);
}

static void test_not_capabilities(void **state)
{
	(void)state;
	struct smtp_ehlo e;
	smtp_ehlo_init(&e);
	static const char *const ignored[] = {"X-EXPS GSSAPI NTLM", "XCLIENT NAME"};
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		assert_int_equal(line(&e, ignored[i]), 0);
	static const char *const bad[] = {"",
	                                  " STARTTLS",
	                                  "-STARTTLS",
	                                  "STARTTLS\x01",
	                                  "STAR TTLS\x7f",
	                                  "PIPE_LINING",
	                                  "SIZE=5"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(smtp_ehlo_line(&e, bad[i], strlen(bad[i])), -1);
	/* Nothing above turned anything on. */
	struct smtp_ehlo none;
	smtp_ehlo_init(&none);
	assert_memory_equal(&e, &none, sizeof(e));
	/* A keyword is matched whole: STARTTLSX is not STARTTLS. */
	assert_int_equal(line(&e, "STARTTLSX"), 0);
	assert_false(e.starttls);
}

struct collected {
	struct smtp_ehlo ehlo;
	unsigned lines;
};

static void collect(void *context, unsigned index, const char *text, size_t len)
{
	struct collected *c = context;
	c->lines++;
	if (index > 0)
		smtp_ehlo_line(&c->ehlo, text, len);
}

/* Through the reply parser: STARTTLS after 2 KB of other lines still
 * counts (the joined display text stops at 1 KB). */
static void test_past_the_display_text(void **state)
{
	(void)state;
	char reply[8192];
	size_t len =
	    (size_t)snprintf(reply, sizeof(reply), "250-mx.example.net hello\r\n");
	for (int i = 0; i < 20; i++)
		len += (size_t)snprintf(reply + len, sizeof(reply) - len,
		                        "250-X-VENDOR-%02d %0100d\r\n", i, 0);
	len += (size_t)snprintf(reply + len, sizeof(reply) - len,
	                        "250-SIZE 1000\r\n250 STARTTLS\r\n");
	struct smtp_reply_parser p;
	smtp_reply_parser_init(&p);
	struct collected c;
	smtp_ehlo_init(&c.ehlo);
	c.lines = 0;
	smtp_reply_parser_on_line(&p, collect, &c);
	const char *error;
	assert_int_equal(smtp_reply_feed(&p, reply, len, &error), (int)len);
	assert_true(p.reply.text_len < len);
	assert_null(strstr(p.reply.text, "STARTTLS"));
	assert_int_equal(c.lines, 23);
	assert_true(c.ehlo.starttls);
	assert_true(c.ehlo.size);
	assert_int_equal(c.ehlo.size_limit, 1000);
	/* The callback stays across a reset for the next reply. */
	smtp_reply_parser_reset(&p);
	assert_int_equal(smtp_reply_feed(&p, "250 ok\r\n", 8, &error), 8);
	assert_int_equal(c.lines, 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keywords),
	    cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_not_capabilities),
	    cmocka_unit_test(test_past_the_display_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
