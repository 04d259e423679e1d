/*
 * imap_utf7.c — modified UTF-7 and mailbox names (see imap_utf7.h).
 */
#include "proto/imap_utf7.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "proto/utf8.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
	const char *at = c ? memchr(b64, c, 64) : NULL;
	return at ? (int)(at - b64) : -1;
}

/* Appends code point cp as UTF-8; false when out is full. */
static bool put_utf8(uint32_t cp, char *out, size_t *n)
{
	unsigned char b[4];
	size_t len;
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		len = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		len = 4;
	}
	if (*n + len > IMAP_MAILBOX_NAME_MAX)
		return false;
	memcpy(out + *n, b, len);
	*n += len;
	return true;
}

/* One "&...-" run: base64 of UTF-16BE. *i is just past the "&"; on
 * return, just past the "-". */
static int decode_run(const char *in, size_t len, size_t *i, char *out, size_t *n,
                      const char **error_r)
{
	uint32_t bits = 0, high = 0;
	unsigned nbits = 0, units = 0;
	for (; *i < len && in[*i] != '-'; (*i)++) {
		int v = b64_value((unsigned char)in[*i]);
		if (v < 0) {
			*error_r = "invalid modified UTF-7 (a character outside base64)";
			return -1;
		}
		bits = bits << 6 | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = bits >> nbits & 0xffff;
		bits &= (1u << nbits) - 1;
		units++;
		if (high) {
			if (unit < 0xdc00 || unit > 0xdfff) {
				*error_r = "invalid modified UTF-7 (a lone surrogate)";
				return -1;
			}
			if (!put_utf8(0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00),
			              out, n))
				goto too_long;
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			*error_r = "invalid modified UTF-7 (a lone surrogate)";
			return -1;
		} else if (unit >= 0x20 && unit <= 0x7e) {
			*error_r = "invalid modified UTF-7 (printable ASCII encoded)";
			return -1;
		} else if (unit == 0) {
			*error_r = "invalid mailbox name (NUL)";
			return -1;
		} else if (unit < 0x20 || (unit >= 0x7f && unit < 0xa0)) {
			*error_r = "invalid mailbox name (control character)";
			return -1;
		} else if (!put_utf8(unit, out, n)) {
			goto too_long;
		}
	}
	if (*i >= len) {
		*error_r = "invalid modified UTF-7 (no - after the base64)";
		return -1;
	}
	(*i)++; /* the "-" */
	if (high) {
		*error_r = "invalid modified UTF-7 (a lone surrogate)";
		return -1;
	}
	if (units == 0 || nbits >= 6 || bits != 0) {
		*error_r = "invalid modified UTF-7 (bad base64 length or padding)";
		return -1;
	}
	if (*i < len && in[*i] == '&' && (*i + 1 >= len || in[*i + 1] != '-')) {
		*error_r = "invalid modified UTF-7 (adjacent encoded runs)";
		return -1;
	}
	return 0;
too_long:
	*error_r = "mailbox name too long";
	return -1;
}

int imap_utf7_decode(const char *in, size_t len, char *out, const char **error_r)
{
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x20 || c > 0x7e) {
			*error_r = "invalid mailbox name (8-bit or control octet; use "
			           "modified UTF-7)";
			return -1;
		}
		if (c != '&') {
			if (n + 1 > IMAP_MAILBOX_NAME_MAX) {
				*error_r = "mailbox name too long";
				return -1;
			}
			out[n++] = (char)c;
			i++;
			continue;
		}
		i++;
		if (i < len && in[i] == '-') {
			if (n + 1 > IMAP_MAILBOX_NAME_MAX) {
				*error_r = "mailbox name too long";
				return -1;
			}
			out[n++] = '&';
			i++;
			continue;
		}
		if (decode_run(in, len, &i, out, &n, error_r) < 0)
			return -1;
	}
	out[n] = '\0';
	return 0;
}

