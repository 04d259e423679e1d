/*
 * flags.c — STORE and EXPUNGE on an open folder (see mailbox.h).
 *
 * The file is changed first (renamed with its new flag letters, or
 * unlinked), then the index: if the commit is lost, the next sync reads
 * the same change back from the directory, so nothing a client was told
 * can be undone by a crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "mailbox/mailbox_internal.h"
#include "mailbox/quota.h"
#include "mailbox/sync.h"
#include "proto/maildir_name.h"

static int step_done(struct mailbox *mb, sqlite3_stmt *stmt, const char *what,
                     const char **error_r)
{
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		*error_r = mail_store_error(mb->store, what);
		return -1;
	}
	return 0;
}

static int save_modseq(struct mailbox *mb, const char **error_r)
{
	static const char sql[] = "UPDATE folders SET highestmodseq = ?2 WHERE id = ?1";
	sqlite3_stmt *stmt = mail_store_prepare(mb->store, sql, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mb->row.id);
	sqlite3_bind_int64(stmt, 2, (int64_t)mb->row.highestmodseq);
	return step_done(mb, stmt, "modseq", error_r);
}

/* Starts a write transaction with the folder's row current. */
static int begin_write(struct mailbox *mb, const char **error_r)
{
	if (mb->readonly) {
		*error_r = "the folder is open read-only";
		errno = EROFS;
		return -1;
	}
	if (mail_store_begin(mb->store, error_r) < 0)
		return -1;
	int found =
	    mail_store_folder_row(mb->store, mb->name, false, 0, &mb->row, error_r);
	if (found <= 0) {
		if (found == 0)
			*error_r = "the folder was deleted";
		mail_store_rollback(mb->store);
		return -1;
	}
	return 0;
}

/* STORE's FLAGS, +FLAGS or -FLAGS on a set of bits (flags or keywords). */
static uint64_t apply_op(enum mailbox_flags_op op, uint64_t old, uint64_t change)
{
	switch (op) {
	case MAILBOX_FLAGS_SET:
		return change;
	case MAILBOX_FLAGS_ADD:
		return old | change;
	case MAILBOX_FLAGS_REMOVE:
		return old & ~change;
	}
	return old;
}

/* Renames the file to carry upper and keywords; the new relative name
 * into *file. 0; 1 when the file is gone; -1 on other errors. */
static int rename_file(struct mailbox *mb, struct buf *file, uint32_t upper,
                       uint64_t keywords, const char **error_r)
{
	const char *slash = strchr(file->data, '/');
	const char *name = slash ? slash + 1 : file->data;
	struct maildir_name parsed;
	if (maildir_name_parse(name, strlen(name), &parsed, error_r) < 0)
		return -1;
	parsed.upper = upper;
	parsed.keywords = (uint32_t)(keywords & ((1u << MAIL_KEYWORDS_LETTERS) - 1));
	char new_name[MAILDIR_NAME_MAX + 64];
	if (maildir_name_format(&parsed, new_name, sizeof(new_name)) == 0) {
		*error_r = "file name too long";
		return -1;
	}
	struct buf from = BUF_INIT, to = BUF_INIT;
	buf_appendf(&from, "%s/%s", mb->path, file->data);
	buf_appendf(&to, "%s/cur/%s", mb->path, new_name);
	int r = 0;
	if (strcmp(from.data, to.data) != 0 && rename(from.data, to.data) < 0) {
		r = errno == ENOENT ? 1 : -1;
		if (r < 0)
			*error_r = error_errno(from.data);
	}
	if (r == 0) {
		buf_reset(file);
		buf_appendf(file, "cur/%s", new_name);
	}
	buf_free(&from);
	buf_free(&to);
	return r;
}

