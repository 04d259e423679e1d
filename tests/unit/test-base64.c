/*
 * test-base64.c — strict base64: RFC 4648 test vectors both ways, the URL
 * alphabet, and every kind of malformed input SASL clients send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/base64.h"

static void test_vectors(void **state)
{
	(void)state;
	/* RFC 4648 10 */
	static const char *const vectors[][2] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char text[32];
		size_t n = base64_encode(BASE64_STANDARD, vectors[i][0],
		                         strlen(vectors[i][0]), text, sizeof(text));
		assert_int_equal(n, strlen(vectors[i][1]));
		assert_string_equal(text, vectors[i][1]);
		assert_int_equal(base64_encoded_length(strlen(vectors[i][0])), n);
		unsigned char out[32];
		const char *error = NULL;
		long d =
		    base64_decode(BASE64_STANDARD, text, n, out, sizeof(out), &error);
		assert_int_equal(d, (long)strlen(vectors[i][0]));
		assert_memory_equal(out, vectors[i][0], (size_t)d);
	}
}

static void test_url_alphabet(void **state)
{
	(void)state;
	const unsigned char raw[] = {0xfb, 0xff, 0xbf};
	char text[16];
	base64_encode(BASE64_URL, raw, sizeof(raw), text, sizeof(text));
	assert_string_equal(text, "-_-_");
	base64_encode(BASE64_URL, "f", 1, text, sizeof(text));
	assert_string_equal(text, "Zg"); /* no padding in JWTs */
	unsigned char out[8];
	const char *error;
	assert_int_equal(base64_decode(BASE64_URL, "Zg", 2, out, sizeof(out), &error), 1);
	assert_int_equal(base64_decode(BASE64_URL, "Zg==", 4, out, sizeof(out), &error),
	                 -1);
	assert_int_equal(base64_decode(BASE64_URL, "+/+/", 4, out, sizeof(out), &error),
	                 -1);
	assert_int_equal(
	    base64_decode(BASE64_STANDARD, "-_-_", 4, out, sizeof(out), &error), -1);
}

static void test_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "Z",        /* 4n+1 */
	    "Zm9vY",    /* 4n+1 */
	    "Zm9",      /* 4n+3 without padding */
	    "Zm9vYmE",  /* 4n+3 */
	    "Zg=",      /* padding short */
	    "Zg",       /* no padding */
	    "Z===",     /* too much padding */
	    "====",     /* only padding */
	    "Zg==Zg==", /* padding in the middle */
	    "Zm 9v",    /* space */
	    "Zm9v\r\n", /* line break */
	    "Zm9v!A==", /* outside the alphabet */
	    "Zh==",     /* non-zero pad bits: not canonical */
	    "Zm9=",     /* non-zero pad bits */
	    "Zm8\x80",  /* 8-bit */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char out[32];
		const char *error = NULL;
		long n = base64_decode(BASE64_STANDARD, bad[i], strlen(bad[i]), out,
		                       sizeof(out), &error);
		if (n != -1)
			fail_msg("'%s' decoded to %ld octets", bad[i], n);
		assert_non_null(error);
	}
	/* A NUL inside the text is just another invalid character. */
	unsigned char out[8];
	const char *error;
	assert_int_equal(
	    base64_decode(BASE64_STANDARD, "Zm\0v", 4, out, sizeof(out), &error), -1);
}

static void test_bounds(void **state)
{
	(void)state;
	unsigned char out[3];
	const char *error;
	/* Output space is checked before anything is written. */
	assert_int_equal(base64_decode(BASE64_STANDARD, "Zm9vYg==", 8, out, 3, &error),
	                 -1);
	assert_int_equal(base64_decode(BASE64_STANDARD, "Zm9v", 4, out, 3, &error), 3);
	assert_int_equal(base64_decoded_max(8), 6);
	char small[5];
	size_t n = base64_encode(BASE64_STANDARD, "foobar", 6, small, sizeof(small));
	assert_int_equal(n, 4); /* truncated, still terminated */
	assert_string_equal(small, "Zm9v");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_url_alphabet),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
