/*
 * test-buf.c — the buffer type and log quoting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"

static void test_append(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	assert_string_equal(buf_cstr(&b), "");
	buf_append(&b, "ab\0c", 4);
	assert_int_equal(b.len, 4);
	buf_appendf(&b, "%d-%s", 42, "x");
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "ab\0c42-x", 8);
	char big[1000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_appendf(&b, "%s", big);
	assert_int_equal(b.len, 8 + 999);
	assert_int_equal(b.data[b.len], '\0');
	buf_consume(&b, 8);
	assert_int_equal(b.len, 999);
	assert_int_equal(b.data[0], 'z');
	buf_truncate(&b, 3);
	assert_string_equal(b.data, "zzz");
	buf_free(&b);
	assert_null(b.data);
}

static void test_quoted(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	buf_append_quoted(&b, "plain", 5);
	assert_string_equal(b.data, "plain");
	buf_reset(&b);
	buf_append_quoted(&b, "two words\r\nlevel=panic \"q\"", 26);
	assert_string_equal(b.data, "\"two words\\x0d\\x0alevel=panic \\\"q\\\"\"");
	buf_reset(&b);
	buf_append_quoted(&b, "", 0);
	assert_string_equal(b.data, "\"\"");
	buf_free(&b);
	assert_string_equal(log_quote("a=b", 3), "\"a=b\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append),
	    cmocka_unit_test(test_quoted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
