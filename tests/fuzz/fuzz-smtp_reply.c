/*
 * fuzz-smtp_reply.c — libFuzzer target: server replies as the SMTP
 * client reads them. Chunking must not change the result, and a complete
 * reply always has a code 200-599 and bounded text.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run(const char *in, size_t len, size_t chunk, struct smtp_reply_parser *p)
{
	const char *error;
	smtp_reply_parser_init(p);
	for (size_t pos = 0; pos < len; pos += chunk) {
		size_t n = chunk < len - pos ? chunk : len - pos;
		int r = smtp_reply_feed(p, in + pos, n, &error);
		if (r != 0)
			return r < 0 ? -1 : (int)pos + r;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = 1 + data[0] % 13;
	const char *in = (const char *)data + 1;
	struct smtp_reply_parser a, b;
	int ra = run(in, size - 1, size, &a);
	int rb = run(in, size - 1, chunk, &b);
	if (ra != rb)
		__builtin_trap();
	if (ra > 0) {
		if (a.reply.code < 200 || a.reply.code > 599 ||
		    a.reply.text_len >= sizeof(a.reply.text) ||
		    a.reply.code != b.reply.code ||
		    strcmp(a.reply.text, b.reply.text) != 0)
			__builtin_trap();
	}
	return 0;
}
