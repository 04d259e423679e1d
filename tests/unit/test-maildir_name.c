/*
 * test-maildir_name.c — Maildir file names (proto/maildir_name.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/maildir_name.h"

static void test_names(void **state)
{
	(void)state;
	struct maildir_name n;
	const char *error;
	const char *name = "1276528487.M364837P9451.kurkku,S=1355,W=1394:2,RSac";
	assert_int_equal(maildir_name_parse(name, strlen(name), &n, &error), 0);
	assert_int_equal(n.base_len,
	                 strlen("1276528487.M364837P9451.kurkku,S=1355,W=1394"));
	assert_true(n.has_size && n.has_vsize);
	assert_int_equal(n.size, 1355);
	assert_int_equal(n.vsize, 1394);
	assert_true(n.has_info);
	assert_int_equal(n.upper, MAILDIR_REPLIED | MAILDIR_SEEN);
	assert_int_equal(n.keywords, (1u << 0) | (1u << 2));
	/* flags written back in ASCII order, one each */
	n.upper |= MAILDIR_FLAGGED | MAILDIR_DRAFT;
	char out[MAILDIR_NAME_MAX + 1];
	assert_int_equal(maildir_name_format(&n, out, sizeof(out)),
	                 strlen("1276528487.M364837P9451.kurkku,S=1355,W=1394:2,DFRSac"));
	assert_string_equal(out, "1276528487.M364837P9451.kurkku,S=1355,W=1394:2,DFRSac");
	assert_int_equal(maildir_name_format(&n, out, 10), 0); /* does not fit */
	/* new/ names have no info; petrel's own carry ,S= only */
	name = "1795465389.M1P2Q3.mx,S=42";
	assert_int_equal(maildir_name_parse(name, strlen(name), &n, &error), 0);
	assert_false(n.has_info);
	assert_true(n.has_size);
	assert_false(n.has_vsize);
	assert_int_equal(maildir_name_format(&n, out, sizeof(out)), strlen(name) + 3);
	assert_string_equal(out, "1795465389.M1P2Q3.mx,S=42:2,");
	/* a ,S= that is no number is not a size */
	name = "123.host,S=12x:2,";
	assert_int_equal(maildir_name_parse(name, strlen(name), &n, &error), 0);
	assert_false(n.has_size);
}

static void test_bad_names(void **state)
{
	(void)state;
	const char *bad[] = {"", ".hidden", "a/b", ":2,S", "x:2,S1", "x:2,S-"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct maildir_name n;
		const char *error = NULL;
		if (maildir_name_parse(bad[i], strlen(bad[i]), &n, &error) == 0)
			fail_msg("'%s' accepted", bad[i]);
	}
	struct maildir_name n;
	const char *error;
	assert_int_equal(maildir_name_parse("a\0b", 3, &n, &error), -1);
	char long_name[300];
	memset(long_name, 'x', sizeof(long_name));
	assert_int_equal(maildir_name_parse(long_name, sizeof(long_name), &n, &error),
	                 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_bad_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
