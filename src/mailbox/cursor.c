/*
 * cursor.c — what FETCH needs of a run of messages, from the index's
 * cache or, the first time, from the files (see mailbox.h).
 *
 * Messages go in batches: one range query for up to BATCH_MAX UIDs,
 * the missing fields computed, then written back in one transaction.
 * Cache writes are not worth an fsync each (they can be computed again):
 * they commit with synchronous=NORMAL, and reach the disk with the next
 * commit that asks for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "mailbox/mailbox_internal.h"
#include "mailbox/message_file.h"

#define BATCH_MAX 256
#define SPAN_MAX  4096 /* UIDs a batch's range may cover */

struct entry {
	uint32_t uid;
	bool found, has_size, has_date, dirty_row, dirty_cache;
	char *path;
	uint64_t size;
	int64_t date;
	bool cached[4]; /* envelope, body, bodystructure, headers */
	struct message_parsed parsed;
};

struct mailbox_cursor {
	struct mailbox *mb;
	const uint32_t *uids;
	size_t count, next;
	unsigned want;
	struct entry batch[BATCH_MAX];
	size_t batch_count, batch_pos;
};

struct mailbox_cursor *mailbox_cursor_open(struct mailbox *mb, const uint32_t *uids,
                                           size_t count, unsigned want)
{
	struct mailbox_cursor *c = xcalloc(1, sizeof(*c));
	c->mb = mb;
	c->uids = uids;
	c->count = count;
	c->want = want;
	return c;
}

static void clear_batch(struct mailbox_cursor *c)
{
	for (size_t i = 0; i < c->batch_count; i++) {
		free(c->batch[i].path);
		message_parsed_free(&c->batch[i].parsed);
	}
	memset(c->batch, 0, sizeof(c->batch[0]) * c->batch_count);
	c->batch_count = c->batch_pos = 0;
}

void mailbox_cursor_close(struct mailbox_cursor **c_p)
{
	struct mailbox_cursor *c = *c_p;
	if (c == NULL)
		return;
	clear_batch(c);
	free(c);
	*c_p = NULL;
}

static void take_blob(sqlite3_stmt *stmt, int col, bool *cached, struct buf *out)
{
	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		return;
	const void *data = sqlite3_column_blob(stmt, col);
	buf_append(out, data, (size_t)sqlite3_column_bytes(stmt, col));
	*cached = true;
}

static void fill_entry(struct mailbox_cursor *c, struct entry *e, sqlite3_stmt *stmt,
                       bool with_cache)
{
	e->found = true;
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/%s", c->mb->path,
	            (const char *)sqlite3_column_text(stmt, 1));
	e->path = (char *)buf_cstr(&path);
	e->has_size = sqlite3_column_type(stmt, 2) != SQLITE_NULL;
	e->size = (uint64_t)sqlite3_column_int64(stmt, 2);
	e->has_date = sqlite3_column_type(stmt, 3) != SQLITE_NULL;
	e->date = sqlite3_column_int64(stmt, 3);
	if (!with_cache)
		return;
	if (c->want & MAILBOX_WANT_ENVELOPE)
		take_blob(stmt, 4, &e->cached[0], &e->parsed.envelope);
	if (c->want & MAILBOX_WANT_BODY)
		take_blob(stmt, 5, &e->cached[1], &e->parsed.body);
	if (c->want & MAILBOX_WANT_BODYSTRUCTURE)
		take_blob(stmt, 6, &e->cached[2], &e->parsed.bodystructure);
	if (c->want & MAILBOX_WANT_HEADERS)
		take_blob(stmt, 7, &e->cached[3], &e->parsed.headers);
}

