/*
 * copy.c — COPY and MOVE between folders of one store (see mailbox.h).
 *
 * A copy is a hard link under a new unique name (the content never
 * changes, only the name's flags do), a move a rename; both keep the
 * flags and carry the keywords over by name, and the cached fields go
 * along. Files first, then the index in one transaction: after a crash
 * the next sync of either folder finds the files where they are.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/dirsync.h"
#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "mailbox/mailbox_internal.h"
#include "mailbox/maildir.h"
#include "mailbox/quota.h"
#include "mailbox/sync.h"
#include "proto/maildir_name.h"

void mailbox_copy_result_clear(struct mailbox_copy_result *r)
{
	free(r->source_uids);
	free(r->dest_uids);
	memset(r, 0, sizeof(*r));
}

struct copying {
	struct mailbox *mb;
	const char *dest_path;
	struct folder_row *src, *dest; /* the same row for a copy into itself */
	struct folder_row dest_row;
	struct mail_keywords dest_keywords;
	bool move, same;
	int64_t copied_bytes, copied_count;
	/* files made (or moved) so far, undone if the index refuses */
	struct done_file {
		char *from, *to;
	} * done;
	size_t done_count, done_cap;
	const char **error_r;
};

static void remember(struct copying *c, const char *from, const char *to)
{
	xgrow((void **)&c->done, &c->done_cap, c->done_count + 1, sizeof(*c->done));
	c->done[c->done_count++] = (struct done_file){xstrdup(from), xstrdup(to)};
}

/* The index said no: no file may appear (or vanish) in its place. */
static void undo_files(struct copying *c, bool undo)
{
	for (size_t i = 0; i < c->done_count; i++) {
		if (undo && c->move)
			rename(c->done[i].to, c->done[i].from);
		else if (undo)
			unlink(c->done[i].to);
		free(c->done[i].from);
		free(c->done[i].to);
	}
	free(c->done);
}

/* Copies the content when a link cannot be made (another file system,
 * a link count limit). */
static int copy_content(const char *from, const char *to, const char **error_r)
{
	char *data;
	size_t len;
	if (fs_read_file(from, &data, &len, error_r) < 0)
		return -1;
	int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int r =
	    fd >= 0 && fs_write_all(fd, data, len) == 0 && fdatasync(fd) == 0 ? 0 : -1;
	if (r < 0) {
		*error_r = error_errno(to);
		unlink(to);
	}
	if (fd >= 0)
		close(fd);
	free(data);
	return r;
}

/* Source keywords (numbers of this folder) as numbers of the destination. */
static int map_keywords(struct copying *c, uint64_t mask, uint64_t *out)
{
	*out = 0;
	if (c->same) {
		*out = mask;
		return 0;
	}
	for (int i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		if (!(mask & (1ull << i)) || c->mb->keywords.names[i] == NULL)
			continue;
		unsigned id;
		if (mail_keywords_find(c->mb->store, c->dest->id, c->dest_path,
		                       &c->dest_keywords, c->mb->keywords.names[i], true,
		                       &id, c->error_r) < 0)
			return -1;
		*out |= 1ull << id;
	}
	return 0;
}

static int drop_source(struct copying *c, uint32_t uid)
{
	static const char *const sql[] = {
	    "DELETE FROM messages WHERE folder = ?1 AND uid = ?2",
	    "DELETE FROM cache WHERE folder = ?1 AND uid = ?2",
	    "INSERT OR REPLACE INTO expunged VALUES (?1, ?2, ?3)",
	};
	uint64_t modseq = ++c->src->highestmodseq;
	for (size_t k = 0; k < 3; k++) {
		sqlite3_stmt *stmt = mail_store_prepare(c->mb->store, sql[k], c->error_r);
		if (stmt == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, c->src->id);
		sqlite3_bind_int64(stmt, 2, uid);
		if (k == 2)
			sqlite3_bind_int64(stmt, 3, (int64_t)modseq);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			*c->error_r = mail_store_error(c->mb->store, "move");
			return -1;
		}
	}
	return 0;
}

static void copy_cache(struct copying *c, uint32_t from_uid, uint32_t to_uid)
{
	static const char sql[] = "INSERT OR REPLACE INTO cache SELECT ?3, ?4, envelope, "
	                          "body, bodystructure, headers "
	                          "FROM cache WHERE folder = ?1 AND uid = ?2";
	const char *error;
	sqlite3_stmt *stmt = mail_store_prepare(c->mb->store, sql, &error);
	if (stmt == NULL)
		return;
	sqlite3_bind_int64(stmt, 1, c->src->id);
	sqlite3_bind_int64(stmt, 2, from_uid);
	sqlite3_bind_int64(stmt, 3, c->dest->id);
	sqlite3_bind_int64(stmt, 4, to_uid);
	sqlite3_step(stmt); /* only a cache */
}

