/*
 * append.c — APPEND: a message written into a folder's tmp/ as the
 * client sends it, made durable, renamed into cur/ with its flags and
 * indexed with the next UID (see mailbox.h).
 *
 * The size with CRLF line ends is counted on the way (a client may send
 * bare LFs), so the file name carries both S= and W=.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/dirsync.h"
#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "mailbox/keywords.h"
#include "mailbox/mailbox.h"
#include "mailbox/maildir.h"
#include "mailbox/quota.h"
#include "mailbox/store_internal.h"
#include "mailbox/sync.h"
#include "proto/maildir_name.h"

struct mail_append {
	struct mail_store *store;
	char *name, *path;
	struct buf base, tmp;
	int fd;
	uint64_t size, vsize;
	bool last_cr;
	bool synced;
	int sync_errno; /* mail_append_sync() failed */
};

int mail_store_insert_message(struct mail_store *store, struct folder_row *row,
                              uint32_t uid, const char *base, size_t base_len,
                              const char *file, uint32_t upper, uint64_t keywords,
                              int64_t size, int64_t date, uint32_t *uid_r,
                              const char **error_r)
{
	static const char sql[] = "INSERT INTO messages (folder, uid, base, file, flags, "
	                          "keywords, modseq, size, internaldate) "
	                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
	sqlite3_stmt *stmt = mail_store_prepare(store, sql, error_r);
	if (stmt == NULL)
		return -1;
	if (uid == 0)
		uid = row->uidnext++;
	sqlite3_bind_int64(stmt, 1, row->id);
	sqlite3_bind_int64(stmt, 2, uid);
	sqlite3_bind_text(stmt, 3, base, (int)base_len, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, upper);
	sqlite3_bind_int64(stmt, 6, (int64_t)keywords);
	sqlite3_bind_int64(stmt, 7, (int64_t)++row->highestmodseq);
	if (size >= 0)
		sqlite3_bind_int64(stmt, 8, size);
	else
		sqlite3_bind_null(stmt, 8);
	if (date >= 0)
		sqlite3_bind_int64(stmt, 9, date);
	else
		sqlite3_bind_null(stmt, 9);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		*error_r = mail_store_error(store, "new message");
		return -1;
	}
	if (uid_r)
		*uid_r = uid;
	return 0;
}

int mail_store_save_folder(struct mail_store *store, const struct folder_row *row,
                           const char **error_r)
{
	static const char sql[] =
	    "UPDATE folders SET uidnext = ?2, highestmodseq = ?3 WHERE id = ?1";
	sqlite3_stmt *stmt = mail_store_prepare(store, sql, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, row->id);
	sqlite3_bind_int64(stmt, 2, row->uidnext);
	sqlite3_bind_int64(stmt, 3, (int64_t)row->highestmodseq);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		*error_r = mail_store_error(store, "folder state");
		return -1;
	}
	return 0;
}

int mail_append_begin(struct mail_store *store, const char *name, uint64_t size,
                      struct mail_append **append_r, const char **error_r)
{
	char *path;
	if (mail_store_folder_path(store, name, &path, error_r) < 0) {
		errno = EINVAL;
		return -1;
	}
	struct stat st;
	struct buf cur = BUF_INIT;
	buf_appendf(&cur, "%s/cur", path);
	int found = stat(cur.data, &st);
	buf_free(&cur);
	if (found < 0) {
		*error_r = "no such folder";
		free(path);
		errno = ENOENT;
		return -1;
	}
	int over = mail_quota_check(store->root, store->quota, size, error_r);
	if (over != 0) {
		free(path);
		if (over > 0) {
			*error_r = "over quota";
			errno = EDQUOT;
		}
		return -1;
	}
	struct mail_append *a = xcalloc(1, sizeof(*a));
	a->store = store;
	a->name = xstrdup(mail_store_canonical_name(name));
	a->path = path;
	maildir_unique_base(&a->base, mail_store_hostname(store));
	buf_appendf(&a->tmp, "%s/tmp/%s", path, a->base.data);
	a->fd = open(a->tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (a->fd < 0) {
		*error_r = error_errno(a->tmp.data);
		mail_append_abort(&a);
		return -1;
	}
	*append_r = a;
	return 0;
}

int mail_append_write(struct mail_append *a, const void *data, size_t len,
                      const char **error_r)
{
	const char *p = data;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && !a->last_cr)
			a->vsize++;
		a->last_cr = p[i] == '\r';
	}
	a->vsize += len;
	a->size += len;
	if (fs_write_all(a->fd, data, len) < 0) {
		*error_r = error_errno(a->tmp.data);
		return -1;
	}
	return 0;
}

