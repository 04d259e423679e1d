/*
 * test-dovecot_uidlist.c — Dovecot's dovecot-uidlist lines, versions 1
 * and 3 (proto/dovecot_uidlist.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/dovecot_uidlist.h"

static void test_version_3(void **state)
{
	(void)state;
	struct dovecot_uidlist_header h;
	const char *error;
	const char *line = "3 V1276528483 N4 G0f6b3a2f5a0c234c0e1f0000d2a9a2c4";
	assert_int_equal(dovecot_uidlist_header(line, strlen(line), &h, &error), 0);
	assert_int_equal(h.version, 3);
	assert_int_equal(h.uidvalidity, 1276528483u);
	assert_int_equal(h.next_uid, 4);
	struct dovecot_uidlist_entry e;
	line = "1 :1276528487.M364837P9451.kurkku,S=1355,W=1394:2,S";
	assert_int_equal(dovecot_uidlist_entry(line, strlen(line), 3, &e, &error), 0);
	assert_int_equal(e.uid, 1);
	assert_int_equal(e.name_len,
	                 strlen("1276528487.M364837P9451.kurkku,S=1355,W=1394"));
	assert_memory_equal(e.name, "1276528487.M", 12);
	line = "2 W1402 G0f6b :1276528488.M1P2.kurkku";
	assert_int_equal(dovecot_uidlist_entry(line, strlen(line), 3, &e, &error), 0);
	assert_int_equal(e.uid, 2);
	assert_true(e.has_vsize);
	assert_int_equal(e.vsize, 1402);
	assert_int_equal(e.name_len, strlen("1276528488.M1P2.kurkku"));
}

static void test_version_1(void **state)
{
	(void)state;
	struct dovecot_uidlist_header h;
	const char *error;
	assert_int_equal(dovecot_uidlist_header("1 1276528483 4", 14, &h, &error), 0);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.next_uid, 4);
	struct dovecot_uidlist_entry e;
	const char *line = "3 1276528490.M1P2.host:2,RS";
	assert_int_equal(dovecot_uidlist_entry(line, strlen(line), 1, &e, &error), 0);
	assert_int_equal(e.uid, 3);
	assert_int_equal(e.name_len, strlen("1276528490.M1P2.host"));
}

static void test_bad_lines(void **state)
{
	(void)state;
	struct dovecot_uidlist_header h;
	struct dovecot_uidlist_entry e;
	const char *error;
	const char *bad_headers[] = {"",     "2 V1 N1",           "3",    "3 V0 N1",
	                             "3 V1", "3 V99999999999 N1", "1 12", "3 Vx N2"};
	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++)
		if (dovecot_uidlist_header(bad_headers[i], strlen(bad_headers[i]), &h,
		                           &error) == 0)
			fail_msg("header '%s' accepted", bad_headers[i]);
	const char *bad_entries[] = {"",
	                             "0 :x",
	                             "x :y",
	                             "1",
	                             "1 W5 nofilename",
	                             "1 :../../etc/passwd",
	                             "1 :.hidden",
	                             "4294967296 :x",
	                             "1 :a b"};
	for (size_t i = 0; i < sizeof(bad_entries) / sizeof(bad_entries[0]); i++)
		if (dovecot_uidlist_entry(bad_entries[i], strlen(bad_entries[i]), 3, &e,
		                          &error) == 0)
			fail_msg("entry '%s' accepted", bad_entries[i]);
}

static void test_keywords(void **state)
{
	(void)state;
	unsigned index;
	const char *name, *error;
	size_t len;
	assert_int_equal(dovecot_keywords_line("0 $Junk", 7, &index, &name, &len, &error),
	                 0);
	assert_int_equal(index, 0);
	assert_int_equal(len, 5);
	assert_memory_equal(name, "$Junk", 5);
	assert_int_equal(
	    dovecot_keywords_line("25 NonJunk", 10, &index, &name, &len, &error), 0);
	assert_int_equal(index, 25);
	const char *bad[] = {"26 X", "0",      "0 ",       "0 a b",
	                     "0 (x", "x Junk", "0 \\Seen", "0 a*"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dovecot_keywords_line(bad[i], strlen(bad[i]), &index, &name, &len,
		                          &error) == 0)
			fail_msg("'%s' accepted", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version_3),
	    cmocka_unit_test(test_version_1),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_keywords),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
