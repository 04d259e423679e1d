/*
 * test-message.c — the message of the end-of-data stage: fields read
 * from a header section, found by name, added on top, changed, deleted,
 * and written back byte for byte where untouched; names and values that
 * would forge a field are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "message/message.h"
#include "message/message_source.h"

static const char section[] = "From: a@example.net\r\n"
                              "Subject: one\r\n two\r\n"
                              "X-Odd :  spaced\r\n"
                              "Received: first\r\n"
                              "Received: second\r\n";

static void test_read_and_write(void **state)
{
	(void)state;
	struct message m;
	message_init(&m, NULL, section, sizeof(section) - 1, 1000);
	assert_int_equal(m.field_count, 5);
	assert_string_equal(message_header(&m, "subject"), " one\r\n two");
	assert_string_equal(message_header(&m, "RECEIVED"), " first");
	assert_null(message_header(&m, "To"));
	struct buf out = BUF_INIT;
	message_write_header(&m, &out);
	assert_int_equal(out.len, sizeof(section) - 1);
	assert_memory_equal(out.data, section, out.len);
	buf_free(&out);
	message_clear(&m);
}

static void test_edit(void **state)
{
	(void)state;
	struct message m;
	const char *error;
	message_init(&m, NULL, section, sizeof(section) - 1, 1000);
	assert_int_equal(message_add_header(&m, "X-Spam", "no", &error), 0);
	assert_int_equal(
	    message_add_header(&m, "Authentication-Results", "mx; none", &error), 0);
	assert_int_equal(message_set_header(&m, "subject", "changed", &error), 1);
	assert_int_equal(message_set_header(&m, "To", "x", &error), 0);
	assert_int_equal(message_delete_header(&m, "Received"), 2);
	assert_string_equal(message_header(&m, "X-Spam"), " no");
	assert_null(message_header(&m, "Received"));
	struct buf out = BUF_INIT;
	message_write_header(&m, &out);
	const char want[] = "Authentication-Results: mx; none\r\n"
	                    "X-Spam: no\r\n"
	                    "From: a@example.net\r\n"
	                    "Subject: changed\r\n"
	                    "X-Odd :  spaced\r\n";
	assert_int_equal(out.len, sizeof(want) - 1);
	assert_memory_equal(out.data, want, out.len);
	buf_free(&out);

	/* Nothing can forge a second field or break the section. */
	assert_int_equal(message_add_header(&m, "X-A", "b\r\nX-Forged: yes", &error), -1);
	assert_int_equal(message_add_header(&m, "X-A", "b\nc", &error), -1);
	assert_int_equal(message_add_header(&m, "X A", "b", &error), -1);
	assert_int_equal(message_add_header(&m, "X:A", "b", &error), -1);
	assert_int_equal(message_add_header(&m, "", "b", &error), -1);
	assert_int_equal(message_set_header(&m, "From", "x\r\n\r\nbody", &error), -1);
	/* Folding is fine. */
	assert_int_equal(message_add_header(&m, "X-Long", "a\r\n\tb", &error), 0);
	message_clear(&m);
}

/* A message as the queue reads it: the header section in memory, then
 * the body; pieces across the seam, and the 8-bit scan (RFC 6152) that
 * decides what a 7-bit server may get. */
static void test_source(void **state)
{
	(void)state;
	struct message_source m = {.header = "H: 1\r\n",
	                           .header_len = 6,
	                           .fd = -1,
	                           .body = "\r\ncaf\xc3\xa9",
	                           .body_len = 7};
	char out[16];
	assert_int_equal(message_source_size(&m), 13);
	assert_int_equal(message_source_read(&m, 4, out, 5), 5);
	assert_memory_equal(out, "\r\n\r\nc", 5);
	assert_int_equal(message_source_read(&m, 13, out, 5), 0);
	bool has;
	assert_int_equal(message_source_has_8bit(&m, &has), 0);
	assert_true(has);
	m.body_len = 5; /* "\r\ncaf" */
	assert_int_equal(message_source_has_8bit(&m, &has), 0);
	assert_false(has);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_and_write),
	    cmocka_unit_test(test_edit),
	    cmocka_unit_test(test_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
