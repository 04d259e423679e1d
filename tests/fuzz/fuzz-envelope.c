/*
 * fuzz-envelope.c — libFuzzer target: the spool file parser, which reads
 * what a crash may have left half-written (both versions). What it says
 * of the message must lie within the file.
 */
#include <stddef.h>
#include <stdint.h>

#include "message/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope env;
	struct spool_layout layout;
	const char *error;
	const char *in = (const char *)data;
	if (envelope_parse(in, size, &env, &layout, &error) == 0) {
		if (env.rcpt_count == 0 || layout.body_offset > size ||
		    layout.body_len > size - layout.body_offset ||
		    (layout.header_len > 0 &&
		     (layout.header < in ||
		      layout.header + layout.header_len > in + size)))
			__builtin_trap();
		envelope_clear(&env);
	}
	return 0;
}