/* One message. 0 done (*dest_uid_r set, or 0 when it was gone), -1. */
static int copy_one(struct copying *c, uint32_t uid, uint32_t *dest_uid_r)
{
	static const char sql[] = "SELECT file, flags, keywords, size, internaldate "
	                          "FROM messages WHERE folder = ?1 AND uid = ?2";
	*dest_uid_r = 0;
	sqlite3_stmt *stmt = mail_store_prepare(c->mb->store, sql, c->error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, c->src->id);
	sqlite3_bind_int64(stmt, 2, uid);
	if (sqlite3_step(stmt) != SQLITE_ROW)
		return 0; /* expunged by someone else */
	char *file = xstrdup((const char *)sqlite3_column_text(stmt, 0));
	uint32_t upper = (uint32_t)sqlite3_column_int64(stmt, 1);
	uint64_t keywords = (uint64_t)sqlite3_column_int64(stmt, 2);
	int64_t size = sqlite3_column_type(stmt, 3) == SQLITE_NULL
	                   ? -1
	                   : sqlite3_column_int64(stmt, 3);
	int64_t date = sqlite3_column_type(stmt, 4) == SQLITE_NULL
	                   ? -1
	                   : sqlite3_column_int64(stmt, 4);
	sqlite3_reset(stmt);
	struct buf from = BUF_INIT, to = BUF_INIT, base = BUF_INIT, dest_file = BUF_INIT;
	int r = -1;
	uint64_t dest_keywords;
	const char *name = strchr(file, '/') + 1;
	struct maildir_name parsed;
	if (map_keywords(c, keywords, &dest_keywords) < 0 ||
	    maildir_name_parse(name, strlen(name), &parsed, c->error_r) < 0)
		goto out;
	bool rename_it = c->move && !c->same;
	if (rename_it) {
		buf_append(&base, parsed.base, parsed.base_len);
	} else {
		maildir_unique_base(&base, mail_store_hostname(c->mb->store));
		if (parsed.has_size)
			buf_appendf(&base, ",S=%llu", (unsigned long long)parsed.size);
		if (parsed.has_vsize)
			buf_appendf(&base, ",W=%llu", (unsigned long long)parsed.vsize);
	}
	struct maildir_name out = {
	    .base = base.data,
	    .base_len = base.len,
	    .upper = upper,
	    .keywords = (uint32_t)(dest_keywords & ((1u << MAIL_KEYWORDS_LETTERS) - 1)),
	};
	char text[MAILDIR_NAME_MAX + 64];
	if (maildir_name_format(&out, text, sizeof(text)) == 0) {
		*c->error_r = "file name too long";
		goto out;
	}
	buf_appendf(&dest_file, "cur/%s", text);
	buf_appendf(&from, "%s/%s", c->mb->path, file);
	buf_appendf(&to, "%s/%s", c->dest_path, dest_file.data);
	int moved = rename_it ? rename(from.data, to.data) : link(from.data, to.data);
	if (moved < 0 && errno == ENOENT) {
		r = 0; /* gone meanwhile */
		goto out;
	}
	if (moved < 0 && !rename_it && errno != EEXIST)
		moved = copy_content(from.data, to.data, c->error_r);
	else if (moved < 0)
		*c->error_r = error_errno(to.data);
	if (moved < 0)
		goto out;
	remember(c, from.data, to.data);
	if (mail_store_insert_message(c->mb->store, c->dest, 0, base.data, base.len,
	                              dest_file.data, upper, dest_keywords, size, date,
	                              dest_uid_r, c->error_r) < 0)
		goto out;
	copy_cache(c, uid, *dest_uid_r);
	/* A move within the folder: a new name (a new UID), the old one
	 * goes before the index forgets it, or a sync would take it anew. */
	if (c->move && c->same && unlink(from.data) < 0) {
		*c->error_r = error_errno(from.data);
		goto out;
	}
	r = c->move ? drop_source(c, uid) : 0;
	if (!c->move) {
		struct stat st;
		c->copied_bytes += stat(to.data, &st) == 0 ? st.st_size : 0;
		c->copied_count++;
	}
out:
	free(file);
	buf_free(&from);
	buf_free(&to);
	buf_free(&base);
	buf_free(&dest_file);
	return r;
}

/* What the copies would add, for the quota. */
static int copies_size(struct mailbox *mb, const uint32_t *seqs, size_t count,
                       uint64_t *bytes_r, const char **error_r)
{
	static const char sql[] =
	    "SELECT size FROM messages WHERE folder = ?1 AND uid = ?2";
	*bytes_r = 0;
	for (size_t i = 0; i < count; i++) {
		const struct mailbox_message *m = mailbox_get(mb, seqs[i]);
		if (m == NULL)
			continue;
		sqlite3_stmt *stmt = mail_store_prepare(mb->store, sql, error_r);
		if (stmt == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, mb->row.id);
		sqlite3_bind_int64(stmt, 2, m->uid);
		if (sqlite3_step(stmt) == SQLITE_ROW)
			*bytes_r += (uint64_t)sqlite3_column_int64(stmt, 0);
		sqlite3_reset(stmt);
	}
	return 0;
}

