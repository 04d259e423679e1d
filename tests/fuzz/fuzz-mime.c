/*
 * fuzz-mime.c — libFuzzer target: the MIME structure parser. The first
 * octet picks the size of the pieces the rest is fed in; the result must
 * equal that of feeding it whole, and hold: offsets in order and within
 * the message, every part inside its parent, depth and count within
 * their bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mime_parser *parse(const char *msg, size_t len, size_t piece)
{
	struct mime_parser *p = mime_parser_new();
	for (size_t at = 0; at < len; at += piece)
		mime_parser_feed(p, msg + at, len - at < piece ? len - at : piece);
	mime_parser_finish(p);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t piece = (size_t)data[0] % 13 + 1;
	const char *msg = (const char *)data + 1;
	size_t len = size - 1;
	struct mime_parser *whole = parse(msg, len, len ? len : 1);
	struct mime_parser *pieces = parse(msg, len, piece);
	size_t count = mime_part_count(whole);
	if (count != mime_part_count(pieces) || count == 0 || count > MIME_PARTS_MAX)
		abort();
	for (size_t i = 0; i < count; i++) {
		const struct mime_part *a = mime_part_get(whole, i),
		                       *b = mime_part_get(pieces, i);
		if (a->parent != b->parent || a->kind != b->kind ||
		    strcmp(a->type, b->type) || strcmp(a->subtype, b->subtype) ||
		    a->header_offset != b->header_offset ||
		    a->body_offset != b->body_offset || a->end_offset != b->end_offset ||
		    a->header_lines != b->header_lines || a->body_lines != b->body_lines)
			abort();
		if (a->header_offset > a->body_offset || a->body_offset > a->end_offset ||
		    a->end_offset > len || a->depth >= MIME_DEPTH_MAX)
			abort();
		if (a->body_lines > a->end_offset - a->body_offset)
			abort();
		if (i > 0) {
			const struct mime_part *parent =
			    mime_part_get(whole, (size_t)a->parent);
			if (a->parent < 0 || (size_t)a->parent >= i ||
			    a->header_offset < parent->body_offset ||
			    a->end_offset > parent->end_offset)
				abort();
		}
	}
	mime_parser_free(&whole);
	mime_parser_free(&pieces);
	return 0;
}