static int query_batch(struct mailbox_cursor *c, const char **error_r)
{
	static const char sql_plain[] =
	    "SELECT uid, file, size, internaldate FROM messages "
	    "WHERE folder = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid";
	static const char sql_cache[] =
	    "SELECT m.uid, m.file, m.size, m.internaldate, c.envelope, c.body, "
	    "c.bodystructure, c.headers "
	    "FROM messages m LEFT JOIN cache c ON c.folder = m.folder AND c.uid = m.uid "
	    "WHERE m.folder = ?1 AND m.uid BETWEEN ?2 AND ?3 ORDER BY m.uid";
	bool with_cache = c->want & (MAILBOX_WANT_ENVELOPE | MAILBOX_WANT_BODY |
	                             MAILBOX_WANT_BODYSTRUCTURE | MAILBOX_WANT_HEADERS);
	sqlite3_stmt *stmt =
	    mail_store_prepare(c->mb->store, with_cache ? sql_cache : sql_plain, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, c->mb->row.id);
	sqlite3_bind_int64(stmt, 2, c->batch[0].uid);
	sqlite3_bind_int64(stmt, 3, c->batch[c->batch_count - 1].uid);
	size_t i = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(stmt, 0);
		while (i < c->batch_count && c->batch[i].uid < uid)
			i++;
		if (i < c->batch_count && c->batch[i].uid == uid)
			fill_entry(c, &c->batch[i], stmt, with_cache);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		*error_r = mail_store_error(c->mb->store, "fetch");
		return -1;
	}
	return 0;
}

/* The row's file again: another session may have renamed it (new
 * flags) after the batch was read. */
static bool refresh_path(struct mailbox_cursor *c, struct entry *e)
{
	static const char sql[] =
	    "SELECT file FROM messages WHERE folder = ?1 AND uid = ?2";
	const char *error;
	if (mailbox_sync_row(c->mb, false, &error) < 0)
		return false;
	sqlite3_stmt *stmt = mail_store_prepare(c->mb->store, sql, &error);
	if (stmt == NULL)
		return false;
	sqlite3_bind_int64(stmt, 1, c->mb->row.id);
	sqlite3_bind_int64(stmt, 2, e->uid);
	bool found = sqlite3_step(stmt) == SQLITE_ROW;
	if (found) {
		struct buf path = BUF_INIT;
		buf_appendf(&path, "%s/%s", c->mb->path,
		            (const char *)sqlite3_column_text(stmt, 0));
		free(e->path);
		e->path = (char *)buf_cstr(&path);
	}
	sqlite3_reset(stmt);
	return found;
}

/* Fills what the index did not have, from the file. */
static int complete_entry(struct mailbox_cursor *c, struct entry *e, const char **error_r)
{
	unsigned fields = 0;
	if ((c->want & MAILBOX_WANT_ENVELOPE) && !e->cached[0])
		fields |= MESSAGE_PARSE_ENVELOPE;
	if ((c->want & MAILBOX_WANT_BODY) && !e->cached[1])
		fields |= MESSAGE_PARSE_BODY;
	if ((c->want & MAILBOX_WANT_BODYSTRUCTURE) && !e->cached[2])
		fields |= MESSAGE_PARSE_BODYSTRUCTURE;
	if ((c->want & MAILBOX_WANT_HEADERS) && !e->cached[3])
		fields |= MESSAGE_PARSE_HEADERS;
	bool need_size = (c->want & MAILBOX_WANT_SIZE) && !e->has_size;
	bool need_date = (c->want & MAILBOX_WANT_DATE) && !e->has_date;
	if (fields == 0 && !need_size && !need_date)
		return 0;
	struct message_file f;
	int r = message_file_open(&f, e->path, e->has_size ? e->size : 0, error_r);
	if (r < 0 && errno == ENOENT && refresh_path(c, e))
		r = message_file_open(&f, e->path, e->has_size ? e->size : 0, error_r);
	if (r < 0) {
		if (errno != ENOENT)
			return -1;
		e->found = false; /* expunged behind the index's back */
		return 0;
	}
	if (!e->has_size || !e->has_date) {
		e->dirty_row = true;
		e->size = f.size;
		e->date = f.mtime;
		e->has_size = e->has_date = true;
	}
	if (fields) {
		r = message_file_parse(&f, fields, &e->parsed, error_r);
		if (r == 0) {
			e->dirty_cache = true;
			e->cached[0] |= (fields & MESSAGE_PARSE_ENVELOPE) != 0;
			e->cached[1] |= (fields & MESSAGE_PARSE_BODY) != 0;
			e->cached[2] |= (fields & MESSAGE_PARSE_BODYSTRUCTURE) != 0;
			e->cached[3] |= (fields & MESSAGE_PARSE_HEADERS) != 0;
		}
	}
	message_file_close(&f);
	return r;
}

static void bind_blob(sqlite3_stmt *stmt, int index, bool cached, const struct buf *b)
{
	if (cached)
		sqlite3_bind_blob(stmt, index, b->data ? b->data : "", (int)b->len,
		                  SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, index);
}

