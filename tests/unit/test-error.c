/*
 * test-error.c — error_fmt(): a result may be an argument of the next
 * call, as "migration %d: %s" with *error_r does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/error.h"

static void test_nested(void **state)
{
	(void)state;
	const char *inner = error_fmt("table %s already exists", "domains");
	const char *outer = error_fmt("migration %d: %s", 1, inner);
	assert_string_equal(outer, "migration 1: table domains already exists");
	assert_string_equal(inner, "table domains already exists");
	const char *again = error_fmt("%s; %s", outer, error_fmt("x"));
	assert_string_equal(again, "migration 1: table domains already exists; x");
}

static void test_long_is_cut(void **state)
{
	(void)state;
	char big[4000];
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = 'a';
	big[sizeof(big) - 1] = '\0';
	const char *e = error_fmt("%s", big);
	assert_int_equal(strlen(e), 1023);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_long_is_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
