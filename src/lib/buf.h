/*
 * buf.h — the one buffer/string type of petrel.
 *
 * A struct buf carries its length and capacity; its data is always
 * NUL-terminated after len (so it can be handed to C APIs) but may also
 * hold NUL bytes inside. Growth aborts on exhaustion (xalloc.h).
 */
#ifndef PETREL_BUF_H
#define PETREL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                                         \
	{                                                                                \
		NULL, 0, 0                                                               \
	}

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, const char *s);
void buf_append_char(struct buf *b, char c);
void buf_appendf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vappendf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Removes the first n bytes. */
void buf_consume(struct buf *b, size_t n);
void buf_truncate(struct buf *b, size_t len);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Returns the contents as a C string ("" for an empty buffer). */
const char *buf_cstr(const struct buf *b);
/* Appends s, quoted and escaped if needed, for key=value log lines. */
void buf_append_quoted(struct buf *b, const char *s, size_t len);

#endif
