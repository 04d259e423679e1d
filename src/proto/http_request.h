/*
 * http_request.h — the head of an HTTP/1.x request (RFC 9112), parsed a
 * line at a time: the request line, then header fields until the empty
 * line. Pure: no I/O, no allocation; the caller bounds line lengths and
 * the field count (the connection layer's line limit, HTTP_FIELDS_MAX).
 *
 * Only what petrel's small HTTP service needs is kept: method, target
 * path and query, version, and whether the client asked to close.
 */
#ifndef PETREL_HTTP_REQUEST_H
#define PETREL_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_FIELDS_MAX 100
#define HTTP_TARGET_MAX 1024

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_request {
	enum http_method method;
	char path[HTTP_TARGET_MAX]; /* "/metrics", without the query */
	char query[HTTP_TARGET_MAX];
	int minor_version; /* HTTP/1.0 or HTTP/1.1 */
	bool close;        /* Connection: close, or HTTP/1.0 without keep-alive */
	bool keep_alive_asked;
	bool has_host;
	bool has_body; /* Content-Length or Transfer-Encoding: not read */
	unsigned fields;
	bool head_done; /* the empty line was seen */
};

/* The request line "GET /metrics HTTP/1.1". 0, or -1 with *error_r (a
 * 400 reason; "505" first for an unsupported version). */
int http_request_line(struct http_request *req, const char *line, size_t len,
                      const char **error_r);

/* One line after the request line: a field, or the empty line that ends
 * the head (then req->head_done). 0, or -1 with *error_r. */
int http_header_line(struct http_request *req, const char *line, size_t len,
                     const char **error_r);

#endif
