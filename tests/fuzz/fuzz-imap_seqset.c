/*
 * fuzz-imap_seqset.c — libFuzzer target: sequence sets. The first four
 * octets are "*" (the mailbox's largest number), the rest the set.
 * Whatever comes in: resolved ranges are ascending, disjoint, non-adjacent
 * and within 1..4294967295, and every number the parsed set names (each
 * range's ends, "*" resolved) is contained.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_seqset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint32_t star;
	memcpy(&star, data, 4);
	star %= 1000000;
	static struct imap_seq_range parsed[512], resolved[512];
	size_t count;
	const char *error;
	if (imap_seqset_parse((const char *)data + 4, size - 4, parsed, 512, &count,
	                      &error) < 0)
		return 0;
	memcpy(resolved, parsed, count * sizeof(*parsed));
	size_t n = imap_seqset_resolve(resolved, count, star);
	for (size_t i = 0; i < n; i++) {
		if (resolved[i].lo == 0 || resolved[i].lo > resolved[i].hi)
			abort();
		if (i > 0 && (uint64_t)resolved[i - 1].hi + 1 >= resolved[i].lo)
			abort();
	}
	for (size_t i = 0; i < count; i++) {
		uint32_t ends[2] = {parsed[i].lo == IMAP_SEQ_STAR ? star : parsed[i].lo,
		                    parsed[i].hi == IMAP_SEQ_STAR ? star : parsed[i].hi};
		for (int e = 0; e < 2; e++)
			if (ends[e] != 0 && !imap_seqset_contains(resolved, n, ends[e]))
				abort();
	}
	return 0;
}
