/*
 * fuzz-imap_match.c — libFuzzer target: LIST pattern matching against a
 * plain recursive reference (memoised, on short inputs). The input is
 * "pattern NUL name".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/imap_match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The plain recursive definition, memoised on (pattern, name) offsets:
 * without it, ten wildcards against a 30-octet name took 14 s. */
static const char *pattern_start, *name_start;
static signed char memo[48][48]; /* 0 unknown, 1 false, 2 true */

static bool reference(const char *p, const char *s)
{
	signed char *m = &memo[p - pattern_start][s - name_start];
	if (*m)
		return *m == 2;
	bool r;
	if (*p == '\0')
		r = *s == '\0';
	else if (*p == '*')
		r = reference(p + 1, s) || (*s && reference(p, s + 1));
	else if (*p == '%')
		r = reference(p + 1, s) || (*s && *s != '.' && reference(p, s + 1));
	else
		r = *s == *p && reference(p + 1, s + 1);
	*m = r ? 2 : 1;
	return r;
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
	pattern_start = pattern;
	name_start = name;
	memset(memo, 0, sizeof(memo));
	if (imap_match(pattern, name, '.') != reference(pattern, name))
		abort();
	return 0;
}
