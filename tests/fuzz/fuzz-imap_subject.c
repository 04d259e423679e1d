/*
 * fuzz-imap_subject.c — libFuzzer target: RFC 5256 base subjects. Whatever
 * comes in: the result fits, has no whitespace at either end, and is its
 * own base subject (taking it again changes nothing).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_subject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char base[512], again[512];
	bool reply, reply2;
	size_t n =
	    imap_base_subject((const char *)data, size, base, sizeof(base), &reply);
	if (n >= sizeof(base) || base[n] != '\0')
		abort();
	if (n > 0 && (base[0] == ' ' || base[n - 1] == ' '))
		abort();
	size_t m = imap_base_subject(base, n, again, sizeof(again), &reply2);
	if (m != n || memcmp(base, again, n) != 0)
		abort();
	return 0;
}
