/*
 * fuzz-imap_write.c — libFuzzer target: the ENVELOPE of any header
 * section is IMAP that parses. The output, as the argument of a line,
 * goes through petrel's own IMAP parser: it must come back as one list
 * of ten items, whatever the header held (CR, LF, NUL, 8-bit, broken
 * addresses, quotes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_parser.h"
#include "proto/imap_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	char *data;
	size_t len, cap;
};

static void collect(void *ctx, const char *data, size_t len)
{
	struct out *o = ctx;
	if (o->len + len > o->cap) {
		o->cap = (o->len + len) * 2;
		o->data = realloc(o->data, o->cap);
		if (o->data == NULL)
			abort();
	}
	memcpy(o->data + o->len, data, len);
	o->len += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out o = {0};
	struct imap_writer w = {collect, &o, size > 0 && (data[0] & 1)};
	collect(&o, "x ENVELOPE ", 11);
	imap_write_envelope(&w, (const char *)data, size);
	collect(&o, "\r\n", 2);
	struct imap_parser *p = imap_parser_new(
	    &(struct imap_parser_limits){.line_max = 1 << 20, .literal_max = 1 << 20});
	size_t at = 0, used;
	enum imap_parse r = IMAP_PARSE_CONTINUE;
	while (r == IMAP_PARSE_CONTINUE || (r == IMAP_PARSE_MORE && at < o.len)) {
		r = imap_parser_feed(p, o.data + at, o.len - at, &used);
		at += used;
	}
	if (r != IMAP_PARSE_DONE || at != o.len)
		abort();
	const struct imap_arg *env = imap_parser_args(p);
	if (env == NULL || env->type != IMAP_ARG_LIST || env->len != 10 || env->next)
		abort();
	imap_parser_free(&p);
	free(o.data);
	return 0;
}
