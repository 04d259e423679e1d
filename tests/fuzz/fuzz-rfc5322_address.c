/*
 * fuzz-rfc5322_address.c — libFuzzer target: address lists. Whatever
 * comes in: every string fits RFC5322_PART_MAX, the reports stay within
 * RFC5322_ADDRESSES_MAX, groups open and close in turn (never nested,
 * none left open), and the count returned is the mailboxes reported.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rfc5322_address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	size_t calls, mailboxes;
	int open;
};

static void check(void *ctx, const struct rfc5322_address *a)
{
	struct seen *s = ctx;
	s->calls++;
	const char *parts[] = {a->name, a->route, a->local, a->domain};
	for (int i = 0; i < 4; i++)
		if (parts[i] &&
		    (parts[i][0] == '\0' || strlen(parts[i]) > RFC5322_PART_MAX))
			abort();
	if (a->kind == RFC5322_MAILBOX)
		s->mailboxes++;
	else if (a->kind == RFC5322_GROUP_START) {
		if (s->open)
			abort();
		s->open = 1;
	} else {
		if (!s->open)
			abort();
		s->open = 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = {0};
	size_t n = rfc5322_address_list((const char *)data, size, check, &s);
	if (n != s.mailboxes || s.calls > RFC5322_ADDRESSES_MAX ||
	    (s.open && s.calls < RFC5322_ADDRESSES_MAX))
		abort();
	return 0;
}
