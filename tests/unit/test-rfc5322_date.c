/*
 * test-rfc5322_date.c — Date: fields, current and obsolete forms, and
 * what is no date at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/rfc5322_date.h"

static void test_dates(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t t;
		int zone;
	} cases[] = {
	    {"Thu, 13 Feb 1969 23:32:54 -0330", -27723426, -12600},
	    {"Fri, 21 Nov 1997 09:55:06 -0600", 880127706, -21600},
	    {"1 Jan 1970 00:00:00 +0000", 0, 0},
	    {" Mon (Monday) , 2 Jan 2006 15:04 +0100 (CET)", 1136210640, 3600},
	    {"21 Nov 97 09:55:06 GMT", 880106106, 0},
	    {"21 Nov 49 09:55:06 EST", 2521119306, -18000},
	    {"Thu, 3 Dec 2026 15:27:44 +0000", 1796311664, 0},
	    {"29 Feb 2024 12:00:00 +0000", 1709208000, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int64_t t;
		int zone;
		assert_int_equal(
		    rfc5322_date_parse(cases[i].text, strlen(cases[i].text), &t, &zone),
		    0);
		assert_int_equal(t, cases[i].t);
		assert_int_equal(zone, cases[i].zone);
	}
}

static void test_not_dates(void **state)
{
	(void)state;
	const char *bad[] = {"",
	                     "yesterday",
	                     "32 Jan 2026 00:00:00 +0000",
	                     "29 Feb 2023 00:00:00 +0000",
	                     "1 Foo 2026 00:00:00 +0000",
	                     "1 Jan 2026 24:00:00 +0000",
	                     "1 Jan 2026 10:61 +0000",
	                     "1 Jan 2026 10:00 +07",
	                     "1 Jan",
	                     "Mon,"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int64_t t;
		int zone;
		assert_int_equal(rfc5322_date_parse(bad[i], strlen(bad[i]), &t, &zone),
		                 -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_not_dates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
