/*
 * test-imap_parser.c — IMAP commands (proto/imap_parser.h): arguments of
 * every kind, fed whole and an octet at a time; literals synchronising,
 * non-synchronising, streamed and refused; and what bad input gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_parser.h"

static const struct imap_parser_limits LIMITS = {
    .line_max = 8192, .literal_max = 1024, .stream_max = 0};

/* Feeds text; returns the result, *used how much was taken. */
static enum imap_parse feed(struct imap_parser *p, const char *text, size_t len,
                            size_t *used)
{
	size_t consumed = 0;
	enum imap_parse r = imap_parser_feed(p, text, len, &consumed);
	if (used)
		*used = consumed;
	return r;
}

static enum imap_parse feed_str(struct imap_parser *p, const char *text)
{
	size_t used;
	enum imap_parse r = feed(p, text, strlen(text), &used);
	if (r == IMAP_PARSE_MORE || r == IMAP_PARSE_DONE)
		assert_int_equal(used, strlen(text));
	return r;
}

static const struct imap_arg *nth(const struct imap_arg *a, unsigned n)
{
	while (a && n--)
		a = a->next;
	return a;
}

static void test_simple_command(void **state)
{
	(void)state;
	struct imap_parser *p = imap_parser_new(&LIMITS);
	assert_int_equal(feed_str(p, "a1 login alice \"s3 \\\"x\\\\\"\r\n"),
	                 IMAP_PARSE_DONE);
	assert_string_equal(imap_parser_tag(p), "a1");
	assert_string_equal(imap_parser_command(p), "LOGIN");
	assert_int_equal(imap_parser_arg_count(p), 2);
	const struct imap_arg *a = imap_parser_args(p);
	assert_int_equal(a->type, IMAP_ARG_ATOM);
	assert_string_equal(a->str, "alice");
	assert_int_equal(a->next->type, IMAP_ARG_QUOTED);
	assert_string_equal(a->next->str, "s3 \"x\\");
	assert_int_equal(a->next->len, 6);
	assert_null(a->next->next);
	/* No arguments, and a bare LF is a line end too. */
	assert_int_equal(feed_str(p, "a2 NOOP\n"), IMAP_PARSE_DONE);
	assert_string_equal(imap_parser_command(p), "NOOP");
	assert_null(imap_parser_args(p));
	/* "~" starts a literal8 only before "{": else it is an atom's. */
	assert_int_equal(feed_str(p, "a3 LIST \"\" ~peter/mail/%\r\n"), IMAP_PARSE_DONE);
	assert_string_equal(imap_parser_args(p)->next->str, "~peter/mail/%");
	assert_int_equal(feed_str(p, "a4 SELECT ~\r\n"), IMAP_PARSE_DONE);
	assert_string_equal(imap_parser_args(p)->str, "~");
	imap_parser_free(&p);
	assert_null(p);
}

static void test_lists_and_fetch_items(void **state)
{
	(void)state;
	struct imap_parser *p = imap_parser_new(&LIMITS);
	const char *line =
	    "t UID FETCH 1:4294967295,*:1 (FLAGS BODY.PEEK[HEADER.FIELDS (From "
	    "To)]<0.10> nil (\\Seen \\Deleted))\r\n";
	assert_int_equal(feed_str(p, line), IMAP_PARSE_DONE);
	assert_string_equal(imap_parser_command(p), "UID");
	const struct imap_arg *a = imap_parser_args(p);
	assert_string_equal(a->str, "FETCH");
	assert_string_equal(nth(a, 1)->str, "1:4294967295,*:1");
	const struct imap_arg *items = nth(a, 2);
	assert_int_equal(items->type, IMAP_ARG_LIST);
	assert_int_equal(items->len, 6);
	assert_string_equal(nth(items->list, 0)->str, "FLAGS");
	assert_string_equal(nth(items->list, 1)->str, "BODY.PEEK[HEADER.FIELDS");
	const struct imap_arg *fields = nth(items->list, 2);
	assert_int_equal(fields->type, IMAP_ARG_LIST);
	assert_string_equal(fields->list->str, "From");
	assert_string_equal(fields->list->next->str, "To");
	assert_string_equal(nth(items->list, 3)->str, "]<0.10>");
	assert_int_equal(nth(items->list, 4)->type, IMAP_ARG_NIL);
	assert_null(imap_arg_astring(nth(items->list, 4)));
	imap_parser_free(&p);
}