/* The batch's new knowledge into the index. Failing is harmless: it is
 * computed again next time. */
static void write_back(struct mailbox_cursor *c)
{
	static const char sql_cache[] =
	    "INSERT INTO cache (folder, uid, envelope, body, bodystructure, headers) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (folder, uid) DO UPDATE SET "
	    "envelope = coalesce(excluded.envelope, envelope), "
	    "body = coalesce(excluded.body, body), "
	    "bodystructure = coalesce(excluded.bodystructure, bodystructure), "
	    "headers = coalesce(excluded.headers, headers)";
	static const char sql_row[] = "UPDATE messages SET size = ?3, internaldate = ?4 "
	                              "WHERE folder = ?1 AND uid = ?2";
	bool dirty = false;
	for (size_t i = 0; i < c->batch_count; i++)
		dirty |= c->batch[i].found &&
		         (c->batch[i].dirty_row || c->batch[i].dirty_cache);
	const char *error;
	if (!dirty ||
	    mail_store_exec(c->mb->store, "PRAGMA synchronous=NORMAL", &error) < 0)
		return;
	if (mail_store_begin(c->mb->store, &error) == 0) {
		int r = 0;
		for (size_t i = 0; i < c->batch_count && r == 0; i++) {
			struct entry *e = &c->batch[i];
			if (!e->found)
				continue;
			sqlite3_stmt *stmt;
			if (e->dirty_cache &&
			    (stmt = mail_store_prepare(c->mb->store, sql_cache,
			                               &error)) != NULL) {
				sqlite3_bind_int64(stmt, 1, c->mb->row.id);
				sqlite3_bind_int64(stmt, 2, e->uid);
				bind_blob(stmt, 3, e->cached[0], &e->parsed.envelope);
				bind_blob(stmt, 4, e->cached[1], &e->parsed.body);
				bind_blob(stmt, 5, e->cached[2],
				          &e->parsed.bodystructure);
				bind_blob(stmt, 6, e->cached[3], &e->parsed.headers);
				r = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
			}
			if (r == 0 && e->dirty_row &&
			    (stmt = mail_store_prepare(c->mb->store, sql_row, &error)) !=
			        NULL) {
				sqlite3_bind_int64(stmt, 1, c->mb->row.id);
				sqlite3_bind_int64(stmt, 2, e->uid);
				sqlite3_bind_int64(stmt, 3, (int64_t)e->size);
				sqlite3_bind_int64(stmt, 4, e->date);
				r = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
			}
		}
		if (r == 0)
			mail_store_commit(c->mb->store, &error);
		else
			mail_store_rollback(c->mb->store);
	}
	mail_store_exec(c->mb->store, "PRAGMA synchronous=FULL", &error);
}

static int load_batch(struct mailbox_cursor *c, const char **error_r)
{
	clear_batch(c);
	uint32_t first = c->uids[c->next];
	while (c->next < c->count && c->batch_count < BATCH_MAX &&
	       c->uids[c->next] - first < SPAN_MAX)
		c->batch[c->batch_count++].uid = c->uids[c->next++];
	if (query_batch(c, error_r) < 0)
		return -1;
	for (size_t i = 0; i < c->batch_count; i++)
		if (c->batch[i].found && complete_entry(c, &c->batch[i], error_r) < 0)
			return -1;
	write_back(c);
	return 0;
}

int mailbox_cursor_next(struct mailbox_cursor *c, struct mailbox_record *rec,
                        const char **error_r)
{
	if (c->batch_pos == c->batch_count) {
		if (c->next == c->count)
			return 0;
		if (load_batch(c, error_r) < 0)
			return -1;
	}
	struct entry *e = &c->batch[c->batch_pos++];
	*rec = (struct mailbox_record){.uid = e->uid, .expunged = !e->found};
	if (!e->found)
		return 1;
	rec->path = e->path;
	rec->size = e->size;
	rec->internaldate = e->date;
	rec->envelope = e->parsed.envelope.data;
	rec->envelope_len = e->parsed.envelope.len;
	rec->body = e->parsed.body.data;
	rec->body_len = e->parsed.body.len;
	rec->bodystructure = e->parsed.bodystructure.data;
	rec->bodystructure_len = e->parsed.bodystructure.len;
	rec->headers = e->parsed.headers.data;
	rec->headers_len = e->parsed.headers.len;
	return 1;
}
