/*
 * buf.c — growable length-carrying buffer (see buf.h).
 */
#include "lib/buf.h"

#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"

void buf_reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need < b->len)
		log_msg(L_PANIC, "event=buffer-overflow len=%zu", b->len);
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap * 2 > cap ? cap * 2 : need;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_append_str(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_append_char(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void buf_vappendf(struct buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	char small[256];
	int n = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		buf_append(b, small, (size_t)n);
		return;
	}
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vappendf(b, fmt, ap);
	va_end(ap);
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	x_free(&b->data);
	b->len = b->cap = 0;
}

const char *buf_cstr(const struct buf *b)
{
	return b->data ? b->data : "";
}

void buf_append_quoted(struct buf *b, const char *s, size_t len)
{
	int plain = len > 0;
	for (size_t i = 0; i < len && plain; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == '"' || c == '\\' || c == '=' || c >= 0x7f)
			plain = 0;
	}
	if (plain) {
		buf_append(b, s, len);
		return;
	}
	/* Peer-controlled text must never forge a second log line or field. */
	buf_append_char(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_appendf(b, "\\%c", c);
		else if (c < ' ' || c == 0x7f)
			buf_appendf(b, "\\x%02x", c);
		else
			buf_append_char(b, (char)c);
	}
	buf_append_char(b, '"');
}
