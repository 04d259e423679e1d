/*
 * test-imap_seqset.c — IMAP sequence sets (proto/imap_seqset.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/imap_seqset.h"

static size_t parse(const char *text, struct imap_seq_range *out, size_t max)
{
	size_t count;
	const char *error;
	if (imap_seqset_parse(text, strlen(text), out, max, &count, &error) < 0)
		fail_msg("'%s': %s", text, error);
	return count;
}

static void test_parse_and_resolve(void **state)
{
	(void)state;
	struct imap_seq_range r[16];
	size_t n = parse("1:4,7,12:*", r, 16);
	assert_int_equal(n, 3);
	assert_int_equal(r[2].lo, 12);
	assert_int_equal(r[2].hi, IMAP_SEQ_STAR);
	n = imap_seqset_resolve(r, n, 20);
	assert_int_equal(n, 3);
	assert_int_equal(r[2].hi, 20);
	assert_true(imap_seqset_contains(r, n, 3));
	assert_false(imap_seqset_contains(r, n, 5));
	assert_true(imap_seqset_contains(r, n, 7));
	assert_true(imap_seqset_contains(r, n, 20));
	assert_false(imap_seqset_contains(r, n, 21));
	/* Reversed, overlapping and adjacent ranges merge. */
	n = parse("1:4294967295,*:1", r, 16);
	n = imap_seqset_resolve(r, n, 5);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].lo, 1);
	assert_int_equal(r[0].hi, 4294967295u);
	n = parse("9:7,3,4,5:6,4294967295", r, 16);
	n = imap_seqset_resolve(r, n, 10);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].lo, 3);
	assert_int_equal(r[0].hi, 9);
	assert_int_equal(r[1].lo, 4294967295u);
	/* "*" on an empty mailbox is nothing at all; "*:3" is 1:3. */
	n = parse("*", r, 16);
	assert_int_equal(imap_seqset_resolve(r, n, 0), 0);
	n = parse("*:3", r, 16);
	assert_int_equal(imap_seqset_resolve(r, n, 0), 1);
	assert_int_equal(r[0].lo, 1);
	assert_int_equal(r[0].hi, 3);
}

static void test_bad_sets(void **state)
{
	(void)state;
	const char *bad[] = {
	    "",   "0",  "0:5",  "1:0",  "01",    "4294967296", "99999999999999999999",
	    "1,", ",1", "1,,2", "1::2", "1:*:3", "a",          "1 2",
	    "-1", "**", "$"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_seq_range r[8];
		size_t count;
		const char *error = NULL;
		if (imap_seqset_parse(bad[i], strlen(bad[i]), r, 8, &count, &error) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(error);
	}
	struct imap_seq_range r[2];
	size_t count;
	const char *error;
	assert_int_equal(imap_seqset_parse("1,2,3", 5, r, 2, &count, &error), -1);
	assert_string_equal(error, "sequence set too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_resolve),
	    cmocka_unit_test(test_bad_sets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
