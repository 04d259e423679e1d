/*
 * test-smtp_addr.c — the SMTP path parser, table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/smtp_addr.h"

struct good {
	const char *in;
	unsigned flags;
	const char *local;
	const char *domain;
	int consumed;
};

static void test_good(void **state)
{
	(void)state;
	static const struct good cases[] = {
	    {"<user@example.test>", 0, "user", "example.test", 19},
	    {"<User.Name+tag@EXAMPLE.Test> SIZE=5", 0, "User.Name+tag", "example.test",
	     28},
	    {"<\"john doe\"@example.test>", 0, "john doe", "example.test", 25},
	    {"<\"a\\\"b\"@x.y>", 0, "a\"b", "x.y", 12},
	    {"<v@[192.0.2.1]>", 0, "v", "[192.0.2.1]", 15},
	    {"<v@[IPv6:2001:db8::1]>", 0, "v", "[IPv6:2001:db8::1]", 22},
	    {"<@relay.test:v@ext.test>", 0, "v", "ext.test", 24},
	    {"<@a.test,@b.test:v@ext.test>", 0, "v", "ext.test", 28},
	    {"<v%ext@local.test>", 0, "v%ext", "local.test", 18},
	    {"<ext!v@local.test>", 0, "ext!v", "local.test", 18},
	    {"<|/bin/sh@example.test>", 0, "|/bin/sh", "example.test", 23},
	    {"<\"../x\"@example.test>", 0, "../x", "example.test", 21},
	    {"<\"v@ext\"@local.test>", 0, "v@ext", "local.test", 20},
	    {"<Postmaster>", SMTP_ADDR_ALLOW_POSTMASTER, "Postmaster", "", 12},
	    {"<>", SMTP_ADDR_ALLOW_NULL, "", "", 2},
	    {"<用户@例子.test>", 0, "用户", "例子.test", 20},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct good *c = &cases[i];
		struct smtp_addr addr;
		const char *error = NULL;
		int n = smtp_addr_parse(c->in, strlen(c->in), c->flags, &addr, &error);
		if (n != c->consumed)
			fail_msg("case %zu '%s': got %d (%s)", i, c->in, n,
			         error ? error : "");
		assert_string_equal(addr.local, c->local);
		assert_string_equal(addr.domain, c->domain);
	}
}

static void test_bad(void **state)
{
	(void)state;
	char long_local[400];
	memset(long_local, 'a', sizeof(long_local));
	long_local[0] = '<';
	memcpy(long_local + 301, "@example.test>", 15);
	char long_label[100] = "<a@";
	memset(long_label + 3, 'b', 64);
	memcpy(long_label + 67, ".test>", 7);
	const char *const bad[] = {
	    "<",                        /* just the bracket (found by fuzzing) */
	    "<@",                       /* a route with nothing after it */
	    "user@example.test",        /* no brackets */
	    "<user@example.test",       /* unclosed */
	    "<;sleep 66;>",             /* shell, and no domain */
	    "<v@ext@local.test>",       /* two @ */
	    "<user>",                   /* no domain */
	    "<Postmaster>",             /* not allowed without the flag */
	    "<>",                       /* null not allowed without the flag */
	    "<.user@x.y>",              /* leading dot */
	    "<us..er@x.y>",             /* double dot */
	    "<user.@x.y>",              /* trailing dot */
	    "<user@-x.y>",              /* label starts with hyphen */
	    "<user@x-.y>",              /* label ends with hyphen */
	    "<user@x..y>",              /* empty label */
	    "<user@>",                  /* empty domain */
	    "<user@[300.1.1.1]>",       /* bad literal */
	    "<user@[tag:x]>",           /* general literal */
	    "<@relay.test,v@ext.test>", /* broken route */
	    "<\"unterminated@x.y>",     /* quote */
	    "<\"a\rb\"@x.y>",           /* CR in quoted string */
	    "<a b@x.y>",                /* space */
	    "<a\xc3@x.y>",              /* truncated UTF-8 */
	    "<a\xc0\xaf@x.y>",          /* overlong UTF-8 */
	    "<a@x.y> junk>",            /* not a path then junk is fine; see below */
	    long_local,                 /* 300-octet local part */
	    long_label,                 /* 64-octet label */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct smtp_addr addr;
		const char *error = NULL;
		int n = smtp_addr_parse(bad[i], strlen(bad[i]), 0, &addr, &error);
		if (i == 24) {
			/* The path itself parses; the caller must handle the rest. */
			assert_int_equal(n, 7);
			continue;
		}
		if (n >= 0)
			fail_msg("case %zu '%s' accepted", i, bad[i]);
		assert_non_null(error);
	}
}

/* Found by fuzzing: bytes after a NUL in a literal were unchecked. */
static void test_nul_in_literal(void **state)
{
	(void)state;
	static const char in[] = "<v@[IPv6:2001:db8::1\0\1]>";
	struct smtp_addr addr;
	const char *error;
	assert_int_equal(smtp_addr_parse(in, sizeof(in) - 1, 0, &addr, &error), -1);
	static const char local_nul[] = "<a\0b@x.y>";
	assert_int_equal(
	    smtp_addr_parse(local_nul, sizeof(local_nul) - 1, 0, &addr, &error), -1);
}

static void test_format_round_trip(void **state)
{
	(void)state;
	const char *const inputs[] = {"<a.b@c.d>", "<\"john doe\"@x.y>",
	                              "<\"a\\\"b\"@x.y>", "<\"../x\"@example.test>"};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct smtp_addr a, b;
		const char *error;
		assert_true(smtp_addr_parse(inputs[i], strlen(inputs[i]), 0, &a, &error) >
		            0);
		char text[300], path[310];
		assert_true(smtp_addr_format(&a, text, sizeof(text)) > 0);
		snprintf(path, sizeof(path), "<%s>", text);
		assert_true(smtp_addr_parse(path, strlen(path), 0, &b, &error) > 0);
		assert_string_equal(a.local, b.local);
		assert_string_equal(a.domain, b.domain);
	}
	char tiny[4];
	struct smtp_addr a;
	const char *error;
	assert_true(smtp_addr_parse("<abc@d.e>", 9, 0, &a, &error) > 0);
	assert_int_equal(smtp_addr_format(&a, tiny, sizeof(tiny)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_nul_in_literal),
	    cmocka_unit_test(test_format_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
