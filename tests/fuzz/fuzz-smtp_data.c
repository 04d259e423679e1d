/*
 * fuzz-smtp_data.c — libFuzzer target: DATA end detection. The input is
 * fed in chunks whose sizes come from the first octet; the result must
 * not depend on the chunking, and the end must be a real <CRLF>.<CRLF>.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t run(const char *in, size_t len, size_t chunk, char *out, size_t *out_len,
                  unsigned *flags)
{
	struct smtp_data d;
	smtp_data_init(&d, 1000);
	size_t pos = 0, total = 0;
	*out_len = 0;
	while (pos < len) {
		size_t n = chunk < len - pos ? chunk : len - pos;
		size_t produced;
		size_t used = smtp_data_feed(&d, in + pos, n, out + *out_len, &produced);
		if (produced > n + 1)
			__builtin_trap();
		*out_len += produced;
		if (used) {
			total = pos + used;
			break;
		}
		pos += n;
	}
	*flags = d.flags;
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = 1 + data[0] % 17;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	char *a = malloc(len + 2), *b = malloc(len + 2);
	size_t a_len, b_len;
	unsigned a_flags, b_flags;
	size_t a_end = run(in, len, len ? len : 1, a, &a_len, &a_flags);
	size_t b_end = run(in, len, chunk, b, &b_len, &b_flags);
	if (a_end != b_end || a_len != b_len || memcmp(a, b, a_len) != 0 ||
	    a_flags != b_flags)
		__builtin_trap();
	/* The end is always a line ".\r\n" preceded by CRLF (or at the start). */
	if (a_end) {
		if (a_end < 3 || memcmp(in + a_end - 3, ".\r\n", 3) != 0)
			__builtin_trap();
		if (a_end > 3 && (a_end < 5 || memcmp(in + a_end - 5, "\r\n", 2) != 0))
			__builtin_trap();
	}
	struct smtp_data check;
	smtp_data_init(&check, 1000);
	smtp_data_check(&check, in, len);
	smtp_data_check_end(&check);
	free(a);
	free(b);
	return 0;
}
