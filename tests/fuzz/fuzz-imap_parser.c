/*
 * fuzz-imap_parser.c — libFuzzer target: the input is fed to the IMAP
 * command parser in pieces whose sizes the first octet picks, as a
 * client's packets would arrive; streamed literals are read or refused in
 * turn. Whatever comes in: every octet is taken in bounded steps (no
 * loop without progress), every argument's string is NUL-terminated at
 * its length, a list's count matches its items, nesting stays within
 * IMAP_DEPTH_MAX and the arguments within IMAP_ARGS_MAX.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t check(const struct imap_arg *arg, unsigned depth)
{
	size_t count = 0;
	if (depth > IMAP_DEPTH_MAX)
		abort();
	for (; arg; arg = arg->next) {
		count++;
		if (arg->type == IMAP_ARG_LIST) {
			size_t items = 0;
			for (const struct imap_arg *a = arg->list; a; a = a->next)
				items++;
			if (items != arg->len)
				abort();
			count += check(arg->list, depth + 1);
		} else if (arg->type != IMAP_ARG_STREAMED) {
			if (arg->str == NULL || arg->str[arg->len] != '\0')
				abort();
			if (!arg->literal8 && memchr(arg->str, '\0', arg->len))
				abort();
		}
	}
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t piece = (size_t)(data[0] % 17) + 1;
	struct imap_parser_limits limits = {
	    .line_max = 512, .literal_max = 64, .stream_max = data[0] & 0x80 ? 4096 : 0};
	struct imap_parser *p = imap_parser_new(&limits);
	const char *text = (const char *)data + 1;
	size_t len = size - 1, at = 0, idle = 0;
	unsigned streams = 0;
	while (at < len) {
		size_t n = len - at < piece ? len - at : piece, used = 0;
		enum imap_parse r = imap_parser_feed(p, text + at, n, &used);
		if (used > n)
			abort();
		at += used;
		idle = used ? 0 : idle + 1;
		if (idle > 2) /* at most a reported error before progress */
			abort();
		if (r == IMAP_PARSE_DONE) {
			const char *tag = imap_parser_tag(p);
			if (tag[0] == '\0' || imap_parser_command(p)[0] == '\0')
				abort();
			if (check(imap_parser_args(p), 0) > IMAP_ARGS_MAX)
				abort();
		} else if (r == IMAP_PARSE_STREAM) {
			uint64_t literal = imap_parser_literal_size(p);
			if (literal > limits.stream_max)
				abort();
			if (streams++ % 2 == 0) {
				size_t skip =
				    len - at < literal ? len - at : (size_t)literal;
				at += skip;
				imap_parser_stream_done(p);
			} else {
				imap_parser_stream_refuse(p, "refused");
			}
		} else if (r == IMAP_PARSE_ERROR && imap_parser_error(p)[0] == '\0') {
			abort();
		}
	}
	imap_parser_free(&p);
	return 0;
}
