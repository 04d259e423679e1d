/*
 * test-wire_data.c — outbound DATA: dot-stuffing, CRLF repair, long lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mta/wire_data.h"

static void encode(const char *in, size_t len, size_t chunk, struct buf *out)
{
	struct wire_data w;
	wire_data_init(&w);
	buf_reset(out);
	for (size_t pos = 0; pos < len; pos += chunk)
		wire_data_encode(&w, in + pos, chunk < len - pos ? chunk : len - pos,
		                 out);
	wire_data_finish(&w, out);
}

static void test_cases(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"a\r\nb\r\n", "a\r\nb\r\n.\r\n"},
	    {"a\r\nb", "a\r\nb\r\n.\r\n"},
	    {"", ".\r\n"},
	    {".\r\n..x\r\n", "..\r\n...x\r\n.\r\n"},
	    /* Smuggling sequences leave as plain, stuffed lines. */
	    {"a\n.\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"},
	    {"a\r\n.\rMAIL FROM:<x>\r\n", "a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n"},
	    {"a\r.\r\n", "a\r\n..\r\n.\r\n"},
	    {"x\r", "x\r\n.\r\n"},
	    {"\r\r\n", "\r\n\r\n.\r\n"},
	};
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t chunk = 1; chunk <= 4; chunk++) {
			encode(cases[i].in, strlen(cases[i].in), chunk, &out);
			assert_string_equal(out.data, cases[i].out);
		}
	}
	buf_free(&out);
}

static void test_long_lines(void **state)
{
	(void)state;
	char in[3000];
	memset(in, 'a', sizeof(in));
	struct buf out = BUF_INIT;
	encode(in, sizeof(in), 7, &out);
	/* 998, then CRLF SP + 997 twice, then CRLF SP + the last 8. */
	assert_int_equal(out.len, 3000 + 3 * 3 + 2 + 3);
	assert_int_equal(memcmp(out.data + 998, "\r\n a", 4), 0);
	/* Exactly 998 is left alone. */
	encode(in, 998, 5, &out);
	assert_int_equal(out.len, 998 + 2 + 3);
	/* A dot line of 998 on the wire: the stuffed dot counts. */
	in[0] = '.';
	encode(in, 998, 998, &out);
	assert_int_equal(memcmp(out.data, "..", 2), 0);
	assert_int_equal(memcmp(out.data + 998, "\r\n a\r\n.\r\n", 9), 0);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_long_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
