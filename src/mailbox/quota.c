/*
 * quota.c — the maildirsize file (see quota.h).
 */
#include "mailbox/quota.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/fsutil.h"
#include "proto/maildir_name.h"

/* Past this, the file is recalculated (the Maildir++ rule). */
#define MAILDIRSIZE_MAX 5120

static void file_path(struct buf *out, const char *root)
{
	buf_appendf(out, "%s/maildirsize", root);
}

/* Adds up one Maildir's new/ and cur/. */
static void count_maildir(const char *dir, uint64_t *bytes, uint64_t *count)
{
	static const char *const subdirs[] = {"new", "cur"};
	for (int i = 0; i < 2; i++) {
		struct buf path = BUF_INIT;
		buf_appendf(&path, "%s/%s", dir, subdirs[i]);
		DIR *d = opendir(path.data);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			struct maildir_name name;
			const char *error;
			if (e->d_name[0] == '.' ||
			    maildir_name_parse(e->d_name, strlen(e->d_name), &name,
			                       &error) < 0)
				continue;
			if (!name.has_size) {
				struct buf file = BUF_INIT;
				struct stat st;
				buf_appendf(&file, "%s/%s", path.data, e->d_name);
				name.size =
				    stat(file.data, &st) == 0 ? (uint64_t)st.st_size : 0;
				buf_free(&file);
			}
			*bytes += name.size;
			(*count)++;
		}
		if (d)
			closedir(d);
		buf_free(&path);
	}
}

static int recalculate(const char *root, uint64_t limit, uint64_t *bytes_r,
                       uint64_t *count_r, const char **error_r)
{
	uint64_t bytes = 0, count = 0;
	count_maildir(root, &bytes, &count);
	DIR *d = opendir(root);
	if (d == NULL && errno == ENOENT) {
		*bytes_r = *count_r = 0; /* no mail yet */
		return 0;
	}
	if (d == NULL) {
		*error_r = error_errno(root);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' || e->d_name[1] == '\0' || e->d_name[1] == '.')
			continue;
		struct buf dir = BUF_INIT;
		buf_appendf(&dir, "%s/%s", root, e->d_name);
		count_maildir(dir.data, &bytes, &count);
		buf_free(&dir);
	}
	closedir(d);
	struct buf text = BUF_INIT, tmp = BUF_INIT, final = BUF_INIT;
	buf_appendf(&text, "%" PRIu64 "S\n%" PRIu64 " %" PRIu64 "\n", limit, bytes,
	            count);
	buf_appendf(&tmp, "%s/tmp/maildirsize.%d", root, (int)getpid());
	file_path(&final, root);
	/* Replaced whole: a concurrent append to the old file is lost, which
	 * the next recalculation repairs (the Maildir++ trade-off). */
	int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (fs_write_all(fd, text.data, text.len) < 0 ||
		    rename(tmp.data, final.data) < 0)
			unlink(tmp.data);
		close(fd);
	}
	buf_free(&text);
	buf_free(&tmp);
	buf_free(&final);
	*bytes_r = bytes;
	*count_r = count;
	return 0;
}

/* Sums the maildirsize file: 1 and the usage, 0 when it must be
 * recounted (missing, too long, another limit, lost updates). */
static int read_usage(const char *root, const uint64_t *limit, uint64_t *bytes_r,
                      uint64_t *count_r)
{
	struct buf path = BUF_INIT;
	file_path(&path, root);
	char *text = NULL;
	size_t len = 0;
	const char *error;
	int r = fs_read_file(path.data, &text, &len, &error);
	buf_free(&path);
	char *line = text ? strchr(text, '\n') : NULL;
	uint64_t written_limit = text ? strtoull(text, NULL, 10) : 0;
	if (r < 0 || line == NULL || len > MAILDIRSIZE_MAX ||
	    (limit && written_limit != *limit)) {
		free(text);
		return 0;
	}
	int64_t bytes = 0, count = 0;
	for (line++; *line;) {
		char *end = strchr(line, '\n');
		if (end == NULL)
			break; /* a change still being written */
		long long b, c;
		if (sscanf(line, "%lld %lld", &b, &c) == 2) {
			bytes += b;
			count += c;
		}
		line = end + 1;
	}
	free(text);
	if (bytes < 0 || count < 0)
		return 0;
	*bytes_r = (uint64_t)bytes;
	*count_r = (uint64_t)count;
	return 1;
}

int mail_quota_usage(const char *root, uint64_t limit, uint64_t *bytes_r,
                     uint64_t *count_r, const char **error_r)
{
	if (read_usage(root, &limit, bytes_r, count_r) > 0)
		return 0;
	return recalculate(root, limit, bytes_r, count_r, error_r);
}

int mail_quota_peek(const char *root, uint64_t *bytes_r)
{
	uint64_t count;
	return read_usage(root, NULL, bytes_r, &count);
}

void mail_quota_add(const char *root, int64_t bytes, int64_t count)
{
	struct buf path = BUF_INIT;
	file_path(&path, root);
	int fd = open(path.data, O_WRONLY | O_APPEND | O_CLOEXEC);
	buf_free(&path);
	if (fd < 0)
		return;
	char line[64];
	int n = snprintf(line, sizeof(line), "%lld %lld\n", (long long)bytes,
	                 (long long)count);
	/* One write with O_APPEND: lines from several processes never mix. */
	if (write(fd, line, (size_t)n) < 0) {
		/* the next recalculation counts it */
	}
	close(fd);
}

int mail_quota_check(const char *root, uint64_t limit, uint64_t bytes,
                     const char **error_r)
{
	if (limit == 0)
		return 0;
	uint64_t used, count;
	if (mail_quota_usage(root, limit, &used, &count, error_r) < 0)
		return -1;
	return used + bytes > limit ? 1 : 0;
}
