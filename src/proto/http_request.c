/*
 * http_request.c — see http_request.h. RFC 9112 3 (request line), 5
 * (field lines), RFC 9110 5.6.2 (tokens).
 */
#include "proto/http_request.h"

#include <string.h>
#include <strings.h>

static bool tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int http_request_line(struct http_request *req, const char *line, size_t len,
                      const char **error_r)
{
	memset(req, 0, sizeof(*req));
	const char *end = line + len;
	const char *sp1 = memchr(line, ' ', len);
	if (sp1 == NULL || sp1 == line) {
		*error_r = "malformed request line";
		return -1;
	}
	for (const char *p = line; p < sp1; p++)
		if (!tchar(*p)) {
			*error_r = "malformed method";
			return -1;
		}
	size_t method_len = (size_t)(sp1 - line);
	req->method = method_len == 3 && memcmp(line, "GET", 3) == 0    ? HTTP_GET
	              : method_len == 4 && memcmp(line, "HEAD", 4) == 0 ? HTTP_HEAD
	                                                                : HTTP_OTHER;
	const char *target = sp1 + 1;
	const char *sp2 = memchr(target, ' ', (size_t)(end - target));
	if (sp2 == NULL || sp2 == target || target[0] != '/') {
		*error_r = "malformed request target";
		return -1;
	}
	const char *version = sp2 + 1;
	if ((size_t)(end - version) != 8 || memcmp(version, "HTTP/1.", 7) != 0 ||
	    version[7] < '0' || version[7] > '9') {
		*error_r =
		    (size_t)(end - version) == 8 && memcmp(version, "HTTP/", 5) == 0
		        ? "505 version not supported"
		        : "malformed HTTP version";
		return -1;
	}
	req->minor_version = version[7] - '0';
	req->close = req->minor_version == 0;
	for (const char *p = target; p < sp2; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			*error_r = "malformed request target";
			return -1;
		}
	const char *question = memchr(target, '?', (size_t)(sp2 - target));
	const char *path_end = question ? question : sp2;
	if ((size_t)(path_end - target) >= sizeof(req->path) ||
	    (question && (size_t)(sp2 - question - 1) >= sizeof(req->query))) {
		*error_r = "request target too long";
		return -1;
	}
	memcpy(req->path, target, (size_t)(path_end - target));
	if (question)
		memcpy(req->query, question + 1, (size_t)(sp2 - question - 1));
	return 0;
}

/* Whether the comma-separated list value[0..len) holds token. */
static bool list_has(const char *value, size_t len, const char *token)
{
	size_t tlen = strlen(token);
	const char *p = value, *end = value + len;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		const char *start = p;
		while (p < end && *p != ',')
			p++;
		const char *stop = p;
		while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
			stop--;
		if ((size_t)(stop - start) == tlen &&
		    strncasecmp(start, token, tlen) == 0)
			return true;
	}
	return false;
}

int http_header_line(struct http_request *req, const char *line, size_t len,
                     const char **error_r)
{
	if (len == 0) {
		if (req->minor_version == 1 && !req->has_host) {
			*error_r = "no Host field"; /* RFC 9112 3.2 */
			return -1;
		}
		req->head_done = true;
		return 0;
	}
	if (++req->fields > HTTP_FIELDS_MAX) {
		*error_r = "too many header fields";
		return -1;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		*error_r = "obsolete line folding"; /* RFC 9112 5.2: may reject */
		return -1;
	}
	const char *colon = memchr(line, ':', len);
	if (colon == NULL || colon == line) {
		*error_r = "malformed header field";
		return -1;
	}
	for (const char *p = line; p < colon; p++)
		if (!tchar(*p)) {
			*error_r = "malformed header field name";
			return -1;
		}
	size_t name_len = (size_t)(colon - line);
	const char *value = colon + 1, *end = line + len;
	for (const char *p = value; p < end; p++)
		if (*p == '\0' || *p == '\r' || *p == '\n') {
			*error_r = "malformed header field value";
			return -1;
		}
	while (value < end && (*value == ' ' || *value == '\t'))
		value++;
	size_t value_len = (size_t)(end - value);
	if (name_len == 4 && strncasecmp(line, "host", 4) == 0) {
		if (req->has_host) {
			*error_r = "two Host fields";
			return -1;
		}
		req->has_host = true;
	} else if ((name_len == 14 && strncasecmp(line, "content-length", 14) == 0) ||
	           (name_len == 17 && strncasecmp(line, "transfer-encoding", 17) == 0)) {
		req->has_body = true;
	} else if (name_len == 10 && strncasecmp(line, "connection", 10) == 0) {
		if (list_has(value, value_len, "close"))
			req->close = true;
		if (list_has(value, value_len, "keep-alive"))
			req->keep_alive_asked = true;
	}
	if (req->minor_version == 0 && req->keep_alive_asked)
		req->close = false;
	return 0;
}
