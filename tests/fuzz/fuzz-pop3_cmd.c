/*
 * fuzz-pop3_cmd.c — libFuzzer target: POP3 command lines. Whatever comes
 * in: arguments lie inside the line, their count within the verb's,
 * message numbers are never 0, and no control octet is accepted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pop3_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct pop3_cmd c;
	const char *error;
	if (pop3_cmd_parse(line, size, &c, &error) < 0)
		return 0;
	if (c.argc > 2 || size + 2 > POP3_LINE_MAX)
		abort();
	for (size_t i = 0; i < size; i++)
		if ((unsigned char)line[i] < ' ')
			abort();
	for (unsigned i = 0; i < c.argc; i++)
		if (c.arg[i] < line || c.arg[i] + c.arg_len[i] > line + size)
			abort();
	if ((c.verb == POP3_RETR || c.verb == POP3_DELE || c.verb == POP3_TOP) &&
	    c.number[0] == 0)
		abort();
	return 0;
}