int mailbox_copy(struct mailbox *mb, const uint32_t *seqs, size_t count, const char *dest,
                 bool move, struct mailbox_copy_result *result, const char **error_r)
{
	memset(result, 0, sizeof(*result));
	if (move && mb->readonly) {
		*error_r = "the folder is open read-only";
		errno = EROFS;
		return -1;
	}
	char *dest_path;
	if (mail_store_folder_path(mb->store, dest, &dest_path, error_r) < 0) {
		errno = EINVAL;
		return -1;
	}
	struct copying c = {
	    .mb = mb, .dest_path = dest_path, .move = move, .error_r = error_r};
	struct stat st;
	struct buf dest_cur = BUF_INIT, src_cur = BUF_INIT;
	buf_appendf(&dest_cur, "%s/cur", dest_path);
	buf_appendf(&src_cur, "%s/cur", mb->path);
	int r = -1;
	if (stat(dest_cur.data, &st) < 0) {
		*error_r = "no such folder";
		errno = ENOENT;
		goto out;
	}
	uint64_t bytes;
	if (!move && mb->store->quota) {
		if (copies_size(mb, seqs, count, &bytes, error_r) < 0)
			goto out;
		int over =
		    mail_quota_check(mb->store->root, mb->store->quota, bytes, error_r);
		if (over) {
			if (over > 0) {
				*error_r = "over quota";
				errno = EDQUOT;
			}
			goto out;
		}
	}
	if (mail_store_begin(mb->store, error_r) < 0)
		goto out;
	c.same = strcmp(mail_store_canonical_name(dest), mb->name) == 0;
	int found =
	    mail_store_folder_row(mb->store, mb->name, false, 0, &mb->row, error_r);
	c.src = &mb->row;
	if (found > 0 && !c.same)
		found =
		    mail_store_folder_row(mb->store, dest, true, 0, &c.dest_row, error_r);
	c.dest = c.same ? &mb->row : &c.dest_row;
	if (found > 0 && !c.same)
		found = mail_keywords_load(mb->store, c.dest->id, &c.dest_keywords,
		                           error_r) < 0
		            ? -1
		            : 1;
	if (found <= 0) {
		if (found == 0)
			*error_r = "the folder was deleted";
		goto rollback;
	}
	result->source_uids = xcalloc(count + 1, sizeof(uint32_t));
	result->dest_uids = xcalloc(count + 1, sizeof(uint32_t));
	r = 0;
	for (size_t i = 0; i < count && r == 0; i++) {
		const struct mailbox_message *m = mailbox_get(mb, seqs[i]);
		uint32_t dest_uid;
		if (m == NULL || m->expunged)
			continue;
		r = copy_one(&c, m->uid, &dest_uid);
		if (r == 0 && dest_uid) {
			result->source_uids[result->count] = m->uid;
			result->dest_uids[result->count++] = dest_uid;
		}
	}
	if (r == 0)
		r = dirsync_after_change(dest_cur.data, error_r);
	if (r == 0 && move && !c.same)
		r = dirsync_after_change(src_cur.data, error_r);
	if (r == 0)
		r = mail_store_save_folder(mb->store, c.dest, error_r);
	if (r == 0 && !c.same)
		r = mail_store_save_folder(mb->store, c.src, error_r);
	if (r == 0)
		r = mail_store_commit(mb->store, error_r);
	if (r < 0)
		goto rollback;
	result->uidvalidity = c.dest->uidvalidity;
	folder_note_own_change(mb->store, c.dest->id, dest_path);
	if (move)
		folder_note_own_change(mb->store, c.src->id, mb->path);
	if (c.copied_count)
		mail_quota_add(mb->store->root, c.copied_bytes, c.copied_count);
	if (move && result->count)
		mailbox_make_private(mb);
	for (size_t i = 0; move && i < result->count; i++) {
		uint32_t seq = mailbox_seq_of_uid(mb, result->source_uids[i], NULL);
		if (seq)
			mb->messages[seq - 1].expunged = true;
	}
	goto out;
rollback:
	r = -1;
	mail_store_rollback(mb->store);
	mailbox_copy_result_clear(result);
out:
	undo_files(&c, r < 0);
	mail_keywords_clear(&c.dest_keywords);
	buf_free(&dest_cur);
	buf_free(&src_cur);
	free(dest_path);
	return r;
}
