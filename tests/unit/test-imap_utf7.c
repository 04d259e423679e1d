/*
 * test-imap_utf7.c — modified UTF-7 both ways (RFC 3501 5.1.3) and the
 * mailbox names petrel refuses (proto/imap_utf7.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/imap_utf7.h"

static void round_trip(const char *utf7, const char *utf8)
{
	char out[IMAP_MAILBOX_NAME_MAX + 1];
	const char *error = NULL;
	if (imap_utf7_decode(utf7, strlen(utf7), out, &error) < 0)
		fail_msg("decode '%s': %s", utf7, error);
	assert_string_equal(out, utf8);
	if (imap_utf7_encode(utf8, strlen(utf8), out, sizeof(out), &error) < 0)
		fail_msg("encode '%s': %s", utf8, error);
	assert_string_equal(out, utf7);
}

static void test_round_trips(void **state)
{
	(void)state;
	round_trip("INBOX", "INBOX");
	round_trip("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
	           "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
	           "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	round_trip("Tom &- Jerry", "Tom & Jerry");
	round_trip("Entw&APw-rfe", "Entw\xc3\xbc"
	                           "rfe");
	round_trip("&2D3eAQ-", "\xf0\x9f\x98\x81"); /* U+1F601: a surrogate pair */
	round_trip("&AOkA6QDp-", "\xc3\xa9\xc3\xa9\xc3\xa9");
	round_trip("", "");
	/* An encoded run, then an "&" (found by fuzzing). */
	round_trip("&BX4-&-O-.", "\xd5\xbe&O-.");
}

static void test_bad_utf7(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		const char *error;
	} cases[] = {
	    {"&Jjo", "no - after the base64"},
	    {"&AGE-", "printable ASCII encoded"},
	    {"&AOk-&AOk-", "adjacent encoded runs"},
	    {"&2D0-", "lone surrogate"},
	    {"&3gE-", "lone surrogate"},
	    {"&AAA-", "NUL"},
	    {"&AAQ-", "control character"}, /* found by fuzzing: encoding refuses it */
	    {"&AH8-", "control character"},
	    {"&-&", "no - after the base64"},
	    {"&AOl-", "padding"},  /* non-zero padding bits */
	    {"&AOkA-", "padding"}, /* a run that is not whole units */
	    {"&A*k-", "outside base64"},
	    {"caf\xc3\xa9", "8-bit"},
	    {"a\tb", "control"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[IMAP_MAILBOX_NAME_MAX + 1];
		const char *error = NULL;
		if (imap_utf7_decode(cases[i].in, strlen(cases[i].in), out, &error) == 0)
			fail_msg("'%s' decoded", cases[i].in);
		if (strstr(error, cases[i].error) == NULL)
			fail_msg("'%s': got '%s', want '%s'", cases[i].in, error,
			         cases[i].error);
	}
	/* Too long, in either direction. */
	char long_name[2000];
	memset(long_name, 'a', sizeof(long_name));
	char out[IMAP_MAILBOX_NAME_MAX + 1];
	const char *error;
	assert_int_equal(imap_utf7_decode(long_name, sizeof(long_name), out, &error), -1);
	assert_int_equal(imap_utf7_encode(long_name, 100, out, 50, &error), -1);
	assert_int_equal(imap_utf7_encode("\xff", 1, out, sizeof(out), &error), -1);
	assert_string_equal(error, "invalid UTF-8 in mailbox name");
}

static void test_mailbox_names(void **state)
{
	(void)state;
	const char *good[] = {"INBOX",
	                      "Sent",
	                      "Archive.2026",
	                      "Entw\xc3\xbc"
	                      "rfe",
	                      "a b",
	                      "Tom & Jerry",
	                      "newsletters",
	                      "x.tmpfiles"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *error = NULL;
		if (imap_mailbox_name_check(good[i], '.', &error) < 0)
			fail_msg("'%s' refused: %s", good[i], error);
	}
	const char *bad[] = {"",    "..",    ".",           ".hidden",   "a..b",
	                     "a.",  "~root", "/etc/passwd", "a/b",       "../x",
	                     "tmp", "new",   "cur",         "INBOX.new", "a.cur.b",
	                     "x*",  "x%y",   "a\x01",       "a\x7f",     "caf\xc3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *error = NULL;
		if (imap_mailbox_name_check(bad[i], '.', &error) == 0)
			fail_msg("'%s' accepted", bad[i]);
	}
	/* With "/" as the separator, "/" separates; "." is a character. */
	const char *error;
	assert_int_equal(imap_mailbox_name_check("a/b.c", '/', &error), 0);
	assert_int_equal(imap_mailbox_name_check("a/../b", '/', &error), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_bad_utf7),
	    cmocka_unit_test(test_mailbox_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
