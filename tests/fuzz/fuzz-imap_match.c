/*
 * fuzz-imap_match.c — libFuzzer target: LIST pattern matching against a
 * plain recursive reference (kept to short inputs, where its exponential
 * worst case is still quick). The input is "pattern NUL name".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/imap_match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool reference(const char *p, const char *s)
{
	if (*p == '\0')
		return *s == '\0';
	if (*p == '*')
		return reference(p + 1, s) || (*s && reference(p, s + 1));
	if (*p == '%')
		return reference(p + 1, s) || (*s && *s != '.' && reference(p, s + 1));
	return *s == *p && reference(p + 1, s + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 40)
		return 0;
	char buf[48];
	memcpy(buf, data, size);
	buf[size] = '\0';
	const char *pattern = buf;
	size_t plen = strlen(pattern);
	if (plen >= size)
		return 0;
	const char *name = buf + plen + 1;
	unsigned wild = 0;
	for (const char *c = pattern; *c; c++)
		wild += *c == '*' || *c == '%';
	if (wild > 10)
		return 0;
	/* INBOX's case is the matcher's business: leave it out here */
	if (strncasecmp(pattern, "inbox", 5) == 0 || strncasecmp(name, "inbox", 5) == 0)
		return 0;
	if (imap_match(pattern, name, '.') != reference(pattern, name))
		abort();
	return 0;
}