int mailbox_change_flags(struct mailbox *mb, const uint32_t *seqs, size_t count,
                         const struct mailbox_flags_change *change,
                         void (*changed)(void *ctx, uint32_t seq),
                         void (*refused)(void *ctx, uint32_t seq), void *ctx,
                         const char **error_r)
{
	static const char sql_get[] =
	    "SELECT file, flags, keywords, modseq FROM messages "
	    "WHERE folder = ?1 AND uid = ?2";
	static const char sql_set[] =
	    "UPDATE messages SET file = ?3, flags = ?4, "
	    "keywords = ?5, modseq = ?6 WHERE folder = ?1 AND uid = ?2";
	if (begin_write(mb, error_r) < 0)
		return -1;
	mailbox_make_private(mb); /* its flags change below */
	uint32_t *done = xcalloc(count + 1, sizeof(*done));
	size_t done_count = 0;
	int r = 0;
	struct buf file = BUF_INIT;
	for (size_t i = 0; i < count && r == 0; i++) {
		struct mailbox_message *m = seqs[i] >= 1 && seqs[i] <= mb->count
		                                ? &mb->messages[seqs[i] - 1]
		                                : NULL;
		if (m == NULL || m->expunged)
			continue;
		sqlite3_stmt *stmt = mail_store_prepare(mb->store, sql_get, error_r);
		if (stmt == NULL) {
			r = -1;
			break;
		}
		sqlite3_bind_int64(stmt, 1, mb->row.id);
		sqlite3_bind_int64(stmt, 2, m->uid);
		if (sqlite3_step(stmt) != SQLITE_ROW)
			continue; /* expunged by someone else */
		buf_reset(&file);
		buf_append_str(&file, (const char *)sqlite3_column_text(stmt, 0));
		uint32_t upper = (uint32_t)sqlite3_column_int64(stmt, 1);
		uint64_t keywords = (uint64_t)sqlite3_column_int64(stmt, 2);
		uint64_t modseq = (uint64_t)sqlite3_column_int64(stmt, 3);
		sqlite3_reset(stmt);
		if (change->unchanged_since && modseq > change->unchanged_since) {
			if (refused)
				refused(ctx, seqs[i]);
			continue;
		}
		uint16_t old_flags = mail_flags_from_maildir(upper);
		uint16_t flags =
		    (uint16_t)apply_op(change->op, old_flags, change->flags) &
		    MAIL_FLAGS_STORED;
		uint64_t new_keywords = apply_op(change->op, keywords, change->keywords);
		if (flags == old_flags && new_keywords == keywords)
			continue;
		uint32_t new_upper = mail_flags_to_maildir(upper, flags);
		int renamed = rename_file(mb, &file, new_upper, new_keywords, error_r);
		if (renamed != 0) {
			r = renamed < 0 ? -1 : 0;
			continue;
		}
		stmt = mail_store_prepare(mb->store, sql_set, error_r);
		if (stmt == NULL) {
			r = -1;
			break;
		}
		sqlite3_bind_int64(stmt, 1, mb->row.id);
		sqlite3_bind_int64(stmt, 2, m->uid);
		sqlite3_bind_text(stmt, 3, file.data, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 4, new_upper);
		sqlite3_bind_int64(stmt, 5, (int64_t)new_keywords);
		sqlite3_bind_int64(stmt, 6, (int64_t)++mb->row.highestmodseq);
		r = step_done(mb, stmt, "flags", error_r);
		if (r == 0) {
			m->flags = flags;
			m->keywords = new_keywords;
			m->modseq = mb->row.highestmodseq;
			done[done_count++] = seqs[i];
		}
	}
	buf_free(&file);
	if (r == 0)
		r = save_modseq(mb, error_r);
	if (r == 0)
		r = mail_store_commit(mb->store, error_r);
	else
		mail_store_rollback(mb->store);
	if (r == 0 && done_count)
		folder_note_own_change(mb->store, mb->row.id, mb->path);
	/* Reported once durable. */
	for (size_t i = 0; r == 0 && changed && i < done_count; i++)
		changed(ctx, done[i]);
	free(done);
	return r;
}

