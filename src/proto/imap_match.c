/*
 * imap_match.c — LIST pattern matching (see imap_match.h).
 */
#include "proto/imap_match.h"

#include <stddef.h>
#include <strings.h>

/* "INBOX" at the start of a name, any case, as a whole first level. */
static size_t inbox_prefix(const char *s, char separator)
{
	return strncasecmp(s, "INBOX", 5) == 0 && (s[5] == '\0' || s[5] == separator) ? 5
	                                                                              : 0;
}

/*
 * Matching with backtracking limited to the last wildcard seen: with "*"
 * the next try moves the resume point one character on; with "%" too,
 * but never across a separator. A "%" after a "*" needs its own resume
 * point, which is why both are kept; each character of the name is
 * passed over at most once per resume point kept, and each pattern
 * position re-tried at most once per name position: O(p x n).
 */
static bool match(const char *p, const char *s, char separator)
{
	const char *star_p = NULL, *star_s = NULL;
	const char *pct_p = NULL, *pct_s = NULL;
	while (*s) {
		if (*p == '*') {
			star_p = ++p;
			star_s = s;
			pct_p = NULL;
			continue;
		}
		if (*p == '%') {
			pct_p = ++p;
			pct_s = s;
			continue;
		}
		if (*p && *p == *s) {
			p++;
			s++;
			continue;
		}
		/* a mismatch: widen the latest wildcard by one character */
		if (pct_p && *pct_s != separator) {
			p = pct_p;
			s = ++pct_s;
			continue;
		}
		if (star_p) {
			p = star_p;
			s = ++star_s;
			pct_p = NULL;
			continue;
		}
		return false;
	}
	while (*p == '*' || *p == '%')
		p++;
	return *p == '\0';
}

bool imap_match(const char *pattern, const char *name, char separator)
{
	/* INBOX is case-insensitive: compare it in one case. */
	size_t pi = inbox_prefix(pattern, separator), ni = inbox_prefix(name, separator);
	if (pi && ni)
		return match(pattern + 5, name + 5, separator);
	return match(pattern, name, separator);
}
