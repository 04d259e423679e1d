/*
 * test-smtp_cmd.c — the SMTP command line parser and the BDAT argument.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/smtp_cmd.h"

static void parse_ok(const char *line, enum smtp_verb verb, const char *arg)
{
	struct smtp_cmd cmd;
	const char *error = NULL;
	assert_int_equal(smtp_cmd_parse(line, strlen(line), &cmd, &error), 0);
	assert_int_equal(cmd.verb, verb);
	assert_int_equal(cmd.arg_len, strlen(arg));
	assert_memory_equal(cmd.arg, arg, cmd.arg_len);
}

static void test_verbs(void **state)
{
	(void)state;
	parse_ok("EHLO client.example", SMTP_EHLO, "client.example");
	parse_ok("ehlo client.example  ", SMTP_EHLO, "client.example");
	parse_ok("HELO x", SMTP_HELO, "x");
	parse_ok("MAIL FROM:<a@b.c> SIZE=10", SMTP_MAIL, "<a@b.c> SIZE=10");
	parse_ok("mail from: <a@b.c>", SMTP_MAIL, "<a@b.c>");
	parse_ok("RCPT TO:<x@y.z>", SMTP_RCPT, "<x@y.z>");
	parse_ok("DATA", SMTP_DATA, "");
	parse_ok("BDAT 100 LAST", SMTP_BDAT, "100 LAST");
	parse_ok("QUIT", SMTP_QUIT, "");
	parse_ok("STARTTLS", SMTP_STARTTLS, "");
	parse_ok("XYZZY plugh", SMTP_UNKNOWN, "plugh");
	parse_ok("", SMTP_UNKNOWN, "");
	parse_ok("DATAX", SMTP_UNKNOWN, "");
}

static void test_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		size_t len;
	} bad[] = {
	    {"MAIL TO:<a@b>", 13},   {"MAIL <a@b>", 10},
	    {"RCPT FROM:<a@b>", 15}, {"RCPT", 4},
	    {"NOOP\0x", 6},         /* NUL */
	    {"EHLO a\rb", 8},       /* bare CR */
	    {"EHLO a\x1b[31m", 11}, /* escape */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct smtp_cmd cmd;
		const char *error = NULL;
		assert_int_equal(smtp_cmd_parse(bad[i].line, bad[i].len, &cmd, &error),
		                 -1);
		assert_non_null(error);
	}
}

static void test_bdat(void **state)
{
	(void)state;
	uint64_t size;
	int last;
	const char *error;
	assert_int_equal(smtp_bdat_parse("10", 2, &size, &last, &error), 0);
	assert_int_equal(size, 10);
	assert_int_equal(last, 0);
	assert_int_equal(smtp_bdat_parse("0 LAST", 6, &size, &last, &error), 0);
	assert_int_equal(size, 0);
	assert_int_equal(last, 1);
	assert_int_equal(smtp_bdat_parse("3 last", 6, &size, &last, &error), 0);
	assert_int_equal(last, 1);
	assert_int_equal(smtp_bdat_parse("999999999999999999", 18, &size, &last, &error),
	                 0);
	static const char *const bad[] = {
	    "-1", "",   "LAST",      "12345678901234567890", "10 LASTX", "10 FIRST",
	    "1x", "+5", "10  LAST x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    smtp_bdat_parse(bad[i], strlen(bad[i]), &size, &last, &error), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verbs),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_bdat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
