/*
 * test-pop3_cmd.c — POP3 command lines (proto/pop3_cmd.h), good and bad.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/pop3_cmd.h"

static int parse(const char *line, struct pop3_cmd *cmd, const char **error)
{
	return pop3_cmd_parse(line, strlen(line), cmd, error);
}

static void test_commands(void **state)
{
	(void)state;
	struct pop3_cmd c;
	const char *error;
	assert_int_equal(parse("user alice@example.net", &c, &error), 0);
	assert_int_equal(c.verb, POP3_USER);
	assert_int_equal(c.arg_len[0], strlen("alice@example.net"));
	assert_int_equal(parse("PASS  two  spaces ", &c, &error), 0);
	assert_int_equal(c.verb, POP3_PASS);
	assert_int_equal(c.arg_len[0], strlen(" two  spaces "));
	assert_int_equal(parse("RETR 4294967295", &c, &error), 0);
	assert_int_equal(c.number[0], 4294967295u);
	assert_int_equal(parse("TOP 3 0", &c, &error), 0);
	assert_int_equal(c.verb, POP3_TOP);
	assert_int_equal(c.number[0], 3);
	assert_int_equal(c.number[1], 0);
	assert_int_equal(parse("LIST", &c, &error), 0);
	assert_int_equal(c.argc, 0);
	assert_int_equal(parse("UIDL 7", &c, &error), 0);
	assert_int_equal(c.number[0], 7);
	assert_int_equal(parse("AUTH PLAIN AGFsaWNlAHNlY3JldA==", &c, &error), 0);
	assert_int_equal(c.argc, 2);
	assert_int_equal(parse("capa", &c, &error), 0);
	assert_int_equal(c.verb, POP3_CAPA);
	assert_int_equal(parse("XTND XMIT", &c, &error), 0);
	assert_int_equal(c.verb, POP3_UNKNOWN);
}

static void test_bad_lines(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		size_t len;
		const char *error;
	} bad[] = {
	    {"RETR 0", 0, "no such message"},
	    {"RETR 4294967296", 0, "no such message"},
	    {"RETR 99999999999", 0, "invalid message number"},
	    {"RETR -1", 0, "invalid message number"},
	    {"RETR 1x", 0, "invalid message number"},
	    {"RETR", 0, "missing argument"},
	    {"RETR 1 2", 0, "too many arguments"},
	    {"DELE 0", 0, "no such message"},
	    {"TOP 1", 0, "missing argument"},
	    {"TOP 1 -5", 0, "invalid message number"},
	    {"STAT now", 0, "too many arguments"},
	    {"PASS", 0, "missing argument"},
	    {"USER a\0b", 8, "NUL in command"},
	    {"USER a\rb", 0, "control octet"},
	    {"USER aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0,
	     "argument too long"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pop3_cmd c;
		const char *error = NULL;
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].line);
		if (pop3_cmd_parse(bad[i].line, len, &c, &error) == 0)
			fail_msg("'%s' accepted", bad[i].line);
		if (strstr(error, bad[i].error) == NULL)
			fail_msg("'%s': got '%s'", bad[i].line, error);
	}
	char long_line[300];
	memset(long_line, 'a', sizeof(long_line));
	memcpy(long_line, "PASS ", 5);
	struct pop3_cmd c;
	const char *error;
	assert_int_equal(pop3_cmd_parse(long_line, 254, &c, &error), -1);
	assert_string_equal(error, "line too long");
	assert_int_equal(pop3_cmd_parse(long_line, 253, &c, &error), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_bad_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
