/*
 * fuzz-maildir_name.c — libFuzzer target: Maildir file names. Whatever
 * comes in: a parsed name's base lies inside it and holds no "/", and
 * formatting it back and parsing that gives the same base and flags.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/maildir_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_name n, again;
	const char *error;
	if (maildir_name_parse((const char *)data, size, &n, &error) < 0)
		return 0;
	if (n.base != (const char *)data || n.base_len == 0 || n.base_len > size ||
	    memchr(n.base, '/', n.base_len))
		abort();
	char out[MAILDIR_NAME_MAX + 64];
	size_t len = maildir_name_format(&n, out, sizeof(out));
	if (len == 0)
		abort();
	if (len <= MAILDIR_NAME_MAX) {
		if (maildir_name_parse(out, len, &again, &error) < 0)
			abort();
		if (again.base_len != n.base_len ||
		    memcmp(again.base, n.base, n.base_len) || again.upper != n.upper ||
		    again.keywords != n.keywords)
			abort();
	}
	return 0;
}