/* The same command, fed an octet at a time, gives the same arguments. */
static void test_octet_at_a_time(void **state)
{
	(void)state;
	struct imap_parser *p = imap_parser_new(&LIMITS);
	const char *line =
	    "x7 APPEND \"Sent Items\" (\\Seen) {3+}\r\nabc \"q\\\"\" (a (b)) ~{2+}\r\n"
	    "\0z\r\n";
	size_t len = strlen(line) + 4; /* through the literal8's NUL and the end */
	enum imap_parse r = IMAP_PARSE_MORE;
	for (size_t i = 0; i < len; i++) {
		size_t used;
		r = feed(p, line + i, 1, &used);
		assert_int_equal(used, 1);
		if (i + 1 < len)
			assert_int_equal(r, IMAP_PARSE_MORE);
	}
	assert_int_equal(r, IMAP_PARSE_DONE);
	const struct imap_arg *a = imap_parser_args(p);
	assert_string_equal(a->str, "Sent Items");
	assert_int_equal(nth(a, 1)->type, IMAP_ARG_LIST);
	assert_int_equal(nth(a, 2)->type, IMAP_ARG_LITERAL);
	assert_string_equal(nth(a, 2)->str, "abc");
	assert_string_equal(nth(a, 3)->str, "q\"");
	assert_int_equal(nth(a, 4)->list->next->list->str[0], 'b');
	assert_true(nth(a, 5)->literal8);
	assert_int_equal(nth(a, 5)->len, 2);
	assert_memory_equal(nth(a, 5)->str, "\0z", 2);
	imap_parser_free(&p);
}

static void test_synchronising_literals(void **state)
{
	(void)state;
	struct imap_parser *p = imap_parser_new(&LIMITS);
	size_t used;
	const char *first = "a4 LOGIN {5}\r\nalice";
	assert_int_equal(feed(p, first, strlen(first), &used), IMAP_PARSE_CONTINUE);
	assert_int_equal(used, 14); /* up to the line end: nothing of the data */
	assert_int_equal(imap_parser_literal_size(p), 5);
	assert_true(imap_parser_literal_sync(p));
	assert_int_equal(feed_str(p, "alice {0}\r\n"), IMAP_PARSE_CONTINUE);
	assert_int_equal(feed_str(p, "\r\n"), IMAP_PARSE_DONE);
	const struct imap_arg *a = imap_parser_args(p);
	assert_string_equal(a->str, "alice");
	assert_int_equal(a->next->type, IMAP_ARG_LITERAL);
	assert_string_equal(a->next->str, "");
	imap_parser_free(&p);
}

/* A synchronising literal over the limit is refused before a byte of it
 * is sent; a non-synchronising one has its octets skipped, never read as
 * commands. */
static void test_literal_too_big(void **state)
{
	(void)state;
	struct imap_parser_limits small = {.line_max = 1000, .literal_max = 10};
	struct imap_parser *p = imap_parser_new(&small);
	assert_int_equal(feed_str(p, "a6 LOGIN {11}\r\n"), IMAP_PARSE_ERROR);
	assert_true(imap_parser_error_too_big(p));
	assert_false(imap_parser_error_fatal(p));
	assert_string_equal(imap_parser_tag(p), "a6");
	assert_int_equal(feed_str(p, "a7 NOOP\r\n"), IMAP_PARSE_DONE);
	assert_string_equal(imap_parser_tag(p), "a7");

	const char *smuggle =
	    "a8 LOGIN {11+}\r\na9 LOGOUT\r\n x {3+}\r\nb1\nc\r\nb2 NOOP\r\n";
	size_t used, at = 0, len = strlen(smuggle);
	assert_int_equal(feed(p, smuggle, len, &used), IMAP_PARSE_ERROR);
	assert_string_equal(imap_parser_tag(p), "a8");
	assert_string_equal(imap_parser_error(p), "literal too big");
	at += used;
	assert_int_equal(feed(p, smuggle + at, len - at, &used), IMAP_PARSE_DONE);
	assert_string_equal(imap_parser_tag(p), "b2");
	assert_string_equal(imap_parser_command(p), "NOOP");
	imap_parser_free(&p);
}

