/*
 * test-smtp_reply.c — the client-side SMTP reply parser, fed whole and
 * octet by octet, against well-formed and hostile replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp_reply.h"

/* Feeds in chunks of chunk octets (0: at once). Returns the feed result
 * with the total consumed for a complete reply. */
static int feed(const char *in, size_t len, size_t chunk, struct smtp_reply_parser *p)
{
	const char *error;
	smtp_reply_parser_init(p);
	size_t pos = 0;
	while (pos < len) {
		size_t n = chunk && chunk < len - pos ? chunk : len - pos;
		int r = smtp_reply_feed(p, in + pos, n, &error);
		if (r < 0)
			return -1;
		if (r > 0)
			return (int)pos + r;
		pos += n;
	}
	return 0;
}

struct reply_case {
	const char *in;
	int consumed; /* >0 complete, 0 incomplete, -1 refused */
	int code;
	const char *enhanced;
	const char *text;
};

static const struct reply_case cases[] = {
    {"250 OK\r\n", 8, 250, "", "OK"},
    {"250 2.1.5 Ok\r\nNEXT", 14, 250, "2.1.5", "2.1.5 Ok"},
    {"250\r\n", 5, 250, "", ""},
    {"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 46, 250, "",
     "mx.example / PIPELINING / SIZE 100"},
    {"250-\r\n250 x\r\n", 13, 250, "", " / x"},
    {"554 5.7.1 no\n", 13, 554, "5.7.1", "5.7.1 no"}, /* bare LF accepted */
    {"421 4.3.2 bye\r\n", 15, 421, "4.3.2", "4.3.2 bye"},
    {"550 5.1.10 null MX\r\n", 20, 550, "5.1.10", "5.1.10 null MX"},
    {"250-mx\r\n", 0, 0, "", ""}, /* more to come */
    /* Hostile: short lines (CVE-2020-8794), bad codes, mixed codes. */
    {"250-x\r\n2\r\n", -1, 0, "", ""},
    {"25\r\n", -1, 0, "", ""},
    {"2\r\n", -1, 0, "", ""},
    {"\r\n", -1, 0, "", ""},
    {"250x\r\n", -1, 0, "", ""},
    {"199 no\r\n", -1, 0, "", ""},
    {"600 no\r\n", -1, 0, "", ""},
    {"260 no\r\n", -1, 0, "", ""},
    {"250-a\r\n550 b\r\n", -1, 0, "", ""},
    {"250 a\rb\r\n", -1, 0, "", ""},
    {"250 a\0b\r\n", -1, 0, "", ""},
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct reply_case *c = &cases[i];
		size_t len = strlen(c->in);
		if (i == sizeof(cases) / sizeof(cases[0]) - 1)
			len = 9; /* the NUL case: "250 a\0b\r\n" */
		for (size_t chunk = 0; chunk <= 3; chunk++) {
			struct smtp_reply_parser p;
			int r = feed(c->in, len, chunk, &p);
			if (r != c->consumed)
				fail_msg("case %zu chunk %zu: got %d, want %d", i, chunk,
				         r, c->consumed);
			if (r > 0) {
				assert_int_equal(p.reply.code, c->code);
				assert_string_equal(p.reply.enhanced, c->enhanced);
				assert_string_equal(p.reply.text, c->text);
			}
		}
	}
}

static void test_bounds(void **state)
{
	(void)state;
	struct smtp_reply_parser p;
	/* A 100 KB reply line is refused, not buffered. */
	size_t big = 100 * 1024;
	char *line = malloc(big + 7);
	memcpy(line, "250 ", 4);
	memset(line + 4, 'x', big);
	memcpy(line + 4 + big, "\r\n", 3);
	assert_int_equal(feed(line, big + 6, 0, &p), -1);
	free(line);
	/* A line of exactly the limit is fine; the text kept is truncated. */
	char ok[SMTP_REPLY_LINE_MAX + 1];
	memcpy(ok, "250 ", 4);
	memset(ok + 4, 'y', SMTP_REPLY_LINE_MAX - 6);
	memcpy(ok + SMTP_REPLY_LINE_MAX - 2, "\r\n", 2);
	assert_int_equal(feed(ok, SMTP_REPLY_LINE_MAX, 0, &p), SMTP_REPLY_LINE_MAX);
	assert_int_equal(p.reply.text_len, SMTP_REPLY_TEXT_MAX - 1);
	/* Endless continuation lines are refused. */
	size_t lines = SMTP_REPLY_LINES_MAX + 1;
	char *many = malloc(lines * 8 + 1);
	for (size_t i = 0; i < lines; i++)
		memcpy(many + i * 8, "250-ab\r\n", 8);
	assert_int_equal(feed(many, lines * 8, 0, &p), -1);
	free(many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
