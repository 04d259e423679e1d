/*
 * error.h — the error convention of petrel.
 *
 * Functions that can fail return 0 on success and -1 on failure, and give
 * the reason through a `const char **error_r` out-parameter. The string is
 * either static or made with error_fmt(), which formats into one of a
 * few thread-local buffers used in turn: a result stays valid across the
 * next error_fmt() (which may take it as an argument), but not for long;
 * callers log it or copy it before doing anything else that could fail.
 */
#ifndef PETREL_ERROR_H
#define PETREL_ERROR_H

const char *error_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* error_fmt("%s: %s", what, strerror(errno)) */
const char *error_errno(const char *what);

#endif
