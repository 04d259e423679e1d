/*
 * maildir.c — Maildir delivery (see maildir.h).
 */
#include "mailbox/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/dirsync.h"
#include "lib/error.h"
#include "lib/pid.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"

int maildir_create(const char *dir, const char **error_r)
{
	/* tmp/ last: a delivery that finds tmp/ may rely on new/ existing
	 * (concurrent first deliveries into a new Maildir raced on this). */
	static const char *const subdirs[] = {"new", "cur", "tmp"};
	struct buf path = BUF_INIT;
	int r = 0;
	for (int i = 0; i < 3 && r == 0; i++) {
		buf_reset(&path);
		buf_appendf(&path, "%s/%s", dir, subdirs[i]);
		r = fs_mkdir_p(path.data, 0700, error_r);
	}
	buf_free(&path);
	return r;
}

/* The Maildir spec: '/' and ':' in the host name are written as \057
 * and \072 so that the name stays one path component. */
static void append_host(struct buf *out, const char *hostname)
{
	for (const char *p = hostname; *p; p++) {
		if (*p == '/')
			buf_append_str(out, "\\057");
		else if (*p == ':')
			buf_append_str(out, "\\072");
		else
			buf_append_char(out, *p);
	}
}

void maildir_user_root(const char *home, const char *user, struct buf *out)
{
	const char *at = strrchr(user, '@');
	buf_reset(out);
	if (at)
		buf_appendf(out, "%s/mail/%s/%.*s", home, at + 1, (int)(at - user), user);
	else
		buf_appendf(out, "%s/mail/%s", home, user);
}

void maildir_unique_base(struct buf *out, const char *hostname)
{
	static atomic_uint counter;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	buf_appendf(out, "%lld.M%ldP%dQ%u.", (long long)tv.tv_sec, (long)tv.tv_usec,
	            (int)pid_current(), atomic_fetch_add(&counter, 1) + 1);
	append_host(out, hostname);
}

/* Copies the message into fd, a piece at a time. */
static int copy_message(int fd, const struct message_source *message)
{
	enum { PIECE = 128 * 1024 };
	char *piece = xmalloc(PIECE);
	uint64_t pos = 0;
	int r = 0;
	for (;;) {
		ssize_t n = message_source_read(message, pos, piece, PIECE);
		if (n <= 0) {
			r = (int)n;
			break;
		}
		if (fs_write_all(fd, piece, (size_t)n) < 0) {
			r = -1;
			break;
		}
		pos += (uint64_t)n;
	}
	free(piece);
	return r;
}

int maildir_deliver(const char *dir, const char *hostname, const char *head,
                    size_t head_len, const struct message_source *message, char *name_r,
                    const char **error_r)
{
	uint64_t message_len = message_source_size(message);
	struct buf name = BUF_INIT, tmp = BUF_INIT, new = BUF_INIT;
	maildir_unique_base(&name, hostname);
	/* SMTP delivers CRLF lines only, so the size with CRLF (W=, what
	 * IMAP's RFC822.SIZE says) is the file's size (S=). */
	buf_appendf(&name, ",S=%llu,W=%llu", (unsigned long long)(head_len + message_len),
	            (unsigned long long)(head_len + message_len));
	buf_appendf(&tmp, "%s/tmp/%s", dir, name.data);
	buf_appendf(&new, "%s/new/%s", dir, name.data);
	int result = -1;
	int fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && maildir_create(dir, error_r) == 0)
		fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = error_errno(tmp.data);
		goto out;
	}
	/* Complete and on disk in tmp/ before the name appears in new/: a
	 * reader (or a crash) never finds half a message there. Then the
	 * directory sync makes the name durable; concurrent deliveries to
	 * this Maildir share it. Done only once both returned. */
	bool renamed = false;
	if (fs_write_all(fd, head, head_len) < 0 || copy_message(fd, message) < 0 ||
	    fdatasync(fd) < 0) {
		*error_r = error_errno(tmp.data);
		goto fail;
	}
	int r = rename(tmp.data, new.data);
	if (r < 0 && errno == ENOENT && maildir_create(dir, error_r) == 0)
		r = rename(tmp.data, new.data); /* a Maildir with tmp/ but no new/ */
	if (r < 0) {
		*error_r = error_errno(new.data);
		goto fail;
	}
	renamed = true;
	buf_reset(&tmp);
	buf_appendf(&tmp, "%s/new", dir);
	if (dirsync_after_change(tmp.data, error_r) < 0)
		goto fail;
	close(fd);
	fd = -1;
	snprintf(name_r, 256, "%s", name.data);
	result = 0;
	goto out;
fail:
	/* Not durable: take it back; the delivery is retried later. */
	unlink(renamed ? new.data : tmp.data);
	close(fd);
out:
	buf_free(&name);
	buf_free(&tmp);
	buf_free(&new);
	return result;
}
