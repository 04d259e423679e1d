/*
 * fuzz-imap_bodystructure.c — libFuzzer target: the BODYSTRUCTURE of any
 * message is IMAP that parses. The message goes through the MIME parser,
 * its BODYSTRUCTURE (and BODY) through petrel's own IMAP parser: each
 * must come back as exactly one list.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_bodystructure.h"
#include "proto/imap_parser.h"

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

struct message {
	const char *data;
	size_t size;
};

static size_t read_message(void *ctx, uint64_t offset, char *buf, size_t len)
{
	const struct message *m = ctx;
	if (offset >= m->size)
		return 0;
	if (len > m->size - offset)
		len = m->size - (size_t)offset;
	memcpy(buf, m->data + offset, len);
	return len;
}

static void check(const struct mime_parser *mime, struct message *m, bool extended)
{
	struct out o = {0};
	struct imap_writer w = {collect, &o, false};
	collect(&o, "x BODYSTRUCTURE ", 16);
	imap_write_bodystructure(&w, mime, extended, read_message, m);
	collect(&o, "\r\n", 2);
	struct imap_parser *p = imap_parser_new(
	    &(struct imap_parser_limits){.line_max = 1 << 24, .literal_max = 1 << 24});
	size_t at = 0, used;
	enum imap_parse r = IMAP_PARSE_CONTINUE;
	while (r == IMAP_PARSE_CONTINUE || (r == IMAP_PARSE_MORE && at < o.len)) {
		r = imap_parser_feed(p, o.data + at, o.len - at, &used);
		at += used;
	}
	/* Deeper than the IMAP parser takes lists is fine (a MIME structure
	 * may nest further than a client's command may); anything else is
	 * a writer's bug. */
	if (r == IMAP_PARSE_ERROR &&
	    strcmp(imap_parser_error(p), "lists nested too deeply") == 0) {
		imap_parser_free(&p);
		free(o.data);
		return;
	}
	if (r != IMAP_PARSE_DONE || at != o.len)
		abort();
	const struct imap_arg *body = imap_parser_args(p);
	if (body == NULL || body->type != IMAP_ARG_LIST || body->next)
		abort();
	imap_parser_free(&p);
	free(o.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message m = {(const char *)data, size};
	struct mime_parser *mime = mime_parser_new();
	mime_parser_feed(mime, m.data, size);
	mime_parser_finish(mime);
	check(mime, &m, false);
	check(mime, &m, true);
	mime_parser_free(&mime);
	return 0;
}
