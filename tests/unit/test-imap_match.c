/*
 * test-imap_match.c — LIST patterns (proto/imap_match.h), and a pattern
 * built to make naive backtracking take forever.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_match.h"

static void test_patterns(void **state)
{
	(void)state;
	static const struct {
		const char *pattern, *name;
		bool match;
	} cases[] = {
	    {"*", "INBOX", true},
	    {"*", "Archive.2026.Q1", true},
	    {"%", "Archive", true},
	    {"%", "Archive.2026", false},
	    {"Archive.%", "Archive.2026", true},
	    {"Archive.%", "Archive.2026.Q1", false},
	    {"Archive.*", "Archive.2026.Q1", true},
	    {"Archive*", "Archive", true},
	    {"A%e", "Archive", true},
	    {"A%e", "Ar.chive", false},
	    {"A*e", "Ar.chive", true},
	    {"*.Q1", "Archive.2026.Q1", true},
	    {"%.Q1", "Archive.2026.Q1", false},
	    {"%.%.Q1", "Archive.2026.Q1", true},
	    {"inbox", "INBOX", true},
	    {"InBoX.%", "INBOX.Sent", true},
	    {"inbox.sent", "INBOX.Sent", false}, /* only INBOX itself ignores case */
	    {"Sent", "sent", false},
	    {"", "", true},
	    {"", "x", false},
	    {"%", "", true},
	    {"*%*%*", "a.b", true},
	    {"a%%b", "ab", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (imap_match(cases[i].pattern, cases[i].name, '.') != cases[i].match)
			fail_msg("'%s' ~ '%s': want %d", cases[i].pattern, cases[i].name,
			         cases[i].match);
}

/* "*a%a*a...b" against "aaaa...": exponential for naive recursion (it
 * would outlive meson's 30 s test deadline many times over); here a few
 * million steps. */
static void test_no_blowup(void **state)
{
	(void)state;
	char pattern[2001], name[4001];
	for (int i = 0; i < 1000; i++) {
		pattern[2 * i] = i % 2 ? '%' : '*';
		pattern[2 * i + 1] = 'a';
	}
	pattern[2000] = '\0';
	memset(name, 'a', 4000);
	name[4000] = '\0';
	pattern[1999] = 'b';
	assert_false(imap_match(pattern, name, '.'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_patterns),
	    cmocka_unit_test(test_no_blowup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
