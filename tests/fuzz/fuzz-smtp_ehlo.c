/*
 * fuzz-smtp_ehlo.c — libFuzzer target: a server's reply to EHLO, through
 * the reply parser's line callback into the capability parser. Chunking
 * must not change the capabilities found, and a SIZE limit is only ever
 * read from digits.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/smtp_ehlo.h"
#include "proto/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_line(void *context, unsigned index, const char *text, size_t len)
{
	if (index > 0)
		smtp_ehlo_line(context, text, len);
}

static int run(const char *in, size_t len, size_t chunk, struct smtp_ehlo *ehlo)
{
	struct smtp_reply_parser p;
	smtp_reply_parser_init(&p);
	smtp_ehlo_init(ehlo);
	smtp_reply_parser_on_line(&p, on_line, ehlo);
	const char *error;
	for (size_t pos = 0; pos < len; pos += chunk) {
		size_t n = chunk < len - pos ? chunk : len - pos;
		int r = smtp_reply_feed(&p, in + pos, n, &error);
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
	struct smtp_ehlo a, b;
	int ra = run(in, size - 1, size, &a);
	int rb = run(in, size - 1, chunk, &b);
	if (ra != rb || memcmp(&a, &b, sizeof(a)) != 0)
		__builtin_trap();
	/* Also straight into the line parser, any bytes at all. */
	struct smtp_ehlo direct;
	smtp_ehlo_init(&direct);
	if (smtp_ehlo_line(&direct, in, size - 1) < 0 &&
	    memcmp(&direct, &(struct smtp_ehlo){0}, sizeof(direct)) != 0)
		__builtin_trap();
	return 0;
}
