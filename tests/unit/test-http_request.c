/*
 * test-http_request.c — the HTTP/1.x request head parser: request lines,
 * versions, targets with queries, Host rules, Connection tokens, bodies
 * announced, and each malformed form refused with its reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/http_request.h"

static int parse(struct http_request *req, const char *const *lines, const char **error)
{
	if (http_request_line(req, lines[0], strlen(lines[0]), error) < 0)
		return -1;
	for (size_t i = 1; lines[i]; i++)
		if (http_header_line(req, lines[i], strlen(lines[i]), error) < 0)
			return -1;
	return 0;
}

static void test_good(void **state)
{
	(void)state;
	struct http_request req;
	const char *error = NULL;
	const char *get[] = {"GET /metrics?name=x HTTP/1.1", "Host: localhost:9090",
	                     "Accept: text/plain", "", NULL};
	assert_int_equal(parse(&req, get, &error), 0);
	assert_true(req.head_done);
	assert_int_equal(req.method, HTTP_GET);
	assert_string_equal(req.path, "/metrics");
	assert_string_equal(req.query, "name=x");
	assert_int_equal(req.minor_version, 1);
	assert_false(req.close);
	const char *head10[] = {"HEAD /healthz HTTP/1.0", "", NULL};
	assert_int_equal(parse(&req, head10, &error), 0);
	assert_int_equal(req.method, HTTP_HEAD);
	assert_true(req.close); /* 1.0 closes unless asked */
	const char *keep10[] = {"GET / HTTP/1.0", "Connection: Keep-Alive", "", NULL};
	assert_int_equal(parse(&req, keep10, &error), 0);
	assert_false(req.close);
	const char *close11[] = {"GET / HTTP/1.1", "host: x", "Connection: foo, close",
	                         "", NULL};
	assert_int_equal(parse(&req, close11, &error), 0);
	assert_true(req.close);
	const char *post[] = {"POST /x HTTP/1.1", "Host: x", "Content-Length: 3", "",
	                      NULL};
	assert_int_equal(parse(&req, post, &error), 0);
	assert_int_equal(req.method, HTTP_OTHER);
	assert_true(req.has_body);
}

static void test_bad(void **state)
{
	(void)state;
	static const struct {
		const char *lines[4];
		const char *error;
	} cases[] = {
	    {{"GARBAGE"}, "malformed request line"},
	    {{" GET / HTTP/1.1"}, "malformed request line"},
	    {{"G(T / HTTP/1.1"}, "malformed method"},
	    {{"GET metrics HTTP/1.1"}, "malformed request target"},
	    {{"GET / HTTP/2.0"}, "505"},
	    {{"GET / HTTP/1.1x"}, "malformed HTTP version"},
	    {{"GET / FTP/1.1"}, "malformed HTTP version"},
	    {{"GET /\x01 HTTP/1.1"}, "malformed request target"},
	    {{"GET / HTTP/1.1", ""}, "no Host field"},
	    {{"GET / HTTP/1.1", "Host: a", "Host: b"}, "two Host fields"},
	    {{"GET / HTTP/1.1", " folded"}, "obsolete line folding"},
	    {{"GET / HTTP/1.1", "no colon"}, "malformed header field"},
	    {{"GET / HTTP/1.1", ": empty name"}, "malformed header field"},
	    {{"GET / HTTP/1.1", "Bad Name: x"}, "malformed header field name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_request req;
		const char *error = NULL;
		const char *lines[5] = {cases[i].lines[0], cases[i].lines[1],
		                        cases[i].lines[2], cases[i].lines[3], NULL};
		if (parse(&req, lines, &error) == 0 ||
		    strncmp(error, cases[i].error, strlen(cases[i].error)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i,
			         error ? error : "(accepted)", cases[i].error);
	}
	/* the field count is bounded */
	struct http_request req;
	const char *error = NULL;
	assert_int_equal(http_request_line(&req, "GET / HTTP/1.1", 14, &error), 0);
	for (int i = 0; i < HTTP_FIELDS_MAX; i++)
		assert_int_equal(http_header_line(&req, "X: y", 4, &error), 0);
	assert_int_equal(http_header_line(&req, "X: y", 4, &error), -1);
	assert_string_equal(error, "too many header fields");
	/* a target longer than the buffer */
	char line[HTTP_TARGET_MAX + 32] = "GET /";
	memset(line + 5, 'a', HTTP_TARGET_MAX);
	memcpy(line + 5 + HTTP_TARGET_MAX, " HTTP/1.1", 10);
	assert_int_equal(http_request_line(&req, line, strlen(line), &error), -1);
	assert_string_equal(error, "request target too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
