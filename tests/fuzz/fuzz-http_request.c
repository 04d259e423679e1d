/*
 * fuzz-http_request.c — libFuzzer target: a request head split into lines
 * (at LF, a CR before it removed, as the connection layer does) through
 * the request-line and header-field parsers. Whatever comes in, the path
 * and query stay NUL-terminated within their buffers, a parsed path
 * starts with '/', and the field count never passes its bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	const char *text = (const char *)data, *end = text + size;
	const char *error;
	bool first = true;
	while (text < end) {
		const char *lf = memchr(text, '\n', (size_t)(end - text));
		size_t len = (size_t)((lf ? lf : end) - text);
		if (len > 0 && text[len - 1] == '\r')
			len--;
		int r = first ? http_request_line(&req, text, len, &error)
		              : http_header_line(&req, text, len, &error);
		if (r < 0 || (!first && req.head_done))
			break;
		if (first && (req.path[0] != '/' ||
		              memchr(req.path, '\0', sizeof(req.path)) == NULL ||
		              memchr(req.query, '\0', sizeof(req.query)) == NULL))
			abort();
		if (req.fields > HTTP_FIELDS_MAX)
			abort();
		first = false;
		text = lf ? lf + 1 : end;
	}
	return 0;
}
