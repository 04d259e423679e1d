/*
 * xalloc.c — allocation wrappers that abort on exhaustion (see xalloc.h).
 */
#include "lib/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

static void *checked(void *p, size_t size)
{
	if (p == NULL && size != 0)
		log_msg(L_PANIC, "event=out-of-memory size=%zu", size);
	return p;
}

void *xmalloc(size_t size)
{
	return checked(malloc(size ? size : 1), size);
}

void *xcalloc(size_t count, size_t size)
{
	return checked(calloc(count ? count : 1, size ? size : 1), count * size);
}

void *xrealloc(void *ptr, size_t size)
{
	return checked(realloc(ptr, size ? size : 1), size);
}

char *xstrndup(const char *s, size_t len)
{
	char *copy = xmalloc(len + 1);
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

void xgrow(void **array, size_t *cap, size_t need, size_t elem_size)
{
	if (need <= *cap)
		return;
	size_t new_cap = *cap ? *cap : 8;
	while (new_cap < need) {
		if (new_cap > SIZE_MAX / 2 / elem_size)
			log_msg(L_PANIC, "event=allocation-overflow need=%zu", need);
		new_cap *= 2;
	}
	*array = xrealloc(*array, new_cap * elem_size);
	*cap = new_cap;
}
