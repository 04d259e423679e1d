/*
 * imap_subject.c — RFC 5256 base subject (see imap_subject.h), steps
 * (1, whitespace only) to (6) of its section 2.1, on a working copy.
 */
#include "proto/imap_subject.h"

#include <string.h>
#include <strings.h>

static bool wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* subj-blob: "[" *BLOBCHAR "]" *WSP at s; its length, or 0. */
static size_t blob(const char *s, size_t len)
{
	if (len == 0 || s[0] != '[')
		return 0;
	size_t i = 1;
	while (i < len && s[i] != '[' && s[i] != ']')
		i++;
	if (i >= len || s[i] != ']')
		return 0;
	i++;
	while (i < len && wsp(s[i]))
		i++;
	return i;
}

/* subj-refwd: ("re" / "fw" ["d"]) *WSP [subj-blob] ":"; length or 0. */
static size_t refwd(const char *s, size_t len)
{
	size_t i;
	if (len >= 2 && strncasecmp(s, "re", 2) == 0)
		i = 2;
	else if (len >= 3 && strncasecmp(s, "fwd", 3) == 0)
		i = 3;
	else if (len >= 2 && strncasecmp(s, "fw", 2) == 0)
		i = 2;
	else
		return 0;
	while (i < len && wsp(s[i]))
		i++;
	i += blob(s + i, len - i);
	return i < len && s[i] == ':' ? i + 1 : 0;
}

/* subj-leader: (*subj-blob subj-refwd) / WSP; length or 0. */
static size_t leader(const char *s, size_t len, bool *refwd_seen)
{
	if (len > 0 && wsp(s[0]))
		return 1;
	size_t i = 0, b;
	while ((b = blob(s + i, len - i)) > 0)
		i += b;
	size_t r = refwd(s + i, len - i);
	if (r == 0)
		return 0;
	*refwd_seen = true;
	return i + r;
}

size_t imap_base_subject(const char *subject, size_t len, char *out, size_t size,
                         bool *reply_r)
{
	*reply_r = false;
	if (size == 0)
		return 0;
	/* (1) whitespace runs (folding included) to one space */
	size_t n = 0;
	bool space = false;
	for (size_t i = 0; i < len && n + 1 < size; i++) {
		char c = subject[i];
		if (c == '\r' || c == '\n' || wsp(c)) {
			space = true;
			continue;
		}
		if (space && n > 0)
			out[n++] = ' ';
		space = false;
		if (n + 1 < size)
			out[n++] = c;
	}
	char *s = out;
	bool changed = true;
	while (changed) {
		changed = false;
		/* (2) trailers: "(fwd)" and whitespace */
		for (;;) {
			while (n > 0 && wsp(s[n - 1]))
				n--;
			if (n >= 5 && strncasecmp(s + n - 5, "(fwd)", 5) == 0) {
				n -= 5;
				*reply_r = true;
				continue;
			}
			break;
		}
		/* (3)-(4) leaders, and a leading blob when something is left */
		bool again = true;
		while (again) {
			again = false;
			size_t l;
			while ((l = leader(s, n, reply_r)) > 0) {
				memmove(s, s + l, n - l);
				n -= l;
				again = true;
			}
			size_t b = blob(s, n);
			if (b > 0 && b < n) {
				memmove(s, s + b, n - b);
				n -= b;
				again = true;
			}
		}
		/* (5) "[fwd:" ... "]" around all of it */
		if (n >= 6 && strncasecmp(s, "[fwd:", 5) == 0 && s[n - 1] == ']') {
			memmove(s, s + 5, n - 6);
			n -= 6;
			*reply_r = true;
			changed = true;
		}
	}
	s[n] = '\0';
	return n;
}
