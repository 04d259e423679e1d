/*
 * fsutil.h — small blocking file-system helpers. They block: call them
 * at start-up or from I/O threads, never from an event loop callback.
 */
#ifndef PETREL_FSUTIL_H
#define PETREL_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p with mode for the directories it creates. */
int fs_mkdir_p(const char *path, mode_t mode, const char **error_r);
/* Writes all of data, retrying on EINTR and short writes. */
int fs_write_all(int fd, const void *data, size_t len);
/* fsync() of a directory, so that a rename/link in it is durable. */
int fs_fsync_dir(const char *path, const char **error_r);
/* Reads a whole file into *data_r (malloc'd, NUL-terminated). */
int fs_read_file(const char *path, char **data_r, size_t *len_r, const char **error_r);

#endif
