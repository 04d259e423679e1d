/*
 * test-imap_write.c — IMAP strings and ENVELOPE (proto/imap_write.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_write.h"

static char out[65536];
static size_t out_len;

static void collect(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	assert_true(out_len + len < sizeof(out));
	memcpy(out + out_len, data, len);
	out_len += len;
	out[out_len] = '\0';
}

static const struct imap_writer W = {collect, NULL, false};
static const struct imap_writer W8 = {collect, NULL, true};

static const char *nstring(const struct imap_writer *w, const char *s, size_t len)
{
	out_len = 0;
	out[0] = '\0';
	imap_write_nstring(w, s, len);
	return out;
}

static void test_strings(void **state)
{
	(void)state;
	assert_string_equal(nstring(&W, NULL, 0), "NIL");
	assert_string_equal(nstring(&W, "", 0), "\"\"");
	assert_string_equal(nstring(&W, "plain text", 10), "\"plain text\"");
	assert_string_equal(nstring(&W, "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	assert_string_equal(nstring(&W, "two\r\nlines", 10), "{10}\r\ntwo\r\nlines");
	assert_string_equal(nstring(&W, "caf\xc3\xa9", 5), "{5}\r\ncaf\xc3\xa9");
	assert_string_equal(nstring(&W8, "caf\xc3\xa9", 5), "\"caf\xc3\xa9\"");
	assert_string_equal(nstring(&W8, "bad\xff", 4), "{4}\r\nbad\xff");
	assert_string_equal(nstring(&W, "n\0ul", 4), "\"nul\"");
	assert_string_equal(nstring(&W, "n\0ul\r\n", 6), "{5}\r\nnul\r\n");
	char big[2000];
	memset(big, 'x', sizeof(big));
	assert_memory_equal(nstring(&W, big, sizeof(big)), "{2000}\r\nxxx", 11);
}

static const char *envelope(const char *header)
{
	out_len = 0;
	out[0] = '\0';
	imap_write_envelope(&W, header, strlen(header));
	return out;
}

static void test_envelope(void **state)
{
	(void)state;
	const char *h = "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
	                "From: Terry Gray <gray@cac.washington.edu>\r\n"
	                "Subject: IMAP4rev1 WG mtg summary\r\n"
	                " and minutes\r\n"
	                "To: imap@cac.washington.edu\r\n"
	                "cc: minutes@CNRI.Reston.VA.US,\r\n"
	                "\tJohn Klensin <KLENSIN@MIT.EDU>\r\n"
	                "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
	                "Subject: a second one is ignored\r\n";
	assert_string_equal(
	    envelope(h),
	    "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and "
	    "minutes\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry "
	    "Gray\" "
	    "NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" "
	    "\"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL "
	    "NIL "
	    "\"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" "
	    "\"MIT.EDU\")) "
	    "NIL NIL \"<B27397-0100000@cac.washington.edu>\")");
	/* groups, a broken address, an empty Reply-To (From's is used) */
	h = "From: a@b.test\r\nReply-To:\r\nTo: Team: x@y.test, broken;\r\n\r\n";
	assert_string_equal(
	    envelope(h),
	    "(NIL NIL ((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"a\" \"b.test\")) "
	    "((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"Team\" NIL)(NIL NIL \"x\" "
	    "\"y.test\")(NIL NIL \"broken\" \"MISSING_DOMAIN\")(NIL NIL NIL NIL)) "
	    "NIL NIL NIL NIL)");
	assert_string_equal(envelope(""), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_envelope),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
