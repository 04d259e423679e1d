/*
 * error.c — formatted error strings for the error_r convention.
 */
#include "lib/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A few buffers used in turn, so that an earlier result may be an
 * argument of the next call ("migration 2: %s", *error_r) without the
 * formatter reading the buffer it is writing. */
#define ERROR_SLOTS 4

const char *error_fmt(const char *fmt, ...)
{
	static __thread char messages[ERROR_SLOTS][1024];
	static __thread unsigned next;
	char *message = messages[next++ % ERROR_SLOTS];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(messages[0]), fmt, ap);
	va_end(ap);
	return message;
}

const char *error_errno(const char *what)
{
	return error_fmt("%s: %s", what, strerror(errno));
}
