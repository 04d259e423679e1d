/*
 * fsutil.c — blocking file-system helpers (see fsutil.h).
 */
#include "lib/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/error.h"

int fs_mkdir_p(const char *path, mode_t mode, const char **error_r)
{
	struct buf partial = BUF_INIT;
	const char *p = path;
	int result = 0;
	do {
		const char *slash = strchr(p + 1, '/');
		size_t upto = slash ? (size_t)(slash - path) : strlen(path);
		buf_reset(&partial);
		buf_append(&partial, path, upto);
		if (mkdir(partial.data, mode) < 0 && errno != EEXIST) {
			*error_r = error_errno(partial.data);
			result = -1;
			break;
		}
		p = slash;
	} while (p != NULL);
	buf_free(&partial);
	return result;
}

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_fsync_dir(const char *path, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = error_errno(path);
		return -1;
	}
	int r = fsync(fd);
	if (r < 0)
		*error_r = error_errno(path);
	close(fd);
	return r;
}

int fs_read_file(const char *path, char **data_r, size_t *len_r, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = error_errno(path);
		return -1;
	}
	struct buf data = BUF_INIT;
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = error_errno(path);
			close(fd);
			buf_free(&data);
			return -1;
		}
		if (n == 0)
			break;
		buf_append(&data, chunk, (size_t)n);
	}
	close(fd);
	buf_reserve(&data, 0);
	*data_r = data.data;
	*len_r = data.len;
	return 0;
}
