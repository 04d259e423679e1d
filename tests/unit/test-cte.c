/*
 * test-cte.c — base64 and quoted-printable decoding, whole and in pieces
 * of every size (the stream must not care where it is cut).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/cte.h"

static size_t decode_in_pieces(enum cte_kind kind, const char *in, size_t piece,
                               char *out)
{
	struct cte_decoder d;
	cte_decoder_init(&d, kind);
	size_t n = 0, len = strlen(in);
	for (size_t i = 0; i < len; i += piece) {
		size_t take = len - i < piece ? len - i : piece;
		n += cte_decode(&d, in + i, take, out + n);
	}
	n += cte_finish(&d, out + n);
	return n;
}

static void check(enum cte_kind kind, const char *in, const char *expect,
                  size_t expect_len)
{
	char out[512];
	for (size_t piece = 1; piece <= strlen(in) + 1; piece++) {
		size_t n = decode_in_pieces(kind, in, piece, out);
		assert_int_equal(n, expect_len);
		assert_memory_equal(out, expect, expect_len);
	}
}

static void test_base64(void **state)
{
	(void)state;
	check(CTE_BASE64, "aGVsbG8gd29ybGQ=\r\n", "hello world", 11);
	check(CTE_BASE64, "aGVs\r\nbG8g\r\n d29y bGQh", "hello world!", 12);
	check(CTE_BASE64, "AAEC/w==", "\0\1\2\377", 4);
	check(CTE_BASE64, "", "", 0);
	check(CTE_BASE64, "aGk=aGk=", "hi", 2); /* data after padding: not data */
}

static void test_quoted_printable(void **state)
{
	(void)state;
	check(CTE_QUOTED_PRINTABLE, "caf=C3=A9 =\r\nsoft=\nbreak",
	      "caf\xc3\xa9 softbreak", 15);
	check(CTE_QUOTED_PRINTABLE, "a=3Db=3db", "a=b=b", 5);
	check(CTE_QUOTED_PRINTABLE, "price =\r", "price =\r", 8);
	check(CTE_QUOTED_PRINTABLE, "50% =G1 off=", "50% =G1 off=", 12);
	check(CTE_QUOTED_PRINTABLE, "=\rx", "=\rx", 3);
}

static void test_kinds(void **state)
{
	(void)state;
	assert_int_equal(cte_kind_of(NULL, 0), CTE_IDENTITY);
	assert_int_equal(cte_kind_of(" Base64 ", 8), CTE_BASE64);
	assert_int_equal(cte_kind_of("QUOTED-PRINTABLE", 16), CTE_QUOTED_PRINTABLE);
	assert_int_equal(cte_kind_of("8bit", 4), CTE_IDENTITY);
	assert_int_equal(cte_kind_of("x-uuencode", 10), CTE_UNKNOWN);
	check(CTE_IDENTITY, "as it is", "as it is", 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_quoted_printable),
	    cmocka_unit_test(test_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
