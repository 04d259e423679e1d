/*
 * test-imap_fetch.c — FETCH data items (proto/imap_fetch.h) from command
 * lines through the IMAP parser, as clients send them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/imap_fetch.h"

static struct imap_parser *parser;

/* The items argument of "t FETCH 1 <items>". */
static const struct imap_arg *items_of(const char *items)
{
	char line[2048];
	snprintf(line, sizeof(line), "t FETCH 1:* %s\r\n", items);
	size_t used;
	if (parser == NULL)
		parser = imap_parser_new(
		    &(struct imap_parser_limits){.line_max = 8192, .literal_max = 1024});
	if (imap_parser_feed(parser, line, strlen(line), &used) != IMAP_PARSE_DONE)
		fail_msg("'%s' did not parse: %s", line, imap_parser_error(parser));
	return imap_parser_args(parser)->next;
}

static void test_items(void **state)
{
	(void)state;
	struct imap_fetch f;
	const char *error = NULL;
	assert_int_equal(
	    imap_fetch_parse(items_of("(UID FLAGS BODY.PEEK[HEADER.FIELDS (From To "
	                              "\"X-Spam\")]<0.100> BODY[1.2.MIME] "
	                              "RFC822.SIZE BODYSTRUCTURE MODSEQ) "
	                              "(CHANGEDSINCE 12345)"),
	                     &f, &error),
	    0);
	assert_int_equal(f.count, 7);
	assert_int_equal(f.items[0].type, IMAP_FETCH_UID);
	const struct imap_fetch_item *h = &f.items[2];
	assert_int_equal(h->type, IMAP_FETCH_SECTION);
	assert_true(h->peek);
	assert_int_equal(h->text, IMAP_SECTION_HEADER_FIELDS);
	assert_int_equal(h->field_count, 3);
	assert_string_equal(h->fields[2], "X-Spam");
	assert_true(h->partial);
	assert_int_equal(h->offset, 0);
	assert_int_equal(h->length, 100);
	const struct imap_fetch_item *mime = &f.items[3];
	assert_int_equal(mime->part_count, 2);
	assert_int_equal(mime->part[1], 2);
	assert_int_equal(mime->text, IMAP_SECTION_MIME);
	assert_false(mime->peek);
	assert_true(f.sets_seen);
	assert_int_equal(f.items[6].type, IMAP_FETCH_MODSEQ);
	assert_non_null(f.rest); /* the CONDSTORE modifiers follow */
	assert_int_equal(f.rest->type, IMAP_ARG_LIST);
	imap_fetch_free(&f);

	/* A single item spread over arguments, and the macros. */
	assert_int_equal(
	    imap_fetch_parse(items_of("BODY.PEEK[HEADER.FIELDS.NOT (Received)]"), &f,
	                     &error),
	    0);
	assert_int_equal(f.count, 1);
	assert_int_equal(f.items[0].text, IMAP_SECTION_HEADER_FIELDS_NOT);
	assert_false(f.sets_seen);
	assert_null(f.rest);
	imap_fetch_free(&f);
	assert_int_equal(imap_fetch_parse(items_of("full"), &f, &error), 0);
	assert_int_equal(f.count, 5);
	assert_int_equal(f.items[4].type, IMAP_FETCH_BODY);
	imap_fetch_free(&f);
	assert_int_equal(
	    imap_fetch_parse(items_of("(RFC822.HEADER RFC822 BINARY.PEEK[1]<5.10> "
	                              "BINARY.SIZE[2] BODY[])"),
	                     &f, &error),
	    0);
	assert_string_equal(f.items[0].name, "RFC822.HEADER");
	assert_int_equal(f.items[0].text, IMAP_SECTION_HEADER);
	assert_true(f.items[0].peek);
	assert_false(f.items[1].peek);
	assert_int_equal(f.items[2].type, IMAP_FETCH_BINARY);
	assert_int_equal(f.items[2].offset, 5);
	assert_int_equal(f.items[3].type, IMAP_FETCH_BINARY_SIZE);
	assert_int_equal(f.items[4].part_count, 0);
	assert_int_equal(f.items[4].text, IMAP_SECTION_ALL);
	imap_fetch_free(&f);
}

static void test_bad_items(void **state)
{
	(void)state;
	const char *bad[][2] = {
	    {"()", "FETCH without items"},
	    {"(FROB)", "unknown FETCH item"},
	    {"(BODY[HEADER.FIELDS])", "without its list"},
	    {"(BODY[HEADER.FIELDS ()])", "invalid section"},
	    {"(BODY[0])", "invalid section"},
	    {"(BODY[1.])", "invalid section"},
	    {"(BODY[MIME])", "invalid section"},
	    {"(BODY[TEXTS])", "invalid section"},
	    {"(BODY[]<5>)", "invalid partial"},
	    {"(BODY[]<5.0>)", "invalid partial"},
	    {"(BODY[]<99999999999999999999.1>)", "invalid partial"},
	    {"(BODY[1.4294967296])", "invalid section part"},
	    {"(BINARY[HEADER])", "part number only"},
	    {"(BINARY.SIZE[1]<0.5>)", "no partial"},
	    {"(BODY[HEADER.FIELDS (From)])", ""}, /* fine: checks the list */
	    {"(\"FLAGS\")", "not an atom"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_fetch f;
		const char *error = NULL;
		int r = imap_fetch_parse(items_of(bad[i][0]), &f, &error);
		if (bad[i][1][0] == '\0') {
			assert_int_equal(r, 0);
		} else {
			if (r == 0)
				fail_msg("'%s' accepted", bad[i][0]);
			if (strstr(error, bad[i][1]) == NULL)
				fail_msg("'%s': got '%s'", bad[i][0], error);
		}
		imap_fetch_free(&f);
	}
	/* A section path as deep as MIME nests, and one deeper. */
	char deep[1024] = "(BODY[1";
	size_t len = strlen(deep);
	for (int i = 1; i < IMAP_SECTION_PARTS_MAX; i++, len += 2)
		memcpy(deep + len, ".1", 2);
	memcpy(deep + len, "])", 3);
	struct imap_fetch f;
	const char *error;
	assert_int_equal(imap_fetch_parse(items_of(deep), &f, &error), 0);
	assert_int_equal(f.items[0].part_count, IMAP_SECTION_PARTS_MAX);
	imap_fetch_free(&f);
	memcpy(deep + len, ".1])", 5);
	assert_int_equal(imap_fetch_parse(items_of(deep), &f, &error), -1);
	imap_fetch_free(&f);
}

static int teardown(void **state)
{
	(void)state;
	imap_parser_free(&parser);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_items),
	    cmocka_unit_test(test_bad_items),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
