/*
 * test-rfc5322_address.c — address lists (proto/rfc5322_address.h): the
 * forms of RFC 5322 and its appendix A, groups, comments, routes, and
 * what broken ones still give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rfc5322_address.h"

/* Each address as "kind|name|route|local|domain", joined by "\n". */
static char seen[65536];

static void collect(void *ctx, const struct rfc5322_address *a)
{
	(void)ctx;
	size_t n = strlen(seen);
	snprintf(seen + n, sizeof(seen) - n, "%s%d|%s|%s|%s|%s", n ? "\n" : "", a->kind,
	         a->name ? a->name : "-", a->route ? a->route : "-",
	         a->local ? a->local : "-", a->domain ? a->domain : "-");
}

static void expect(const char *value, size_t mailboxes, const char *want)
{
	seen[0] = '\0';
	size_t n = rfc5322_address_list(value, strlen(value), collect, NULL);
	if (strcmp(seen, want) != 0)
		fail_msg("'%s':\n got  %s\n want %s", value, seen, want);
	assert_int_equal(n, mailboxes);
}

static void test_forms(void **state)
{
	(void)state;
	expect("\"Smith, John\" <john@example.com>, jane@example.org", 2,
	       "0|Smith, John|-|john|example.com\n0|-|-|jane|example.org");
	expect("John Q. Public <JQB@public.example>", 1,
	       "0|John Q. Public|-|JQB|public.example");
	expect("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", 3,
	       "1|A Group|-|-|-\n0|Ed Jones|-|c|a.test\n0|-|-|joe|where.test\n"
	       "0|John|-|jdoe|one.test\n2|-|-|-|-");
	expect("Undisclosed recipients:;", 0,
	       "1|Undisclosed recipients|-|-|-\n2|-|-|-|-");
	expect("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", 1,
	       "0|Pete|-|pete|silly.test");
	expect("<@route1,@route2:user@host.example>", 1,
	       "0|-|@route1,@route2|user|host.example");
	expect("\"john doe\"@example.com, x@[192.0.2.1]", 2,
	       "0|-|-|john doe|example.com\n0|-|-|x|[192.0.2.1]");
	expect("=?utf-8?q?J=C3=B6rg?= <joerg@example.de>", 1,
	       "0|=?utf-8?q?J=C3=B6rg?=|-|joerg|example.de");
	expect("Mary Smith <mary@x.test>,\r\n\tJohn <j@y.test>", 2,
	       "0|Mary Smith|-|mary|x.test\n0|John|-|j|y.test");
}

static void test_broken(void **state)
{
	(void)state;
	expect("foo", 1, "0|-|-|foo|-");
	expect("<>", 1, "0|-|-|-|-");
	expect("@domain.only", 1, "0|-|-|-|domain.only");
	expect("Group: a@b.test", 1,
	       "1|Group|-|-|-\n0|-|-|a|b.test\n2|-|-|-|-"); /* no ; */
	expect(",,, ;;", 0, "");
	expect("", 0, "");
	expect("\"unterminated <a@b.test>", 1, "0|-|-|unterminated <a@b.test>|-");
	expect("(only a comment)", 0, "");
	/* A NUL octet would cut the strings: taken as a space (found by
	 * fuzzing). */
	seen[0] = '\0';
	assert_int_equal(rfc5322_address_list("\0\x01Group:a@b.test;", 17, collect, NULL),
	                 1);
	assert_string_equal(seen, "1|\x01Group|-|-|-\n0|-|-|a|b.test\n2|-|-|-|-");
	expect("name <a@b.test> trailing junk, c@d.test", 2,
	       "0|name|-|a|b.test\n0|-|-|c|d.test");
}

static void count_only(void *ctx, const struct rfc5322_address *a)
{
	(void)a;
	++*(size_t *)ctx;
}

static void test_bounds(void **state)
{
	(void)state;
	size_t cap = 2000 * 12 + 1, len = 0;
	char *list = malloc(cap);
	for (int i = 0; i < 2000; i++)
		len += (size_t)snprintf(list + len, cap - len, "a%d@b.test,", i % 10);
	size_t calls = 0;
	size_t n = rfc5322_address_list(list, len, count_only, &calls);
	assert_int_equal(n, RFC5322_ADDRESSES_MAX);
	assert_int_equal(calls, RFC5322_ADDRESSES_MAX);
	/* one huge local part: cut, not overflowing */
	char *big = malloc(5000);
	memset(big, 'x', 4990);
	memcpy(big + 4990, "@b.test", 8);
	calls = 0;
	assert_int_equal(rfc5322_address_list(big, strlen(big), count_only, &calls), 1);
	free(big);
	free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_broken),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
