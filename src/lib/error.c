/*
 * error.c — formatted error strings for the error_r convention.
 */
#include "lib/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *error_fmt(const char *fmt, ...)
{
	static __thread char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return message;
}

const char *error_errno(const char *what)
{
	return error_fmt("%s: %s", what, strerror(errno));
}
