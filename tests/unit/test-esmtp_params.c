/*
 * test-esmtp_params.c — ESMTP parameters and xtext.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/esmtp_params.h"

static void test_params(void **state)
{
	(void)state;
	struct esmtp_params p;
	const char *error;
	const char *in = " SIZE=1000 BODY=8BITMIME SMTPUTF8";
	assert_int_equal(esmtp_params_parse(in, strlen(in), &p, &error), 0);
	assert_int_equal(p.count, 3);
	const struct esmtp_param *size = esmtp_params_find(&p, "size");
	assert_non_null(size);
	assert_int_equal(size->value_len, 4);
	assert_memory_equal(size->value, "1000", 4);
	assert_null(esmtp_params_find(&p, "SMTPUTF8")->value);
	assert_null(esmtp_params_find(&p, "RET"));
	assert_int_equal(esmtp_params_parse("", 0, &p, &error), 0);
	assert_int_equal(p.count, 0);

	static const char *const bad[] = {"SIZE=",         "=5",
	                                  "SI_ZE=1",       "A=b=c",
	                                  "A=\x01",        "A=\xff",
	                                  "-X=1",          "BODY=7BIT BODY=8BITMIME",
	                                  "SIZE=1 size=2", "SMTPUTF8 SMTPUTF8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(esmtp_params_parse(bad[i], strlen(bad[i]), &p, &error),
		                 -1);
	char many[200] = "";
	for (int i = 0; i < ESMTP_PARAMS_MAX + 1; i++)
		snprintf(many + 5 * i, 6, " A%c=1", 'a' + i);
	assert_int_equal(esmtp_params_parse(many, strlen(many), &p, &error), -1);
	assert_string_equal(error, "too many parameters");
	many[5 * ESMTP_PARAMS_MAX] = '\0';
	assert_int_equal(esmtp_params_parse(many, strlen(many), &p, &error), 0);
	assert_int_equal(p.count, ESMTP_PARAMS_MAX);
}

static void test_xtext(void **state)
{
	(void)state;
	char out[64];
	const char *error;
	assert_int_equal(xtext_decode("a+2Bb", 5, out, sizeof(out), &error), 3);
	assert_string_equal(out, "a+b");
	assert_int_equal(xtext_decode("rfc822", 6, out, sizeof(out), &error), 6);
	/* CR, LF and NUL can never come out of xtext. */
	static const char *const bad[] = {"x+0D+0Afoo", "a+0A+0Db@c", "a+00", "a+2", "a+",
	                                  "a+zz",       "a+0d",       "a+20", "a+7F"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    xtext_decode(bad[i], strlen(bad[i]), out, sizeof(out), &error), -1);
	assert_int_equal(xtext_decode("abcdef", 6, out, 4, &error), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_xtext),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
