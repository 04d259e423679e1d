/*
 * fuzz-cte.c — libFuzzer target: Content-Transfer-Encoding decoding. For
 * each kind, decoding the input whole and decoding it cut at a point the
 * input chooses give the same octets, and never more than came in.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cte.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t cut = data[0] % (size);
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	char *whole = malloc(len + 8), *pieces = malloc(len + 8);
	for (int kind = CTE_IDENTITY; kind <= CTE_QUOTED_PRINTABLE; kind++) {
		struct cte_decoder d;
		cte_decoder_init(&d, (enum cte_kind)kind);
		size_t a = cte_decode(&d, in, len, whole);
		a += cte_finish(&d, whole + a);
		cte_decoder_init(&d, (enum cte_kind)kind);
		size_t c = cut < len ? cut : len;
		size_t b = cte_decode(&d, in, c, pieces);
		b += cte_decode(&d, in + c, len - c, pieces + b);
		b += cte_finish(&d, pieces + b);
		if (a != b || memcmp(whole, pieces, a) != 0 || a > len + 3)
			abort();
	}
	free(whole);
	free(pieces);
	return 0;
}
