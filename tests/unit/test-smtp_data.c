/*
 * test-smtp_data.c — DATA end detection, dot-unstuffing, and the
 * smuggling and line-length rules, fed whole and one octet at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp_data.h"

struct result {
	char out[4096];
	size_t out_len;
	size_t consumed; /* 0 if the end was not found */
	unsigned flags;
};

/* Feeds in chunks of chunk octets (0: all at once). */
static struct result feed(const char *in, size_t len, size_t chunk, size_t line_limit)
{
	struct result r = {0};
	struct smtp_data data;
	smtp_data_init(&data, line_limit);
	size_t pos = 0;
	while (pos < len) {
		size_t n = chunk && chunk < len - pos ? chunk : len - pos;
		char out[4096];
		size_t out_len;
		size_t used = smtp_data_feed(&data, in + pos, n, out, &out_len);
		memcpy(r.out + r.out_len, out, out_len);
		r.out_len += out_len;
		if (used > 0) {
			r.consumed = pos + used;
			break;
		}
		pos += n;
	}
	r.flags = data.flags;
	return r;
}

struct data_case {
	const char *in;
	const char *out; /* unstuffed message */
	size_t consumed; /* through ".\r\n", 0 = not ended */
	unsigned flags;
};

static const struct data_case cases[] = {
    {"Hello\r\n.\r\n", "Hello\r\n", 10, 0},
    {".\r\n", "", 3, 0},
    {"..dot\r\n.\r\n", ".dot\r\n", 10, 0},
    {"a\r\n..\r\n.\r\nMAIL", "a\r\n.\r\n", 10, 0},
    {"a\r\n.\r\nQUIT\r\n", "a\r\n", 6, 0},
    /* Smuggling forms: none of these ends the message. */
    {"a\n.\nMAIL FROM:<x@y>\r\n", "a\n.\nMAIL FROM:<x@y>\r\n", 0, SMTP_DATA_BARE_LF},
    {"a\r\n.\nMAIL FROM:<x@y>\r\n", "a\r\n\nMAIL FROM:<x@y>\r\n", 0, SMTP_DATA_BARE_LF},
    {"a\n.\r\nMAIL FROM:<x@y>\r\n", "a\n.\r\nMAIL FROM:<x@y>\r\n", 0, SMTP_DATA_BARE_LF},
    {"a\r.\r\nMAIL FROM:<x@y>\r\n", "a\r.\r\nMAIL FROM:<x@y>\r\n", 0, SMTP_DATA_BARE_CR},
    {"a\r\n.\rMAIL\r\n", "a\r\n\rMAIL\r\n", 0, SMTP_DATA_BARE_CR},
    /* ...and once the real terminator comes, it ends there. */
    {"a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", 10, SMTP_DATA_BARE_LF},
    {"x\ry\r\n.\r\n", "x\ry\r\n", 8, SMTP_DATA_BARE_CR},
    {".\r\r\n.\r\n", "\r\r\n", 7, SMTP_DATA_BARE_CR},
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct data_case *c = &cases[i];
		for (size_t chunk = 0; chunk <= 3; chunk++) {
			struct result r = feed(c->in, strlen(c->in), chunk, 1000);
			if (r.consumed != c->consumed || r.flags != c->flags ||
			    r.out_len != strlen(c->out) ||
			    memcmp(r.out, c->out, r.out_len) != 0)
				fail_msg("case %zu chunk %zu: consumed %zu flags %u out "
				         "'%.*s'",
				         i, chunk, r.consumed, r.flags, (int)r.out_len,
				         r.out);
		}
	}
}

static void test_line_limit(void **state)
{
	(void)state;
	/* 998 octets + CRLF = 1000: allowed. 999 + CRLF: too long. */
	char msg[1100];
	memset(msg, 'x', 998);
	memcpy(msg + 998, "\r\n.\r\n", 6);
	struct result r = feed(msg, strlen(msg), 0, 1000);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.consumed, 1003);
	memset(msg, 'x', 999);
	memcpy(msg + 999, "\r\n.\r\n", 6);
	r = feed(msg, strlen(msg), 7, 1000);
	assert_int_equal(r.flags, SMTP_DATA_LONG_LINE);
	assert_int_equal(r.consumed, 1004);
	/* A stuffed dot counts on the wire. */
	msg[0] = '.';
	memset(msg + 1, 'x', 998);
	memcpy(msg + 999, "\r\n.\r\n", 6);
	r = feed(msg, strlen(msg), 0, 1000);
	assert_int_equal(r.flags, SMTP_DATA_LONG_LINE);
}

static void test_bdat_check(void **state)
{
	(void)state;
	struct smtp_data data;
	smtp_data_init(&data, 1000);
	smtp_data_check(&data, "a\r\n.\r\nb\r", 8);
	smtp_data_check(&data, "\nc\r\n", 4);
	smtp_data_check_end(&data);
	assert_int_equal(data.flags, 0);
	smtp_data_init(&data, 1000);
	smtp_data_check(&data, "a\nb\r\n", 5);
	assert_int_equal(data.flags, SMTP_DATA_BARE_LF);
	smtp_data_init(&data, 1000);
	smtp_data_check(&data, "a\r", 2);
	smtp_data_check_end(&data);
	assert_int_equal(data.flags, SMTP_DATA_BARE_CR);
}

/* Random input never overflows the output contract (len + 1). */
static void test_random(void **state)
{
	(void)state;
	srand(7);
	for (int round = 0; round < 2000; round++) {
		char in[64], out[65];
		size_t len = (size_t)(rand() % 64);
		for (size_t i = 0; i < len; i++)
			in[i] = "\r\n.x"[rand() % 4];
		struct smtp_data data;
		smtp_data_init(&data, 1000);
		size_t pos = 0;
		while (pos < len) {
			size_t n = 1 + (size_t)(rand() % 5);
			if (n > len - pos)
				n = len - pos;
			size_t out_len;
			size_t used = smtp_data_feed(&data, in + pos, n, out, &out_len);
			assert_true(out_len <= n + 1);
			if (used)
				break;
			pos += n;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_line_limit),
	    cmocka_unit_test(test_bdat_check),
	    cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