static void test_streamed_literal(void **state)
{
	(void)state;
	struct imap_parser_limits limits = {
	    .line_max = 1000, .literal_max = 10, .stream_max = 1000};
	struct imap_parser *p = imap_parser_new(&limits);
	size_t used;
	const char *cmd = "s1 APPEND INBOX (\\Seen) {100}\r\n";
	assert_int_equal(feed(p, cmd, strlen(cmd), &used), IMAP_PARSE_STREAM);
	assert_int_equal(used, strlen(cmd));
	assert_int_equal(imap_parser_literal_size(p), 100);
	assert_true(imap_parser_literal_sync(p));
	imap_parser_stream_done(p); /* the caller read its 100 octets */
	assert_int_equal(feed_str(p, " extra\r\n"), IMAP_PARSE_DONE);
	const struct imap_arg *a = imap_parser_args(p);
	assert_int_equal(nth(a, 2)->type, IMAP_ARG_STREAMED);
	assert_int_equal(nth(a, 2)->stream_size, 100);
	assert_string_equal(nth(a, 3)->str, "extra");

	/* Refused (say, over the quota): a non-synchronising one's octets
	 * are skipped. */
	char refused[200];
	int n = snprintf(refused, sizeof(refused),
	                 "s2 APPEND INBOX {20+}\r\n%s\r\ns3 NOOP\r\n",
	                 "s9 DELETE INBOX\r\nxx");
	assert_int_equal(feed(p, refused, (size_t)n, &used), IMAP_PARSE_STREAM);
	assert_false(imap_parser_literal_sync(p));
	imap_parser_stream_refuse(p, "over quota");
	size_t at = used;
	assert_int_equal(feed(p, refused + at, (size_t)n - at, &used), IMAP_PARSE_ERROR);
	assert_int_equal(used, 0);
	assert_string_equal(imap_parser_error(p), "over quota");
	assert_int_equal(feed(p, refused + at, (size_t)n - at, &used), IMAP_PARSE_DONE);
	assert_string_equal(imap_parser_tag(p), "s3");
	/* Over stream_max: refused like any other. */
	assert_int_equal(feed_str(p, "s4 APPEND INBOX {1001}\r\n"), IMAP_PARSE_ERROR);
	assert_true(imap_parser_error_too_big(p));
	imap_parser_free(&p);
}

struct bad {
	const char *input;
	size_t len; /* 0: strlen */
	const char *error;
};