int mail_append_sync(struct mail_append *a)
{
	if (fdatasync(a->fd) < 0) {
		a->sync_errno = errno;
		return -1;
	}
	a->synced = true;
	return 0;
}

void mail_append_abort(struct mail_append **a_p)
{
	struct mail_append *a = *a_p;
	if (a == NULL)
		return;
	if (a->fd >= 0) {
		close(a->fd);
		unlink(a->tmp.data);
	}
	buf_free(&a->base);
	buf_free(&a->tmp);
	free(a->name);
	free(a->path);
	free(a);
	*a_p = NULL;
}

/* Keyword names to this folder's numbers (made where new). */
static int keyword_mask(struct mail_store *store, const struct folder_row *row,
                        const char *path, const char *const *names, size_t count,
                        uint64_t *mask_r, const char **error_r)
{
	*mask_r = 0;
	if (count == 0)
		return 0;
	struct mail_keywords kw = {0};
	int r = mail_keywords_load(store, row->id, &kw, error_r);
	for (size_t i = 0; i < count && r == 0; i++) {
		unsigned id;
		r = mail_keywords_find(store, row->id, path, &kw, names[i], true, &id,
		                       error_r) < 0
		        ? -1
		        : 0;
		if (r == 0)
			*mask_r |= 1ull << id;
	}
	mail_keywords_clear(&kw);
	return r;
}

int mail_append_finish(struct mail_append **a_p, uint16_t flags,
                       const char *const *keywords, size_t keyword_count, int64_t date,
                       uint32_t *uidvalidity_r, uint32_t *uid_r, const char **error_r)
{
	struct mail_append *a = *a_p;
	struct mail_store *store = a->store;
	if (date <= 0)
		date = (int64_t)time(NULL);
	/* The internal date is the file's mtime, as for every Maildir. */
	struct timespec times[2] = {{.tv_sec = date}, {.tv_sec = date}};
	if (a->sync_errno)
		errno = a->sync_errno;
	if (a->sync_errno || (!a->synced && mail_append_sync(a) < 0) ||
	    futimens(a->fd, times) < 0) {
		*error_r = error_errno(a->tmp.data);
		mail_append_abort(a_p);
		return -1;
	}
	buf_appendf(&a->base, ",S=%llu,W=%llu", (unsigned long long)a->size,
	            (unsigned long long)a->vsize);
	struct folder_row row;
	struct buf file = BUF_INIT, final = BUF_INIT, cur = BUF_INIT;
	bool renamed = false;
	if (mail_store_begin(store, error_r) < 0)
		goto fail;
	int found = mail_store_folder_row(store, a->name, true, 0, &row, error_r);
	uint64_t mask = 0;
	if (found < 0 || keyword_mask(store, &row, a->path, keywords, keyword_count,
	                              &mask, error_r) < 0)
		goto rollback;
	struct maildir_name name = {
	    .base = a->base.data,
	    .base_len = a->base.len,
	    .upper = mail_flags_to_maildir(0, flags & MAIL_FLAGS_STORED),
	    .keywords = (uint32_t)(mask & ((1u << MAIL_KEYWORDS_LETTERS) - 1)),
	};
	char text[MAILDIR_NAME_MAX + 64];
	if (maildir_name_format(&name, text, sizeof(text)) == 0) {
		*error_r = "file name too long";
		goto rollback;
	}
	buf_appendf(&file, "cur/%s", text);
	buf_appendf(&final, "%s/%s", a->path, file.data);
	buf_appendf(&cur, "%s/cur", a->path);
	if (rename(a->tmp.data, final.data) < 0) {
		*error_r = error_errno(final.data);
		goto rollback;
	}
	renamed = true;
	if (dirsync_after_change(cur.data, error_r) < 0 ||
	    mail_store_insert_message(store, &row, 0, a->base.data, a->base.len,
	                              file.data, name.upper, mask, (int64_t)a->vsize,
	                              date, uid_r, error_r) < 0 ||
	    mail_store_save_folder(store, &row, error_r) < 0 ||
	    mail_store_commit(store, error_r) < 0)
		goto rollback;
	*uidvalidity_r = row.uidvalidity;
	mail_quota_add(store->root, (int64_t)a->size, 1);
	folder_note_own_change(store, row.id, a->path);
	close(a->fd);
	a->fd = -1;
	buf_free(&file);
	buf_free(&final);
	buf_free(&cur);
	mail_append_abort(a_p);
	return 0;
rollback:
	mail_store_rollback(store);
	if (renamed)
		unlink(final.data); /* no UID given: as if never appended */
fail:
	buf_free(&file);
	buf_free(&final);
	buf_free(&cur);
	mail_append_abort(a_p);
	return -1;
}
