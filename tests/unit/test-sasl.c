/*
 * test-sasl.c — SASL message syntax: PLAIN (RFC 4616), SCRAM messages
 * (RFC 5802 7, the RFC 7677 example), OAUTHBEARER (RFC 7628 example),
 * XOAUTH2 and CRAM-MD5 (RFC 2195 example), good and bad.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/sasl.h"

#define TEXT(t, s) (t.len == strlen(s) && memcmp(t.data, s, t.len) == 0)

static void test_plain(void **state)
{
	(void)state;
	struct sasl_plain p;
	const char *error;
	static const char good[] = "\0tim\0tanstaaftanstaaf";
	assert_int_equal(sasl_plain_parse(good, sizeof(good) - 1, &p, &error), 0);
	assert_int_equal(p.authzid.len, 0);
	assert_true(TEXT(p.authcid, "tim"));
	assert_true(TEXT(p.password, "tanstaaftanstaaf"));
	static const char with_authzid[] = "Ursel\0Kurt\0xipj3plmq";
	assert_int_equal(
	    sasl_plain_parse(with_authzid, sizeof(with_authzid) - 1, &p, &error), 0);
	assert_true(TEXT(p.authzid, "Ursel"));
	static const struct {
		const char *msg;
		size_t len;
	} bad[] = {
	    {"tim\0pw", 6},                 /* one NUL */
	    {"timpw", 5},                   /* none */
	    {"\0\0pw", 4},                  /* empty authcid */
	    {"\0tim\0", 5},                 /* empty password */
	    {"\0tim\0p\0w", 8},             /* NUL inside the password */
	    {"\0t\xffim\0pw", 8},           /* not UTF-8 */
	    {"\0tim\0\xc3\x28", 7},         /* not UTF-8 */
	    {"a\xed\xa0\x80\0tim\0pw", 10}, /* a surrogate in the authzid */
	    {"", 0},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sasl_plain_parse(bad[i].msg, bad[i].len, &p, &error),
		                 -1);
}

static void test_scram(void **state)
{
	(void)state;
	struct scram_client_first f;
	const char *error;
	const char *first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
	assert_int_equal(scram_client_first_parse(first, strlen(first), &f, &error), 0);
	assert_string_equal(f.username, "user");
	assert_string_equal(f.authzid, "");
	assert_true(TEXT(f.nonce, "rOprNGfwEbeRWgbNEkqO"));
	assert_true(TEXT(f.bare, "n=user,r=rOprNGfwEbeRWgbNEkqO"));
	assert_true(TEXT(f.gs2_header, "n,,"));
	const char *escaped = "y,a=b=2Cc=3Dd,n=e=3Df=2C,r=x";
	assert_int_equal(scram_client_first_parse(escaped, strlen(escaped), &f, &error),
	                 0);
	assert_string_equal(f.authzid, "b,c=d");
	assert_string_equal(f.username, "e=f,");
	static const char *const bad_first[] = {
	    "p=tls-unique,,n=user,r=abc", /* channel binding: not offered */
	    "n,,n=user",                  /* no nonce */
	    "n,,r=abc,n=user",            /* order */
	    "n,,n=,r=abc",                /* empty name */
	    "n,,n=us=2Xer,r=abc",         /* bad escape */
	    "n,,n=user=,r=abc",           /* cut escape */
	    "n,,n=user,r=a,b",            /* stray attribute */
	    "n,,n=user,r=abc,m=ext",      /* mandatory extension */
	    "n,x=y,n=user,r=abc",         /* not an authzid */
	    "n,,n=user,r=",               /* empty nonce */
	    "x,,n=user,r=abc",
	    "n",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad_first) / sizeof(bad_first[0]); i++)
		assert_int_equal(scram_client_first_parse(
		                     bad_first[i], strlen(bad_first[i]), &f, &error),
		                 -1);
	assert_int_equal(scram_client_first_parse("n,,n=u\0,r=abc", 13, &f, &error), -1);

	struct scram_client_final c;
	const char *final = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	                    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	assert_int_equal(scram_client_final_parse(final, strlen(final), &c, &error), 0);
	assert_true(TEXT(c.channel_binding, "biws"));
	assert_true(TEXT(c.proof, "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
	assert_true(TEXT(c.without_proof,
	                 "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"));
	static const char *const bad_final[] = {
	    "r=abc,c=biws,p=xyz",
	    "c=biws,p=xyz",
	    "c=biws,r=abc",
	    "c=biws,r=abc,p=",
	    "c=biws,r=abc,p=xyz,x=1",
	    "c=biws,r=abc,m=1,p=xyz",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad_final) / sizeof(bad_final[0]); i++)
		assert_int_equal(scram_client_final_parse(
		                     bad_final[i], strlen(bad_final[i]), &c, &error),
		                 -1);
}

