/*
 * utf8.c — strict UTF-8 validation (see utf8.h).
 */
#include "proto/utf8.h"

size_t utf8_sequence_length(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	if (len == 0)
		return 0;
	if (u[0] < 0x80)
		return 1;
	size_t n;
	unsigned min;
	unsigned cp;
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		n = 2, min = 0x80, cp = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		n = 3, min = 0x800, cp = u[0] & 0x0f;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		n = 4, min = 0x10000, cp = u[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (u[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool utf8_valid(const char *s, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		size_t n = utf8_sequence_length(s + pos, len - pos);
		if (n == 0)
			return false;
		pos += n;
	}
	return true;
}

bool utf8_is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}
