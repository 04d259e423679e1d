/*
 * fuzz-rfc5322.c — libFuzzer target: the header section parser. The end
 * found must not depend on how the message arrives, must lie within the
 * message and the size limit, and the fields iterated over it must tile
 * it exactly, each with a valid name.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/rfc5322.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run(const char *in, size_t len, size_t step, size_t *end)
{
	struct rfc5322_scan scan;
	rfc5322_scan_init(&scan, 2048, 50);
	const char *error;
	for (size_t have = step < len ? step : len;; have += step) {
		if (have > len)
			have = len;
		int r = rfc5322_scan(&scan, in, have, end, &error);
		if (r != 0)
			return r;
		if (have == len)
			return rfc5322_scan_finish(&scan, in, len, end, &error);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = 1 + data[0] % 17;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	size_t a = 0, b = 0;
	int ra = run(in, len, len ? len : 1, &a);
	int rb = run(in, len, step, &b);
	if (ra != rb || (ra == 1 && a != b) || ra == 0)
		__builtin_trap();
	if (ra != 1)
		return 0;
	if (a > len || a > 2048)
		__builtin_trap();
	size_t pos = 0, fields = 0;
	struct rfc5322_field f;
	while (rfc5322_next_field(in, a, &pos, &f) == 1) {
		if (!rfc5322_name_valid(f.name, f.name_len) ||
		    f.raw != in + pos - f.raw_len ||
		    f.value + f.value_len > f.raw + f.raw_len || ++fields > 50)
			__builtin_trap();
	}
	if (pos != a)
		__builtin_trap();
	return 0;
}