static void test_bad_input(void **state)
{
	(void)state;
	char deep[200] = "d1 X ";
	memset(deep + 5, '(', 40);
	memcpy(deep + 45, "\r\n", 3);
	char longline[300] = "l1 X ";
	memset(longline + 5, 'y', 250);
	memcpy(longline + 255, "\r\n", 3);
	static const struct bad cases[] = {
	    {"\r\n", 0, "empty line"},
	    {"a1\r\n", 0, "missing command"},
	    {"a*1 NOOP\r\n", 0, "invalid tag"},
	    {"a1 NO\0OP\r\n", 10, "NUL in a command"},
	    {"a1 LOGIN \"al\0ce\" x\r\n", 20, "NUL in a command"},
	    {"a1 LOGIN {5+}\r\nal\0ce x\r\n", 24, "NUL in a literal"},
	    {"a1 X \"ab\r\n", 0, "line break in a quoted string"},
	    {"a1 X \"a\\b\"\r\n", 0, "invalid escape in a quoted string"},
	    {"a1 X )\r\n", 0, "unexpected )"},
	    {"a1 X (a\r\n", 0, "unclosed list"},
	    {"a1 X \xc3\xa9t\xc3\xa9\r\n", 0, "8-bit octet in an atom"},
	    {"a1 X {5x}\r\n", 0, "invalid literal size"},
	    {"a1 X {}\r\n", 0, "invalid literal size"},
	    {"a1 X {5} y\r\n", 0, "literal size not at the end of the line"},
	    {"a1 X a\rb\r\n", 0, "CR without LF"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_parser *p = imap_parser_new(
		    &(struct imap_parser_limits){.line_max = 200, .literal_max = 100});
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].input);
		size_t used, at = 0;
		enum imap_parse r = IMAP_PARSE_MORE;
		while (at < len && r == IMAP_PARSE_MORE) {
			r = feed(p, cases[i].input + at, len - at, &used);
			at += used;
		}
		if (r != IMAP_PARSE_ERROR ||
		    strcmp(imap_parser_error(p), cases[i].error) != 0)
			fail_msg("case %zu: got %d '%s', want '%s'", i, r,
			         imap_parser_error(p), cases[i].error);
		/* Whatever was left of it is skipped: the next command reads. */
		while (at < len) {
			r = feed(p, cases[i].input + at, len - at, &used);
			assert_int_not_equal(r, IMAP_PARSE_DONE);
			at += used;
		}
		if (feed_str(p, "n1 NOOP\r\n") != IMAP_PARSE_DONE)
			fail_msg("case %zu: the next command was not read", i);
		assert_string_equal(imap_parser_tag(p), "n1");
		imap_parser_free(&p);
	}
	struct imap_parser *p = imap_parser_new(
	    &(struct imap_parser_limits){.line_max = 200, .literal_max = 100});
	size_t used;
	assert_int_equal(feed(p, deep, strlen(deep), &used), IMAP_PARSE_ERROR);
	assert_string_equal(imap_parser_error(p), "lists nested too deeply");
	assert_int_equal(feed(p, deep + used, strlen(deep) - used, &used),
	                 IMAP_PARSE_MORE);
	assert_int_equal(feed(p, longline, strlen(longline), &used), IMAP_PARSE_ERROR);
	assert_string_equal(imap_parser_error(p), "command line too long");
	assert_int_equal(feed(p, longline + used, strlen(longline) - used, &used),
	                 IMAP_PARSE_MORE);
	assert_int_equal(feed_str(p, "n2 NOOP\r\n"), IMAP_PARSE_DONE);
	/* A literal size past any count: the connection must go. */
	assert_int_equal(feed_str(p, "f1 X {99999999999999999999+}\r\n"),
	                 IMAP_PARSE_ERROR);
	assert_true(imap_parser_error_fatal(p));
	imap_parser_free(&p);
}

/* Many arguments, then a small command: the memory is given back. */
static void test_large_then_small(void **state)
{
	(void)state;
	struct imap_parser *p = imap_parser_new(
	    &(struct imap_parser_limits){.line_max = 1 << 20, .literal_max = 100});
	char *big = malloc(100000);
	memcpy(big, "s1 SEARCH", 9);
	size_t len = 9;
	for (int i = 0; i < 10000; i++, len += 3)
		memcpy(big + len, " OR", 3);
	memcpy(big + len, "\r\n", 3);
	assert_int_equal(feed_str(p, big), IMAP_PARSE_DONE);
	assert_int_equal(imap_parser_arg_count(p), 10000);
	/* More than IMAP_ARGS_MAX: refused, not grown without end. */
	memcpy(big, "s2 SEARCH", 9);
	len = 9;
	for (int i = 0; i < IMAP_ARGS_MAX / 2 + 10; i++, len += 4)
		memcpy(big + len, " (a)", 4);
	memcpy(big + len, "\r\n", 3);
	size_t used;
	assert_int_equal(feed(p, big, strlen(big), &used), IMAP_PARSE_ERROR);
	assert_string_equal(imap_parser_error(p), "too many arguments");
	assert_int_equal(feed(p, big + used, strlen(big) - used, &used), IMAP_PARSE_MORE);
	free(big);
	assert_int_equal(feed_str(p, "s3 NOOP\r\n"), IMAP_PARSE_DONE);
	imap_parser_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_command),
	    cmocka_unit_test(test_lists_and_fetch_items),
	    cmocka_unit_test(test_octet_at_a_time),
	    cmocka_unit_test(test_synchronising_literals),
	    cmocka_unit_test(test_literal_too_big),
	    cmocka_unit_test(test_streamed_literal),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_large_then_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