static void test_bearer(void **state)
{
	(void)state;
	struct sasl_bearer b;
	const char *error;
	/* RFC 7628 4.1 */
	static const char oauth[] =
	    "n,a=user@example.com,\x01host=server.example.com\x01"
	    "port=143\x01"
	    "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01";
	assert_int_equal(sasl_oauthbearer_parse(oauth, sizeof(oauth) - 1, &b, &error), 0);
	assert_true(TEXT(b.user, "user@example.com"));
	assert_true(TEXT(b.token, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="));
	static const char no_authzid[] = "n,,\x01"
	                                 "auth=bearer tok\x01\x01";
	assert_int_equal(
	    sasl_oauthbearer_parse(no_authzid, sizeof(no_authzid) - 1, &b, &error), 0);
	assert_int_equal(b.user.len, 0);
	static const char xo[] = "user=someuser@example.com\x01"
	                         "auth=Bearer ya29.vF9dft4qmTc2\x01\x01";
	assert_int_equal(sasl_xoauth2_parse(xo, sizeof(xo) - 1, &b, &error), 0);
	assert_true(TEXT(b.user, "someuser@example.com"));
	assert_true(TEXT(b.token, "ya29.vF9dft4qmTc2"));
	static const char *const bad[] = {
	    "n,a=u,\x01"
	    "auth=Bearer tok\x01", /* one terminator */
	    "n,a=u,\x01"
	    "auth=Basic tok\x01\x01", /* not Bearer */
	    "n,a=u,\x01"
	    "host=x\x01\x01",                /* no auth */
	    "n,a=u,auth=Bearer tok\x01\x01", /* no separator after the header */
	    "n,a=u,\x01"
	    "auth=Bearer t k\x01\x01", /* space in the token */
	    "p=x,,\x01"
	    "auth=Bearer tok\x01\x01",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    sasl_oauthbearer_parse(bad[i], strlen(bad[i]), &b, &error), -1);
	static const char no_user[] = "auth=Bearer tok\x01\x01";
	assert_int_equal(sasl_xoauth2_parse(no_user, sizeof(no_user) - 1, &b, &error),
	                 -1);
}

static void test_cram_md5(void **state)
{
	(void)state;
	struct sasl_cram c;
	const char *error;
	const char *good = "tim b913a602c7eda7a495b4e6e7334d3890";
	assert_int_equal(sasl_cram_md5_parse(good, strlen(good), &c, &error), 0);
	assert_true(TEXT(c.user, "tim"));
	static const char *const bad[] = {
	    "tim",
	    " b913a602c7eda7a495b4e6e7334d3890",
	    "tim b913a602c7eda7a495b4e6e7334d389",
	    "tim b913a602c7eda7a495b4e6e7334d38900",
	    "tim b913a602c7eda7a495b4e6e7334d389g",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sasl_cram_md5_parse(bad[i], strlen(bad[i]), &c, &error),
		                 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_scram),
	    cmocka_unit_test(test_bearer),
	    cmocka_unit_test(test_cram_md5),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
