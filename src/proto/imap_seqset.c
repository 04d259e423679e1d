/*
 * imap_seqset.c — IMAP sequence sets (see imap_seqset.h).
 */
#include "proto/imap_seqset.h"

#include <stdlib.h>

/* One seq-number at *i: a number 1..4294967295 or "*". */
static int parse_number(const char *text, size_t len, size_t *i, uint32_t *out,
                        const char **error_r)
{
	if (*i < len && text[*i] == '*') {
		(*i)++;
		*out = IMAP_SEQ_STAR;
		return 0;
	}
	uint64_t value = 0;
	size_t start = *i;
	while (*i < len && text[*i] >= '0' && text[*i] <= '9') {
		value = value * 10 + (uint64_t)(text[*i] - '0');
		if (value > UINT32_MAX) {
			*error_r = "number in sequence set too large";
			return -1;
		}
		(*i)++;
	}
	if (*i == start) {
		*error_r = "invalid sequence set";
		return -1;
	}
	if (value == 0 || text[start] == '0') {
		*error_r = "0 or a leading zero in a sequence set";
		return -1;
	}
	*out = (uint32_t)value;
	return 0;
}

int imap_seqset_parse(const char *text, size_t len, struct imap_seq_range *out,
                      size_t max, size_t *count, const char **error_r)
{
	*count = 0;
	size_t i = 0;
	if (len == 0) {
		*error_r = "empty sequence set";
		return -1;
	}
	for (;;) {
		struct imap_seq_range r;
		if (parse_number(text, len, &i, &r.lo, error_r) < 0)
			return -1;
		r.hi = r.lo;
		if (i < len && text[i] == ':') {
			i++;
			if (parse_number(text, len, &i, &r.hi, error_r) < 0)
				return -1;
		}
		if (*count >= max) {
			*error_r = "sequence set too long";
			return -1;
		}
		out[(*count)++] = r;
		if (i == len)
			return 0;
		if (text[i] != ',' || i + 1 == len) {
			*error_r = "invalid sequence set";
			return -1;
		}
		i++;
	}
}

static int compare_ranges(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo ? 1 : 0;
}

size_t imap_seqset_resolve(struct imap_seq_range *ranges, size_t count, uint32_t star)
{
	size_t kept = 0;
	for (size_t i = 0; i < count; i++) {
		uint32_t lo = ranges[i].lo == IMAP_SEQ_STAR ? star : ranges[i].lo;
		uint32_t hi = ranges[i].hi == IMAP_SEQ_STAR ? star : ranges[i].hi;
		if (lo > hi) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		if (hi == 0)
			continue; /* "*" of an empty mailbox */
		if (lo == 0)
			lo = 1;
		ranges[kept].lo = lo;
		ranges[kept].hi = hi;
		kept++;
	}
	if (kept < 2)
		return kept;
	qsort(ranges, kept, sizeof(*ranges), compare_ranges);
	size_t merged = 0;
	for (size_t i = 1; i < kept; i++) {
		struct imap_seq_range *last = &ranges[merged];
		/* overlapping or adjacent (hi + 1 == lo, without overflow) */
		if (ranges[i].lo <= last->hi || ranges[i].lo - 1 == last->hi) {
			if (ranges[i].hi > last->hi)
				last->hi = ranges[i].hi;
		} else {
			ranges[++merged] = ranges[i];
		}
	}
	return merged + 1;
}

bool imap_seqset_contains(const struct imap_seq_range *ranges, size_t count, uint32_t n)
{
	size_t lo = 0, hi = count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (n < ranges[mid].lo)
			hi = mid;
		else if (n > ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}
