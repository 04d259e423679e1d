/*
 * maildir_name.h — the names of Maildir files (cr.yp.to/proto/maildir.html,
 * Dovecot's and Courier's extensions): a unique base, optional ",S=size"
 * and ",W=virtual size" inside it, then ":2," and the flags, uppercase
 * for the standard ones and a-z for keywords (dovecot-keywords numbers
 * them). Pure.
 */
#ifndef PETREL_MAILDIR_NAME_H
#define PETREL_MAILDIR_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAILDIR_NAME_MAX 255

/* The standard flags, as letters of the upper mask. */
#define MAILDIR_FLAG(letter) (1u << ((letter) - 'A'))
#define MAILDIR_DRAFT        MAILDIR_FLAG('D')
#define MAILDIR_FLAGGED      MAILDIR_FLAG('F')
#define MAILDIR_PASSED       MAILDIR_FLAG('P')
#define MAILDIR_REPLIED      MAILDIR_FLAG('R')
#define MAILDIR_SEEN         MAILDIR_FLAG('S')
#define MAILDIR_TRASHED      MAILDIR_FLAG('T')

struct maildir_name {
	const char *base; /* the name up to ":2," (points into the name) */
	size_t base_len;
	bool has_size, has_vsize;
	uint64_t size, vsize; /* ,S= and ,W= in the base */
	bool has_info;        /* ":2," was there */
	uint32_t upper;       /* flags A-Z: MAILDIR_SEEN ... */
	uint32_t keywords;    /* a-z: keyword 0-25 of dovecot-keywords */
};

/* 0, or -1 with *error_r: empty, too long, a "/" or NUL or a leading
 * ".", a flag that is not a letter. */
int maildir_name_parse(const char *name, size_t len, struct maildir_name *out,
                       const char **error_r);

/* base ":2," flags (in ASCII order, as the spec wants) into out[size]:
 * the length, or 0 if it does not fit. */
size_t maildir_name_format(const struct maildir_name *name, char *out, size_t size);

#endif