static bool in_sorted(const uint32_t *uids, size_t count, uint32_t uid)
{
	size_t lo = 0, hi = count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < count && uids[lo] == uid;
}

int mailbox_expunge(struct mailbox *mb, const uint32_t *uids, size_t count,
                    const struct mailbox_notify *notify, void *ctx, const char **error_r)
{
	static const char sql_list[] = "SELECT uid, file, size FROM messages "
	                               "WHERE folder = ?1 AND (flags & ?2) != 0";
	static const char *const sql_drop[] = {
	    "DELETE FROM messages WHERE folder = ?1 AND uid = ?2",
	    "DELETE FROM cache WHERE folder = ?1 AND uid = ?2",
	    "INSERT OR REPLACE INTO expunged VALUES (?1, ?2, ?3)",
	};
	if (begin_write(mb, error_r) < 0)
		return -1;
	sqlite3_stmt *stmt = mail_store_prepare(mb->store, sql_list, error_r);
	if (stmt == NULL) {
		mail_store_rollback(mb->store);
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, mb->row.id);
	sqlite3_bind_int64(stmt, 2, MAILDIR_TRASHED);
	struct doomed {
		uint32_t uid;
		char *file;
		int64_t size; /* -1: unknown */
	} *doomed = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(stmt, 0);
		if (uids && !in_sorted(uids, count, uid))
			continue;
		xgrow((void **)&doomed, &cap, n + 1, sizeof(*doomed));
		doomed[n++] = (struct doomed){
		    uid, xstrdup((const char *)sqlite3_column_text(stmt, 1)),
		    sqlite3_column_type(stmt, 2) == SQLITE_NULL
		        ? -1
		        : sqlite3_column_int64(stmt, 2)};
	}
	sqlite3_reset(stmt);
	int r = rc == SQLITE_DONE
	            ? 0
	            : (*error_r = mail_store_error(mb->store, "expunge"), -1);
	int64_t freed = 0;
	size_t freed_count = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		struct buf path = BUF_INIT;
		buf_appendf(&path, "%s/%s", mb->path, doomed[i].file);
		struct stat st;
		bool had = stat(path.data, &st) == 0;
		if (unlink(path.data) < 0 && errno != ENOENT) {
			*error_r = error_errno(path.data);
			r = -1;
		}
		if (had && r == 0) {
			freed += st.st_size;
			freed_count++;
		}
		buf_free(&path);
		uint64_t modseq = ++mb->row.highestmodseq;
		for (size_t k = 0; k < 3 && r == 0; k++) {
			stmt = mail_store_prepare(mb->store, sql_drop[k], error_r);
			if (stmt == NULL) {
				r = -1;
				break;
			}
			sqlite3_bind_int64(stmt, 1, mb->row.id);
			sqlite3_bind_int64(stmt, 2, doomed[i].uid);
			if (k == 2)
				sqlite3_bind_int64(stmt, 3, (int64_t)modseq);
			r = step_done(mb, stmt, "expunge", error_r);
		}
	}
	if (r == 0)
		r = save_modseq(mb, error_r);
	if (r == 0)
		r = mail_store_commit(mb->store, error_r);
	else
		mail_store_rollback(mb->store);
	if (freed_count)
		mail_quota_add(mail_store_root(mb->store), -freed, -(int64_t)freed_count);
	if (r == 0 && n)
		folder_note_own_change(mb->store, mb->row.id, mb->path);
	if (n && r == 0)
		mailbox_make_private(mb);
	for (size_t i = 0; i < n; i++) {
		uint32_t seq = mailbox_seq_of_uid(mb, doomed[i].uid, NULL);
		if (seq && r == 0)
			mb->messages[seq - 1].expunged = true;
		free(doomed[i].file);
	}
	free(doomed);
	if (r == 0)
		mailbox_announce_expunged(mb, notify, ctx);
	return r;
}
