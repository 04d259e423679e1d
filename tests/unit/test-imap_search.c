/*
 * test-imap_search.c — SEARCH criteria (proto/imap_search.h), from
 * command lines through the IMAP parser, as a client sends them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_search.h"

static struct imap_parser *parser;

static const struct imap_arg *args_of(const char *line)
{
	size_t used;
	if (parser == NULL)
		parser = imap_parser_new(&(struct imap_parser_limits){
		    .line_max = 1 << 20, .literal_max = 1024});
	enum imap_parse r = imap_parser_feed(parser, line, strlen(line), &used);
	if (r != IMAP_PARSE_DONE)
		fail_msg("'%s' did not parse: %s", line, imap_parser_error(parser));
	return imap_parser_args(parser);
}

static void test_keys(void **state)
{
	(void)state;
	struct imap_search s;
	const char *error = NULL;
	assert_int_equal(
	    imap_search_parse(args_of("a SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "
	                              "\"Smith\" 2:4,*\r\n"),
	                      &s, &error),
	    0);
	const struct imap_search_key *k = s.root;
	assert_int_equal(k->type, IMAP_SEARCH_AND);
	k = k->child;
	assert_int_equal(k->type, IMAP_SEARCH_FLAG);
	assert_string_equal(k->str, "\\Flagged");
	k = k->next;
	assert_int_equal(k->type, IMAP_SEARCH_SINCE);
	assert_int_equal(k->day, 8797); /* 1994-02-01 */
	k = k->next;
	assert_int_equal(k->type, IMAP_SEARCH_NOT);
	assert_int_equal(k->child->type, IMAP_SEARCH_HEADER);
	assert_string_equal(k->child->field, "From");
	assert_string_equal(k->child->str, "Smith");
	k = k->next;
	assert_int_equal(k->type, IMAP_SEARCH_SEQSET);
	assert_string_equal(k->str, "2:4,*");
	assert_null(k->next);
	imap_search_free(&s);
}

static void test_tree(void **state)
{
	(void)state;
	struct imap_search s;
	const char *error = NULL;
	const struct imap_arg *a =
	    args_of("b SEARCH OR (UNSEEN LARGER 100) HEADER X-Spam yes "
	            "UID 1:* MODSEQ \"/flags/\\\\draft\" all 620162338 "
	            "KEYWORD $Junk $\r\n");
	assert_int_equal(imap_search_parse(a, &s, &error), 0);
	const struct imap_search_key *k = s.root->child;
	assert_int_equal(k->type, IMAP_SEARCH_OR);
	assert_int_equal(k->child->type, IMAP_SEARCH_AND);
	assert_int_equal(k->child->child->type, IMAP_SEARCH_UNFLAG);
	assert_int_equal(k->child->child->next->type, IMAP_SEARCH_LARGER);
	assert_int_equal(k->child->child->next->number, 100);
	assert_int_equal(k->child->next->type, IMAP_SEARCH_HEADER);
	assert_string_equal(k->child->next->field, "X-Spam");
	assert_string_equal(k->child->next->str, "yes");
	k = k->next;
	assert_int_equal(k->type, IMAP_SEARCH_UIDSET);
	k = k->next;
	assert_int_equal(k->type, IMAP_SEARCH_MODSEQ);
	assert_int_equal(k->number, 620162338);
	k = k->next;
	assert_int_equal(k->type, IMAP_SEARCH_FLAG);
	assert_string_equal(k->str, "$Junk");
	assert_int_equal(k->next->type, IMAP_SEARCH_SAVED);
	imap_search_free(&s);
}

