/*
 * fuzz-envelope.c — libFuzzer target: the spool file parser, which reads
 * what a crash may have left half-written.
 */
#include <stddef.h>
#include <stdint.h>

#include "message/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope env;
	const char *message, *error;
	size_t message_len;
	if (envelope_parse((const char *)data, size, &env, &message, &message_len,
	                   &error) == 0) {
		if (message < (const char *)data ||
		    message + message_len != (const char *)data + size ||
		    env.rcpt_count == 0)
			__builtin_trap();
		envelope_clear(&env);
	}
	return 0;
}
