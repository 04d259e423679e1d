/*
 * test-mime.c — MIME structure from a stream (proto/mime.h): offsets and
 * line counts of every part, nesting through multiparts and
 * message/rfc822, the same result however the message is cut into
 * pieces, and the limits a MIME bomb meets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mime.h"

static struct mime_parser *parse(const char *msg, size_t len, size_t piece)
{
	struct mime_parser *p = mime_parser_new();
	for (size_t at = 0; at < len; at += piece)
		mime_parser_feed(p, msg + at, len - at < piece ? len - at : piece);
	mime_parser_finish(p);
	return p;
}

static size_t offset_of(const char *msg, const char *text)
{
	const char *at = strstr(msg, text);
	assert_non_null(at);
	return (size_t)(at - msg);
}

static void test_single_part(void **state)
{
	(void)state;
	const char *msg =
	    "Subject: x\r\nContent-Type: Text/Plain;\r\n charset=\"utf-8\"\r\n\r\n"
	    "hello\r\nworld\r\n";
	struct mime_parser *p = parse(msg, strlen(msg), 4096);
	assert_int_equal(mime_part_count(p), 1);
	const struct mime_part *m = mime_part_get(p, 0);
	assert_string_equal(m->type, "text");
	assert_string_equal(m->subtype, "plain");
	assert_int_equal(m->header_offset, 0);
	assert_int_equal(m->body_offset, offset_of(msg, "hello"));
	assert_int_equal(m->end_offset, strlen(msg));
	assert_int_equal(m->body_lines, 2);
	assert_int_equal(m->header_lines, 4);
	size_t len;
	const char *ct = mime_part_value(p, m, MIME_CONTENT_TYPE, &len);
	assert_non_null(ct);
	assert_int_equal(len, strlen("Text/Plain; charset=\"utf-8\""));
	char name[32], value[64];
	size_t cursor = 0;
	assert_true(
	    mime_param_next(ct, len, &cursor, name, sizeof(name), value, sizeof(value)));
	assert_string_equal(name, "charset");
	assert_string_equal(value, "utf-8");
	assert_false(
	    mime_param_next(ct, len, &cursor, name, sizeof(name), value, sizeof(value)));
	assert_null(mime_part_value(p, m, MIME_CONTENT_ID, &len));
	mime_parser_free(&p);
}

static const char NESTED[] = "From: a@example.net\r\n"
                             "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
                             "\r\n"
                             "preamble\r\n"
                             "--outer\r\n"
                             "Content-Type: multipart/alternative; boundary=inner\r\n"
                             "\r\n"
                             "--inner\r\n"
                             "Content-Type: text/plain\r\n"
                             "\r\n"
                             "plain text\r\n"
                             "--inner\r\n"
                             "Content-Type: text/html\r\n"
                             "Content-Transfer-Encoding: quoted-printable\r\n"
                             "\r\n"
                             "<p>html</p>\r\n"
                             "two\r\n"
                             "--inner--\r\n"
                             "--outer\r\n"
                             "Content-Type: message/rfc822\r\n"
                             "Content-Disposition: attachment; filename=\"fwd.eml\"\r\n"
                             "\r\n"
                             "Subject: inside\r\n"
                             "\r\n"
                             "inner body\r\n"
                             "--outer\r\n"
                             "Content-Type: application/pdf; name=x.pdf\r\n"
                             "\r\n"
                             "--outer--\r\n"
                             "epilogue\r\n";

static void test_nested(void **state)
{
	(void)state;
	struct mime_parser *p = parse(NESTED, strlen(NESTED), 4096);
	assert_int_equal(mime_part_count(p), 7);
	const struct mime_part *root = mime_part_get(p, 0), *alt = mime_part_get(p, 1),
	                       *plain = mime_part_get(p, 2), *html = mime_part_get(p, 3),
	                       *rfc822 = mime_part_get(p, 4),
	                       *inner = mime_part_get(p, 5), *pdf = mime_part_get(p, 6);
	assert_int_equal(root->kind, MIME_MULTIPART);
	assert_int_equal(root->children, 3);
	assert_int_equal(alt->parent, 0);
	assert_int_equal(alt->kind, MIME_MULTIPART);
	assert_int_equal(alt->children, 2);
	assert_string_equal(plain->subtype, "plain");
	assert_int_equal(plain->parent, 1);
	assert_int_equal(plain->depth, 2);
	assert_int_equal(plain->body_offset, offset_of(NESTED, "plain text"));
	assert_int_equal(plain->end_offset, offset_of(NESTED, "plain text") + 10);
	assert_int_equal(plain->body_lines, 1);
	assert_string_equal(html->subtype, "html");
	assert_int_equal(html->end_offset, offset_of(NESTED, "two\r\n--inner--") + 3);
	assert_int_equal(html->body_lines, 2);
	assert_int_equal(rfc822->kind, MIME_MESSAGE);
	assert_int_equal(rfc822->children, 1);
	assert_int_equal(inner->parent, 4);
	assert_int_equal(inner->header_offset, offset_of(NESTED, "Subject: inside"));
	assert_int_equal(inner->body_offset, offset_of(NESTED, "inner body"));
	assert_int_equal(inner->end_offset, offset_of(NESTED, "inner body") + 10);
	assert_int_equal(inner->header_lines, 2);
	assert_int_equal(rfc822->body_lines, 3); /* the whole enclosed message */
	assert_string_equal(pdf->type, "application");
	assert_int_equal(pdf->body_offset, pdf->end_offset); /* empty */
	assert_int_equal(pdf->body_lines, 0);
	assert_int_equal(root->end_offset, strlen(NESTED));
	size_t len;
	const char *disp = mime_part_value(p, rfc822, MIME_CONTENT_DISPOSITION, &len);
	assert_int_equal(len, strlen("attachment; filename=\"fwd.eml\""));
	assert_memory_equal(disp, "attachment", 10);
	assert_false(mime_parser_truncated(p));
	mime_parser_free(&p);
}

