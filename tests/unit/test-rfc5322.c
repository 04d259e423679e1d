/*
 * test-rfc5322.c — the header section parser: where the section ends
 * (empty line, a non-field line, the end of the message), folding, the
 * obsolete blank before the colon, limits on size and field count, and
 * the same answer whatever the arrival in pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/rfc5322.h"

/* The section's end, feeding the message in pieces of `step` octets. */
static int end_of(const char *msg, size_t step, size_t *end, const char **error)
{
	struct rfc5322_scan scan;
	rfc5322_scan_init(&scan, 1000, 10);
	size_t len = strlen(msg);
	for (size_t have = step < len ? step : len;; have += step) {
		if (have > len)
			have = len;
		int r = rfc5322_scan(&scan, msg, have, end, error);
		if (r != 0)
			return r;
		if (have == len)
			return rfc5322_scan_finish(&scan, msg, len, end, error);
	}
}

static void test_ends(void **state)
{
	(void)state;
	static const struct {
		const char *msg;
		size_t end;
	} cases[] = {
	    {"From: a\r\nTo: b\r\n\r\nbody\r\n", 16},
	    {"From: a\nTo: b\n\nbody\n", 14},
	    {"Subject: one\r\n two\r\n\tthree\r\n\r\nx", 28},
	    {"Subject : obsolete\r\n\r\n", 20},
	    {"From: a\r\nnot a field\r\nmore\r\n", 9}, /* body begins at it */
	    {"From: a\r\nFrom foo bar\r\n", 9},        /* mbox line: body */
	    {"no header at all\r\n", 0},
	    {"\r\nbody only\r\n", 0},
	    {" folded first\r\n", 0},
	    {"From: a\r\nTo: b\r\n", 16}, /* ends with the message */
	    {"From: a\r\nTo: b", 14},     /* last line without CRLF */
	    {"", 0},
	    {"X:\r\n\r\n", 4},
	    {":no name\r\n", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t step = 1; step <= strlen(cases[i].msg) + 1; step++) {
			size_t end = 999;
			const char *error = NULL;
			int r = end_of(cases[i].msg, step, &end, &error);
			if (r != 1 || end != cases[i].end)
				fail_msg("case %zu step %zu: r=%d end=%zu (want %zu) %s",
				         i, step, r, end, cases[i].end,
				         error ? error : "");
		}
	}
}

static void test_limits(void **state)
{
	(void)state;
	char msg[4096];
	size_t n = 0;
	for (int i = 0; i < 11; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "X-A: b\r\n");
	size_t end;
	const char *error = NULL;
	assert_int_equal(end_of(msg, 7, &end, &error), -1);
	assert_string_equal(error, "too many header fields");
	/* Ten fields is the limit, and fine. */
	snprintf(msg + 8 * 10, sizeof(msg) - 80, "\r\n");
	assert_int_equal(end_of(msg, 3, &end, &error), 1);
	assert_int_equal(end, 80);
	/* One folded field of 1,300 octets: over the 1,000-octet section. */
	n = (size_t)snprintf(msg, sizeof(msg), "Subject: x\r\n");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n,
		                      " aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	assert_int_equal(end_of(msg, 100, &end, &error), -1);
	assert_string_equal(error, "header section too large");
	/* A field that never ends: too large as soon as it passes the limit. */
	n = (size_t)snprintf(msg, sizeof(msg), "Subject: ");
	memset(msg + n, 'a', 1500);
	msg[n + 1500] = '\0';
	struct rfc5322_scan scan;
	rfc5322_scan_init(&scan, 1000, 10);
	assert_int_equal(rfc5322_scan(&scan, msg, n + 1500, &end, &error), -1);
	/* A line undecided for longer than the section may be (all name
	 * characters, no colon yet) starts the body, however it arrives: the
	 * fuzzer once found the answer depending on the pieces. */
	n = (size_t)snprintf(msg, sizeof(msg), "X: a\r\n");
	memset(msg + n, 'a', 1500);
	snprintf(msg + n + 1500, sizeof(msg) - n - 1500, " b\r\n\r\n");
	for (size_t step = 1; step < 2000; step += 97) {
		assert_int_equal(end_of(msg, step, &end, &error), 1);
		assert_int_equal(end, 6);
	}
	/* ... but a long body line after the section is no concern of it. */
	snprintf(msg, sizeof(msg), "A: b\r\n\r\n%01500d", 0);
	rfc5322_scan_init(&scan, 1000, 10);
	assert_int_equal(rfc5322_scan(&scan, msg, strlen(msg), &end, &error), 1);
	assert_int_equal(end, 6);
}

static void test_fields(void **state)
{
	(void)state;
	const char *section = "From: a@b\r\nSubject : one\r\n two\r\nX-Empty:\r\nLast: z";
	size_t len = strlen(section), pos = 0;
	struct rfc5322_field f;
	assert_int_equal(rfc5322_next_field(section, len, &pos, &f), 1);
	assert_int_equal(f.name_len, 4);
	assert_memory_equal(f.name, "From", 4);
	assert_int_equal(f.value_len, 4);
	assert_memory_equal(f.value, " a@b", 4);
	assert_int_equal(f.raw_len, 11);
	assert_int_equal(rfc5322_next_field(section, len, &pos, &f), 1);
	assert_memory_equal(f.name, "Subject", f.name_len);
	assert_int_equal(f.name_len, 7);
	assert_int_equal(f.value_len, strlen(" one\r\n two"));
	assert_memory_equal(f.value, " one\r\n two", f.value_len);
	assert_int_equal(rfc5322_next_field(section, len, &pos, &f), 1);
	assert_int_equal(f.value_len, 0);
	assert_int_equal(rfc5322_next_field(section, len, &pos, &f), 1);
	assert_memory_equal(f.value, " z", 2);
	assert_int_equal(f.raw_len, 7);
	assert_int_equal(rfc5322_next_field(section, len, &pos, &f), 0);
	assert_int_equal(pos, len);
	assert_true(rfc5322_name_valid("X-Spam", 6));
	assert_false(rfc5322_name_valid("X Spam", 6));
	assert_false(rfc5322_name_valid("X:", 2));
	assert_false(rfc5322_name_valid("", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ends),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
