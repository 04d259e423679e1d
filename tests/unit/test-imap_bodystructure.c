/*
 * test-imap_bodystructure.c — BODY and BODYSTRUCTURE from the MIME
 * structure (proto/imap_bodystructure.h), with nested messages read back
 * for their ENVELOPE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_bodystructure.h"

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

static size_t read_memory(void *ctx, uint64_t offset, char *buf, size_t len)
{
	const char *msg = ctx;
	size_t size = strlen(msg);
	if (offset >= size)
		return 0;
	if (len > size - offset)
		len = size - (size_t)offset;
	memcpy(buf, msg + offset, len);
	return len;
}

static const char *structure(const char *msg, bool extended)
{
	struct mime_parser *p = mime_parser_new();
	mime_parser_feed(p, msg, strlen(msg));
	mime_parser_finish(p);
	const struct imap_writer w = {collect, NULL, false};
	out_len = 0;
	out[0] = '\0';
	imap_write_bodystructure(&w, p, extended, read_memory, (void *)msg);
	mime_parser_free(&p);
	return out;
}

static void test_single(void **state)
{
	(void)state;
	const char *msg = "Subject: x\r\n\r\nhello\r\nworld\r\n";
	assert_string_equal(
	    structure(msg, false),
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2)");
	msg = "Content-Type: text/html; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: "
	      "base64\r\nContent-ID: <x@y>\r\nContent-Language: en, de\r\n"
	      "Content-Disposition: inline; filename=a.html\r\n\r\nPGI+\r\n";
	assert_string_equal(
	    structure(msg, true),
	    "(\"text\" \"html\" (\"charset\" \"UTF-8\") \"<x@y>\" NIL \"base64\" 6 1 "
	    "NIL (\"inline\" (\"filename\" \"a.html\")) (\"en\" \"de\") NIL)");
}

static const char NESTED[] = "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
                             "\r\n"
                             "--outer\r\n"
                             "Content-Type: multipart/alternative; boundary=inner\r\n"
                             "\r\n"
                             "--inner\r\n"
                             "Content-Type: text/plain\r\n"
                             "\r\n"
                             "plain text\r\n"
                             "--inner\r\n"
                             "Content-Type: text/html\r\n"
                             "\r\n"
                             "<p>html</p>\r\n"
                             "--inner--\r\n"
                             "--outer\r\n"
                             "Content-Type: message/rfc822\r\n"
                             "\r\n"
                             "From: Bob <bob@example.net>\r\n"
                             "Subject: inside\r\n"
                             "\r\n"
                             "inner body\r\n"
                             "--outer--\r\n";

static void test_nested(void **state)
{
	(void)state;
	assert_string_equal(structure(NESTED, false),
	                    "(((\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1)(\"text\" "
	                    "\"html\" NIL NIL NIL "
	                    "\"7bit\" 11 1) \"alternative\")(\"message\" \"rfc822\" NIL "
	                    "NIL NIL \"7bit\" 58 "
	                    "(NIL \"inside\" ((\"Bob\" NIL \"bob\" \"example.net\")) "
	                    "((\"Bob\" NIL \"bob\" "
	                    "\"example.net\")) ((\"Bob\" NIL \"bob\" \"example.net\")) "
	                    "NIL NIL NIL NIL NIL) "
	                    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	                    "\"7bit\" 10 1) 4) \"mixed\")");
	const char *ext = structure(NESTED, true);
	assert_non_null(strstr(ext, " \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)"));
	assert_non_null(
	    strstr(ext, " \"alternative\" (\"boundary\" \"inner\") NIL NIL NIL)"));
}

/* A multipart with no parts found is shown as plain text. */
static void test_odd(void **state)
{
	(void)state;
	const char *msg =
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\nno parts here\r\n";
	assert_string_equal(
	    structure(msg, false),
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 1)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single),
	    cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_odd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