static void assert_same(const struct mime_parser *a, const struct mime_parser *b)
{
	assert_int_equal(mime_part_count(a), mime_part_count(b));
	for (size_t i = 0; i < mime_part_count(a); i++) {
		const struct mime_part *x = mime_part_get(a, i), *y = mime_part_get(b, i);
		assert_int_equal(x->parent, y->parent);
		assert_int_equal(x->kind, y->kind);
		assert_string_equal(x->type, y->type);
		assert_string_equal(x->subtype, y->subtype);
		assert_int_equal(x->header_offset, y->header_offset);
		assert_int_equal(x->body_offset, y->body_offset);
		assert_int_equal(x->end_offset, y->end_offset);
		assert_int_equal(x->header_lines, y->header_lines);
		assert_int_equal(x->body_lines, y->body_lines);
	}
}

static void test_any_pieces_same_result(void **state)
{
	(void)state;
	struct mime_parser *whole = parse(NESTED, strlen(NESTED), 100000);
	for (size_t piece = 1; piece < 40; piece++) {
		struct mime_parser *p = parse(NESTED, strlen(NESTED), piece);
		assert_same(whole, p);
		mime_parser_free(&p);
	}
	mime_parser_free(&whole);
}

static void test_lf_only_and_unclosed(void **state)
{
	(void)state;
	const char *msg = "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n"
	                  "Content-Type: text/x-thing\n\ntwo\nlines";
	struct mime_parser *p = parse(msg, strlen(msg), 7);
	assert_int_equal(mime_part_count(p), 3);
	const struct mime_part *one = mime_part_get(p, 1), *two = mime_part_get(p, 2);
	assert_string_equal(one->type, "text"); /* defaulted */
	assert_int_equal(one->body_offset, offset_of(msg, "one"));
	assert_int_equal(one->end_offset, offset_of(msg, "one") + 3);
	assert_string_equal(two->subtype, "x-thing");
	assert_int_equal(two->end_offset, strlen(msg)); /* no close delimiter: EOF */
	assert_int_equal(two->body_lines, 2);
	mime_parser_free(&p);
	/* A close delimiter without a line end, at the very end. */
	msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--";
	p = parse(msg, strlen(msg), 3);
	assert_int_equal(mime_part_count(p), 2);
	assert_int_equal(mime_part_get(p, 1)->end_offset,
	                 offset_of(msg, "x\r\n--b--") + 1);
	mime_parser_free(&p);
}