static void test_dates(void **state)
{
	(void)state;
	int32_t day;
	assert_int_equal(imap_date_parse("1-Jan-1970", &day), 0);
	assert_int_equal(day, 0);
	assert_int_equal(imap_date_parse("29-feb-2024", &day), 0);
	assert_int_equal(day, 19782);
	assert_int_equal(imap_date_parse("03-Dec-2026", &day), 0);
	assert_int_equal(day, 20790);
	const char *bad[] = {
	    "",           "1-Feb-94",   "32-Jan-2026", "29-Feb-2025", "0-Jan-2026",
	    "1-Foo-2026", "1 Feb 2026", "1-Feb-2026x", "1-Febr-2026", "-1-Feb-2026"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (imap_date_parse(bad[i], &day) == 0)
			fail_msg("'%s' accepted", bad[i]);
}

static void test_bad_searches(void **state)
{
	(void)state;
	const char *bad[][2] = {
	    {"c SEARCH\r\n", "empty search"},
	    {"c SEARCH FROBNICATE\r\n", "unknown search key"},
	    {"c SEARCH FROM\r\n", "a search key without its argument"},
	    {"c SEARCH FROM (a)\r\n", "not a string"},
	    {"c SEARCH SINCE 1-Feb-94\r\n", "invalid date"},
	    {"c SEARCH LARGER -5\r\n", "number is missing or invalid"},
	    {"c SEARCH OR SEEN\r\n", "a search key is missing"},
	    {"c SEARCH UID 0:5\r\n", "invalid UID set"},
	    {"c SEARCH 1:4294967296\r\n", "invalid sequence set"},
	    {"c SEARCH ()\r\n", "empty search"},
	    {"c SEARCH \"SEEN\"\r\n", "not an atom"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_search s;
		const char *error = NULL;
		if (imap_search_parse(args_of(bad[i][0]), &s, &error) == 0)
			fail_msg("'%s' accepted", bad[i][0]);
		if (strstr(error, bad[i][1]) == NULL)
			fail_msg("'%s': got '%s', want '%s'", bad[i][0], error,
			         bad[i][1]);
		imap_search_free(&s);
	}
}

/* Thousands of nested ORs: refused at a fixed depth, not recursed into. */
static void test_nested_ors(void **state)
{
	(void)state;
	size_t n = 5000, len = 0;
	char *line = malloc(n * 3 + n * 5 + 64);
	memcpy(line, "d SEARCH", 8);
	len = 8;
	for (size_t i = 0; i < n; i++, len += 3)
		memcpy(line + len, " OR", 3);
	for (size_t i = 0; i <= n; i++, len += 5)
		memcpy(line + len, " SEEN", 5);
	memcpy(line + len, "\r\n", 3);
	struct imap_search s;
	const char *error = NULL;
	assert_int_equal(imap_search_parse(args_of(line), &s, &error), -1);
	assert_string_equal(error, "search nested too deeply");
	imap_search_free(&s);
	/* ... while as many flat keys are fine. */
	len = 8;
	for (size_t i = 0; i < n; i++, len += 5)
		memcpy(line + len, " SEEN", 5);
	memcpy(line + len, "\r\n", 3);
	assert_int_equal(imap_search_parse(args_of(line), &s, &error), 0);
	assert_int_equal(s.count, n + 1);
	imap_search_free(&s);
	free(line);
}

static int teardown(void **state)
{
	(void)state;
	imap_parser_free(&parser);
	return 0;
}

static void test_datetime(void **state)
{
	(void)state;
	int64_t t;
	assert_int_equal(imap_datetime_parse("17-Jul-1996 02:44:25 -0700", &t), 0);
	assert_int_equal(t, 837596665);
	assert_int_equal(imap_datetime_parse(" 1-Jan-1970 00:00:00 +0000", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(imap_datetime_parse("01-Jan-1970 01:00:00 +0100", &t), 0);
	assert_int_equal(t, 0);
	const char *bad[] = {"17-Jul-1996 02:44:25",
	                     "17-Jul-1996 24:00:00 +0000",
	                     "1-Jan-1970 00:00:00 +0000",
	                     "17-Jul-1996 02:44:25 *0700",
	                     "30-Feb-2000 00:00:00 +0000",
	                     "17-Jul-1996 02:44:25 +07a0",
	                     ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(imap_datetime_parse(bad[i], &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_datetime),     cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_tree),         cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_bad_searches), cmocka_unit_test(test_nested_ors),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
