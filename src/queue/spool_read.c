/*
 * spool_read.c — reading spool files (see spool_read.h).
 */
#include "queue/spool_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"

/* More envelope than any message of ours has (recipients are bounded by
 * limits.recipients, the header section by limits.header_size). */
#define TRAILER_MAX (64u * 1024 * 1024)

static int read_at(int fd, char *out, size_t len, uint64_t offset)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, out + done, len - done, (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* shorter than it said */
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* The end of the file, where footer and envelope are, in one read; it
 * holds the magic at the start too when the file is small. */
#define TAIL_MAX (16u * 1024)

struct tail {
	char data[TAIL_MAX];
	uint64_t start, size;
};

/* len octets at offset, from the tail when it holds them. */
static int read_part(int fd, const struct tail *t, char *out, size_t len, uint64_t offset)
{
	if (offset >= t->start && offset + len <= t->size) {
		memcpy(out, t->data + (offset - t->start), len);
		return 0;
	}
	return read_at(fd, out, len, offset);
}

static int read_whole(const char *path, struct spool_entry *e, const char **error_r)
{
	size_t len;
	if (fs_read_file(path, &e->data, &len, error_r) < 0)
		return -1;
	e->whole = true;
	if (envelope_parse(e->data, len, &e->env, &e->layout, error_r) < 0) {
		x_free(&e->data);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int spool_entry_read(const char *path, struct spool_entry *e, const char **error_r)
{
	memset(e, 0, sizeof(*e));
	e->fd = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = error_errno(path);
		return -1;
	}
	struct stat st;
	char magic[SPOOL_MAGIC_LEN], footer[SPOOL_FOOTER_LEN];
	uint64_t size = 0, offset;
	static _Thread_local struct tail tail;
	int r = -1;
	if (fstat(fd, &st) < 0) {
		*error_r = error_errno(path);
		goto out;
	}
	size = (uint64_t)st.st_size;
	tail.size = size;
	tail.start = size > TAIL_MAX ? size - TAIL_MAX : 0;
	if (read_at(fd, tail.data, (size_t)(size - tail.start), tail.start) < 0) {
		*error_r = error_errno(path);
		goto out;
	}
	if (size < sizeof(magic) || read_part(fd, &tail, magic, sizeof(magic), 0) < 0) {
		*error_r = "spool file cut short";
		errno = EINVAL;
		goto out;
	}
	if (memcmp(magic, "PETREL-SPOOL 2\n", sizeof(magic)) != 0) {
		close(fd);
		return read_whole(path, e, error_r); /* version 1, or garbage */
	}
	if (size < SPOOL_MAGIC_LEN + SPOOL_FOOTER_LEN ||
	    read_part(fd, &tail, footer, sizeof(footer), size - SPOOL_FOOTER_LEN) < 0 ||
	    envelope_trailer_offset(footer, size, &offset) < 0) {
		*error_r = "spool file without a valid end (cut short?)";
		errno = EINVAL;
		goto out;
	}
	size_t trailer_len = (size_t)(size - SPOOL_FOOTER_LEN - offset);
	if (trailer_len > TRAILER_MAX) {
		*error_r = "spool file envelope too large";
		errno = EINVAL;
		goto out;
	}
	e->data = xmalloc(trailer_len + 1);
	if (read_part(fd, &tail, e->data, trailer_len, offset) < 0) {
		*error_r = error_errno(path);
		goto out;
	}
	if (envelope_parse_trailer(e->data, trailer_len, offset, &e->env, &e->layout,
	                           error_r) < 0) {
		errno = EINVAL;
		goto out;
	}
	r = 0;
out:
	if (r < 0) {
		close(fd);
		x_free(&e->data);
	} else {
		/* Kept for spool_entry_source(): one open per delivery. */
		e->fd = fd;
		e->message_size = e->layout.header_len + e->layout.body_len;
	}
	return r;
}

int spool_entry_source(const char *path, struct spool_entry *e,
                       struct message_source *source, const char **error_r)
{
	memset(source, 0, sizeof(*source));
	source->header = e->layout.header;
	source->header_len = e->layout.header_len;
	source->body_offset = e->layout.body_offset;
	source->body_len = e->layout.body_len;
	source->fd = -1;
	if (e->whole) {
		source->body = e->data + e->layout.body_offset;
		source->body_offset = 0;
		return 0;
	}
	if (e->fd < 0)
		e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0) {
		*error_r = error_errno(path);
		return -1;
	}
	source->fd = e->fd;
	return 0;
}

void spool_entry_clear(struct spool_entry *e)
{
	envelope_clear(&e->env);
	x_free(&e->data);
	e->message_size = 0;
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}