/* The code point of the UTF-8 sequence at s (already validated). */
static uint32_t utf8_decode_one(const unsigned char *s, size_t seq)
{
	if (seq == 1)
		return s[0];
	if (seq == 2)
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	if (seq == 3)
		return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 |
		       (s[2] & 0x3f);
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	       (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

int imap_utf7_encode(const char *in, size_t len, char *out, size_t out_size,
                     const char **error_r)
{
	size_t n = 0;
	uint32_t bits = 0;
	unsigned nbits = 0;
	bool open = false;
#define PUT(ch)                                                                          \
	do {                                                                             \
		if (n + 2 > out_size)                                                    \
			goto too_long;                                                   \
		out[n++] = (ch);                                                         \
	} while (0)
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 0x20 && c <= 0x7e) {
			if (open) {
				if (nbits)
					PUT(b64[bits << (6 - nbits) & 0x3f]);
				PUT('-');
				open = false;
				bits = nbits = 0;
			}
			PUT((char)c);
			if (c == '&')
				PUT('-');
			i++;
			continue;
		}
		size_t seq = utf8_sequence_length(in + i, len - i);
		if (seq == 0 || c < 0x20) {
			*error_r = c < 0x20 ? "invalid mailbox name (control character)"
			                    : "invalid UTF-8 in mailbox name";
			return -1;
		}
		uint32_t cp = utf8_decode_one((const unsigned char *)in + i, seq);
		i += seq;
		if (c == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			*error_r = "invalid mailbox name (control character)";
			return -1;
		}
		if (!open) {
			PUT('&');
			open = true;
		}
		uint32_t units[2];
		int count = 1;
		if (cp >= 0x10000) {
			units[0] = 0xd800 + ((cp - 0x10000) >> 10);
			units[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
			count = 2;
		} else {
			units[0] = cp;
		}
		for (int u = 0; u < count; u++) {
			bits = bits << 16 | units[u];
			nbits += 16;
			while (nbits >= 6) {
				nbits -= 6;
				PUT(b64[bits >> nbits & 0x3f]);
			}
			bits &= (1u << nbits) - 1;
		}
	}
	if (open) {
		if (nbits)
			PUT(b64[bits << (6 - nbits) & 0x3f]);
		PUT('-');
	}
#undef PUT
	out[n] = '\0';
	return 0;
too_long:
	*error_r = "mailbox name too long";
	return -1;
}

int imap_mailbox_name_check(const char *name, char separator, const char **error_r)
{
	size_t len = strlen(name);
	if (len == 0 || len > IMAP_MAILBOX_NAME_MAX) {
		*error_r = len ? "mailbox name too long" : "empty mailbox name";
		return -1;
	}
	if (!utf8_valid(name, len)) {
		*error_r = "invalid UTF-8 in mailbox name";
		return -1;
	}
	if (name[0] == separator || name[0] == '~' || name[0] == '/') {
		*error_r = "mailbox name starts with a separator, / or ~";
		return -1;
	}
	static const char *const reserved[] = {".", "..", "tmp", "new", "cur"};
	for (const char *level = name; level;) {
		const char *end = strchr(level, separator);
		size_t n = end ? (size_t)(end - level) : strlen(level);
		if (n == 0) {
			*error_r = "empty level in mailbox name";
			return -1;
		}
		for (size_t r = 0; r < sizeof(reserved) / sizeof(reserved[0]); r++)
			if (n == strlen(reserved[r]) &&
			    memcmp(level, reserved[r], n) == 0) {
				*error_r = "reserved mailbox name";
				return -1;
			}
		level = end ? end + 1 : NULL;
	}
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			*error_r = "control character in mailbox name";
			return -1;
		}
		if (*p == '%' || *p == '*') {
			*error_r = "wildcard in mailbox name";
			return -1;
		}
		if (*p == '/' && separator != '/') {
			*error_r = "/ in mailbox name";
			return -1;
		}
	}
	return 0;
}
