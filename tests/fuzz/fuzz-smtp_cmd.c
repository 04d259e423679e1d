/*
 * fuzz-smtp_cmd.c — libFuzzer target: SMTP command lines and BDAT args.
 */
#include <stddef.h>
#include <stdint.h>

#include "proto/smtp_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_cmd cmd;
	const char *error;
	if (smtp_cmd_parse((const char *)data, size, &cmd, &error) == 0) {
		/* The argument must lie inside the input. */
		if (cmd.arg < (const char *)data ||
		    cmd.arg + cmd.arg_len > (const char *)data + size)
			__builtin_trap();
		uint64_t chunk;
		int last;
		if (cmd.verb == SMTP_BDAT &&
		    smtp_bdat_parse(cmd.arg, cmd.arg_len, &chunk, &last, &error) == 0 &&
		    chunk > 999999999999999999ull)
			__builtin_trap();
	}
	return 0;
}
