/*
 * mx_plan.c — RFC 5321 5.1 host selection (see mx_plan.h).
 */
#include "mta/mx_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int by_preference(const void *a, const void *b)
{
	const struct mx_record *x = a, *y = b;
	return (int)x->preference - (int)y->preference;
}

/* Fisher-Yates within each run of equal preference. */
static void shuffle_equal(struct mx_record *records, size_t count,
                          const struct mx_plan_input *input)
{
	size_t start = 0;
	while (start < count) {
		size_t end = start + 1;
		while (end < count &&
		       records[end].preference == records[start].preference)
			end++;
		for (size_t i = end - 1; i > start; i--) {
			size_t j =
			    start + input->random(input->random_ctx) % (i - start + 1);
			struct mx_record swap = records[i];
			records[i] = records[j];
			records[j] = swap;
		}
		start = end;
	}
}

enum mx_plan_status mx_plan(const struct mx_plan_input *input, struct mx_record *out,
                            size_t *out_count)
{
	*out_count = 0;
	if (input->count == 0) {
		/* RFC 5321 5.1: no MX, so the domain is its own implicit MX. */
		out[0].preference = 0;
		snprintf(out[0].host, sizeof(out[0].host), "%s", input->domain);
		*out_count = 1;
		if (input->is_self && input->is_self(out[0].host, input->self_ctx))
			return MX_PLAN_LOOP;
		return MX_PLAN_OK;
	}
	if (input->count == 1 && strcmp(input->records[0].host, ".") == 0)
		return MX_PLAN_NULL_MX;
	size_t n = 0;
	for (size_t i = 0; i < input->count; i++)
		if (strcmp(input->records[i].host, ".") != 0 &&
		    input->records[i].host[0] != '\0')
			out[n++] = input->records[i];
	if (n == 0)
		return MX_PLAN_NULL_MX;
	qsort(out, n, sizeof(*out), by_preference);
	/* RFC 5321 5.1: if we are an MX, only strictly better hosts remain. */
	for (size_t i = 0; i < n; i++) {
		if (input->is_self && input->is_self(out[i].host, input->self_ctx)) {
			uint16_t own = out[i].preference;
			size_t keep = 0;
			while (keep < n && out[keep].preference < own)
				keep++;
			n = keep;
			break;
		}
	}
	if (n == 0)
		return MX_PLAN_LOOP;
	shuffle_equal(out, n, input);
	*out_count = n;
	return MX_PLAN_OK;
}
