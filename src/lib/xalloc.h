/*
 * xalloc.h — allocation that never fails silently.
 *
 * Out of memory is not something a mail server can limp on from: the
 * process logs and aborts, and the master restarts it. Callers therefore
 * never check these for NULL.
 */
#ifndef PETREL_XALLOC_H
#define PETREL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);

/* Grows *array (of *cap elements of elem_size) to hold at least need. */
void xgrow(void **array, size_t *cap, size_t need, size_t elem_size);

/* Frees *ptr and sets it to NULL. */
#define x_free(pp)                                                                       \
	do {                                                                             \
		free(*(pp));                                                             \
		*(pp) = NULL;                                                            \
	} while (0)

#endif