static void test_defaults_and_odd_types(void **state)
{
	(void)state;
	const char *msg =
	    "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\n"
	    "Subject: digested\r\n\r\nbody\r\n--d\r\n"
	    "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n"
	    "\r\nU3ViamVjdDogeA0KDQp4DQo=\r\n--d\r\n"
	    "Content-Type: multipart/mixed\r\n\r\nno boundary\r\n--d--\r\n";
	struct mime_parser *p = parse(msg, strlen(msg), 4096);
	/* digest's default child is a message; a base64 one is a leaf; a
	 * multipart without a boundary is plain text */
	assert_string_equal(mime_part_get(p, 1)->type, "message");
	assert_int_equal(mime_part_get(p, 1)->kind, MIME_MESSAGE);
	assert_int_equal(mime_part_get(p, 2)->header_offset,
	                 offset_of(msg, "Subject: digested"));
	assert_int_equal(mime_part_get(p, 3)->kind, MIME_LEAF);
	assert_int_equal(mime_part_get(p, 4)->kind, MIME_LEAF);
	assert_string_equal(mime_part_get(p, 4)->type, "text");
	assert_int_equal(mime_part_count(p), 5);
	mime_parser_free(&p);
	/* A header's blank line right before a delimiter: that line end is
	 * the delimiter's, so the body (here: the enclosed message) is empty
	 * and nothing reaches past the enclosing part (found by fuzzing). */
	msg = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	      "Content-Type: message/rfc822\r\n\r\n--b--\r\n";
	p = parse(msg, strlen(msg), 5);
	assert_int_equal(mime_part_count(p), 3);
	size_t delimiter = offset_of(msg, "--b--") - 2;
	for (size_t i = 1; i < 3; i++) {
		assert_int_equal(mime_part_get(p, i)->end_offset, delimiter);
		assert_int_equal(mime_part_get(p, i)->body_offset, delimiter);
		assert_int_equal(mime_part_get(p, i)->body_lines, 0);
	}
	assert_int_equal(mime_part_get(p, 2)->header_offset, delimiter);
	mime_parser_free(&p);
}

/* 10,000 parts 1,000 levels deep and 20,000 side by side: bounded. */
static void test_bombs(void **state)
{
	(void)state;
	size_t cap = 4 * 1024 * 1024, len = 0;
	char *msg = malloc(cap);
	for (int i = 0; i < 1000; i++)
		len += (size_t)snprintf(
		    msg + len, cap - len,
		    "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	len += (size_t)snprintf(msg + len, cap - len, "\r\nbottom\r\n");
	struct mime_parser *p = parse(msg, len, 65536);
	assert_true(mime_parser_truncated(p));
	assert_true(mime_part_count(p) <= 2 * MIME_DEPTH_MAX);
	for (size_t i = 0; i < mime_part_count(p); i++)
		assert_true(mime_part_get(p, i)->depth < MIME_DEPTH_MAX);
	mime_parser_free(&p);

	len = (size_t)snprintf(msg, cap,
	                       "Content-Type: multipart/mixed; boundary=x\r\n\r\n");
	for (int i = 0; i < 20000; i++)
		len += (size_t)snprintf(msg + len, cap - len, "--x\r\n\r\n%d\r\n", i);
	len += (size_t)snprintf(msg + len, cap - len, "--x--\r\n");
	p = parse(msg, len, 65536);
	assert_true(mime_parser_truncated(p));
	assert_int_equal(mime_part_count(p), MIME_PARTS_MAX);
	/* the last part holds the rest, to the end of the multipart */
	assert_int_equal(mime_part_get(p, MIME_PARTS_MAX - 1)->end_offset,
	                 len - strlen("\r\n--x--\r\n"));
	mime_parser_free(&p);
	free(msg);
}

static void test_params(void **state)
{
	(void)state;
	const char *v = "application/octet-stream; NAME=\"a \\\"b\\\".txt\" ; x-size=12;"
	                "broken; empty=\"\";  last=end";
	size_t cursor = 0;
	char name[16], value[16];
	const char *want[][2] = {
	    {"name", "a \"b\".txt"}, {"x-size", "12"}, {"empty", ""}, {"last", "end"}};
	for (size_t i = 0; i < 4; i++) {
		assert_true(mime_param_next(v, strlen(v), &cursor, name, sizeof(name),
		                            value, sizeof(value)));
		assert_string_equal(name, want[i][0]);
		assert_string_equal(value, want[i][1]);
	}
	assert_false(mime_param_next(v, strlen(v), &cursor, name, sizeof(name), value,
	                             sizeof(value)));
	/* cut to the buffers, never past them */
	cursor = 0;
	v = "text/plain; charset=abcdefghijklmnopqrstuvwxyz";
	assert_true(mime_param_next(v, strlen(v), &cursor, name, 4, value, 5));
	assert_string_equal(name, "cha");
	assert_string_equal(value, "abcd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_part),
	    cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_any_pieces_same_result),
	    cmocka_unit_test(test_lf_only_and_unclosed),
	    cmocka_unit_test(test_defaults_and_odd_types),
	    cmocka_unit_test(test_bombs),
	    cmocka_unit_test(test_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
