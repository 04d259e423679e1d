/*
 * sync.c — a folder's index against its Maildir (see sync.h).
 */
#include "mailbox/sync.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "mailbox/keywords.h"
#include "proto/dovecot_uidlist.h"
#include "proto/maildir_name.h"

/* One file found in new/ or cur/. */
struct disk_entry {
	char *name; /* as in the directory */
	size_t base_len;
	bool in_new;
	bool matched;          /* the index knows its base */
	uint32_t migrated_uid; /* from dovecot-uidlist; 0: none */
};

/* The listing, with an open-addressing table from base to entry. */
struct listing {
	struct disk_entry *entries;
	size_t count, cap;
	uint32_t *table; /* entry index + 1; 0: empty */
	size_t table_size;
};

static uint64_t hash_base(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static struct disk_entry *listing_find(const struct listing *l, const char *base,
                                       size_t len)
{
	if (l->table_size == 0)
		return NULL;
	size_t mask = l->table_size - 1;
	for (size_t i = hash_base(base, len) & mask;; i = (i + 1) & mask) {
		uint32_t slot = l->table[i];
		if (slot == 0)
			return NULL;
		struct disk_entry *e = &l->entries[slot - 1];
		if (e->base_len == len && memcmp(e->name, base, len) == 0)
			return e;
	}
}

static void listing_index(struct listing *l)
{
	size_t size = 16;
	while (size < l->count * 2)
		size *= 2;
	l->table = xcalloc(size, sizeof(*l->table));
	l->table_size = size;
	size_t mask = size - 1;
	for (size_t n = 0; n < l->count; n++) {
		struct disk_entry *e = &l->entries[n];
		if (listing_find(l, e->name, e->base_len))
			continue; /* the same base twice (new/ and cur/): first wins */
		size_t i = hash_base(e->name, e->base_len) & mask;
		while (l->table[i])
			i = (i + 1) & mask;
		l->table[i] = (uint32_t)n + 1;
	}
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->entries[i].name);
	free(l->entries);
	free(l->table);
}

static int list_dir(struct listing *l, const char *path, bool in_new,
                    const char **error_r)
{
	DIR *dir = opendir(path);
	if (dir == NULL) {
		*error_r = error_errno(path);
		return -1;
	}
	struct dirent *d;
	while ((d = readdir(dir)) != NULL) {
		struct maildir_name parsed;
		const char *error;
		if (d->d_name[0] == '.' ||
		    maildir_name_parse(d->d_name, strlen(d->d_name), &parsed, &error) < 0)
			continue;
		xgrow((void **)&l->entries, &l->cap, l->count + 1, sizeof(*l->entries));
		l->entries[l->count++] = (struct disk_entry){.name = xstrdup(d->d_name),
		                                             .base_len = parsed.base_len,
		                                             .in_new = in_new};
	}
	closedir(dir);
	return 0;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* An mtime worth remembering: older than a second, so that no later
 * change can still share it (file times advance in coarse ticks). */
static int64_t settled(int64_t mtime)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	return now_ns - mtime > 1000000000 ? mtime : -1;
}

static bool exists_below(const char *path, const char *relative)
{
	struct buf p = BUF_INIT;
	buf_appendf(&p, "%s/%s", path, relative);
	bool found = access(p.data, F_OK) == 0;
	buf_free(&p);
	return found;
}

/* Dovecot's UIDs for the files listed (a folder's first sync). Reads
 * dovecot-uidlist; *header_r.version is 0 when there is none. */
static void read_dovecot_uidlist(const char *path, struct listing *l,
                                 struct dovecot_uidlist_header *header_r)
{
	memset(header_r, 0, sizeof(*header_r));
	struct buf file = BUF_INIT;
	buf_appendf(&file, "%s/dovecot-uidlist", path);
	FILE *f = fopen(file.data, "r");
	buf_free(&file);
	if (f == NULL)
		return;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	const char *error;
	struct dovecot_uidlist_header header;
	if ((n = getline(&line, &cap, f)) > 0 &&
	    dovecot_uidlist_header(line, strcspn(line, "\r\n"), &header, &error) == 0) {
		*header_r = header;
		while ((n = getline(&line, &cap, f)) > 0) {
			struct dovecot_uidlist_entry e;
			if (dovecot_uidlist_entry(line, strcspn(line, "\r\n"),
			                          header.version, &e, &error) < 0 ||
			    e.uid == 0 || e.uid >= header.next_uid)
				continue;
			struct disk_entry *found = listing_find(l, e.name, e.name_len);
			if (found)
				found->migrated_uid = e.uid;
		}
	}
	free(line);
	fclose(f);
}

struct sync_ctx {
	struct mail_store *store;
	const char *path;
	struct folder_row *row;
	struct listing *listing;
	const char **error_r;
};

static int step_done(struct sync_ctx *s, sqlite3_stmt *stmt, const char *what)
{
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		*s->error_r = mail_store_error(s->store, what);
		return -1;
	}
	return 0;
}

static int record_expunge(struct sync_ctx *s, uint32_t uid)
{
	static const char *const sql[] = {
	    "DELETE FROM messages WHERE folder = ?1 AND uid = ?2",
	    "DELETE FROM cache WHERE folder = ?1 AND uid = ?2",
	    "INSERT OR REPLACE INTO expunged VALUES (?1, ?2, ?3)",
	};
	uint64_t modseq = ++s->row->highestmodseq;
	for (size_t i = 0; i < 3; i++) {
		sqlite3_stmt *stmt = mail_store_prepare(s->store, sql[i], s->error_r);
		if (stmt == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, s->row->id);
		sqlite3_bind_int64(stmt, 2, uid);
		if (i == 2)
			sqlite3_bind_int64(stmt, 3, (int64_t)modseq);
		if (step_done(s, stmt, "expunge") < 0)
			return -1;
	}
	return 0;
}

/* The index's flags for a file name: its letters. */
static int record_rename(struct sync_ctx *s, uint32_t uid, const struct disk_entry *e)
{
	static const char sql[] =
	    "UPDATE messages SET file = ?3, flags = ?4, keywords = ?5, "
	    "modseq = ?6 WHERE folder = ?1 AND uid = ?2";
	struct maildir_name parsed;
	const char *error;
	maildir_name_parse(e->name, strlen(e->name), &parsed, &error);
	sqlite3_stmt *stmt = mail_store_prepare(s->store, sql, s->error_r);
	if (stmt == NULL)
		return -1;
	struct buf file = BUF_INIT;
	buf_appendf(&file, "%s/%s", e->in_new ? "new" : "cur", e->name);
	sqlite3_bind_int64(stmt, 1, s->row->id);
	sqlite3_bind_int64(stmt, 2, uid);
	sqlite3_bind_text(stmt, 3, file.data, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 4, parsed.upper);
	sqlite3_bind_int64(stmt, 5, parsed.keywords);
	sqlite3_bind_int64(stmt, 6, (int64_t)++s->row->highestmodseq);
	buf_free(&file);
	return step_done(s, stmt, "flags");
}

/* Walks the index's messages against the listing. */
static int match_index(struct sync_ctx *s)
{
	static const char sql[] =
	    "SELECT uid, base, file FROM messages WHERE folder = ?1";
	sqlite3_stmt *stmt = mail_store_prepare(s->store, sql, s->error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, s->row->id);
	/* Changes are gathered first: the statement reads what they write. */
	struct change {
		uint32_t uid;
		struct disk_entry *entry; /* NULL: expunged */
	} *changes = NULL;
	size_t count = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(stmt, 0);
		const char *base = (const char *)sqlite3_column_text(stmt, 1);
		const char *file = (const char *)sqlite3_column_text(stmt, 2);
		struct disk_entry *e = listing_find(s->listing, base, strlen(base));
		if (e) {
			e->matched = true;
			const char *listed = e->name;
			bool same = strncmp(file, e->in_new ? "new/" : "cur/", 4) == 0 &&
			            strcmp(file + 4, listed) == 0;
			/* A name that differs is a rename by someone else —
			 * unless the listing is older than the index. */
			if (same || exists_below(s->path, file))
				continue;
		} else if (exists_below(s->path, file)) {
			continue; /* arrived after the listing */
		}
		xgrow((void **)&changes, &cap, count + 1, sizeof(*changes));
		changes[count++] = (struct change){uid, e};
	}
	sqlite3_reset(stmt);
	int r = rc == SQLITE_DONE ? 0 : -1;
	if (r < 0)
		*s->error_r = mail_store_error(s->store, "scan");
	for (size_t i = 0; i < count && r == 0; i++)
		r = changes[i].entry ? record_rename(s, changes[i].uid, changes[i].entry)
		                     : record_expunge(s, changes[i].uid);
	free(changes);
	return r;
}

/* When a Maildir name says it was delivered: its seconds, and the
 * microseconds of "sec.M<usec>..." (written without leading zeros by
 * petrel and Dovecot alike, so names do not sort by time as text). */
static void delivery_time(const char *name, unsigned long long *sec_r,
                          unsigned long *usec_r)
{
	char *end;
	*sec_r = strtoull(name, &end, 10);
	*usec_r = 0;
	if (end[0] == '.' && end[1] == 'M')
		*usec_r = strtoul(end + 2, NULL, 10);
}

static int compare_new(const void *a, const void *b)
{
	const struct disk_entry *const *x = a, *const *y = b;
	if ((*x)->in_new != (*y)->in_new)
		return (*x)->in_new - (*y)->in_new; /* cur/ first: older */
	/* by delivery time, so that UIDs follow the order mail came in */
	unsigned long long xs, ys;
	unsigned long xu, yu;
	delivery_time((*x)->name, &xs, &xu);
	delivery_time((*y)->name, &ys, &yu);
	if (xs != ys)
		return xs < ys ? -1 : 1;
	if (xu != yu)
		return xu < yu ? -1 : 1;
	return strcmp((*x)->name, (*y)->name);
}

/* A file from new/ goes to cur/ with an (empty) info part. */
static int move_to_cur(struct sync_ctx *s, struct disk_entry *e)
{
	struct maildir_name parsed;
	const char *error;
	maildir_name_parse(e->name, strlen(e->name), &parsed, &error);
	char name[MAILDIR_NAME_MAX + 8];
	if (maildir_name_format(&parsed, name, sizeof(name)) == 0)
		return -1;
	struct buf from = BUF_INIT, to = BUF_INIT;
	buf_appendf(&from, "%s/new/%s", s->path, e->name);
	buf_appendf(&to, "%s/cur/%s", s->path, name);
	int r = rename(from.data, to.data);
	buf_free(&from);
	buf_free(&to);
	if (r < 0)
		return -1; /* gone meanwhile: whoever took it tells us later */
	free(e->name);
	e->name = xstrdup(name);
	e->in_new = false;
	return 0;
}

static int add_message(struct sync_ctx *s, struct disk_entry *e, uint32_t uid)
{
	struct maildir_name parsed;
	const char *error;
	maildir_name_parse(e->name, strlen(e->name), &parsed, &error);
	struct buf file = BUF_INIT;
	buf_appendf(&file, "%s/%s", e->in_new ? "new" : "cur", e->name);
	/* W= is the size with CRLF line ends, what RFC822.SIZE says; without
	 * it the size is measured when first asked. */
	int r = mail_store_insert_message(s->store, s->row, uid, e->name, e->base_len,
	                                  file.data, parsed.upper, parsed.keywords,
	                                  parsed.has_vsize ? (int64_t)parsed.vsize : -1,
	                                  -1, NULL, s->error_r);
	buf_free(&file);
	return r;
}

/* Files the index does not know: UIDs in order of arrival. */
static int add_new(struct sync_ctx *s)
{
	size_t count = 0;
	struct disk_entry **fresh = xcalloc(s->listing->count + 1, sizeof(*fresh));
	for (size_t i = 0; i < s->listing->count; i++) {
		struct disk_entry *e = &s->listing->entries[i];
		if (!e->matched && listing_find(s->listing, e->name, e->base_len) == e)
			fresh[count++] = e;
	}
	qsort(fresh, count, sizeof(*fresh), compare_new);
	int r = 0;
	for (size_t i = 0; i < count && r == 0; i++) {
		struct disk_entry *e = fresh[i];
		if (e->in_new && move_to_cur(s, e) < 0)
			continue;
		uint32_t uid = e->migrated_uid;
		if (uid >= s->row->uidnext)
			uid = 0; /* the next one */
		r = add_message(s, e, uid);
		if (r < 0 && sqlite3_extended_errcode(mail_store_db(s->store)) ==
		                 SQLITE_CONSTRAINT_PRIMARYKEY) {
			/* A Dovecot UID given twice: this one gets a new one. */
			r = add_message(s, e, 0);
		}
	}
	free(fresh);
	return r;
}

static int save_row(struct sync_ctx *s, int64_t new_mtime, int64_t cur_mtime)
{
	static const char sql[] =
	    "UPDATE folders SET uidnext = ?2, highestmodseq = ?3, new_mtime = ?4, "
	    "cur_mtime = ?5 WHERE id = ?1";
	sqlite3_stmt *stmt = mail_store_prepare(s->store, sql, s->error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, s->row->id);
	sqlite3_bind_int64(stmt, 2, s->row->uidnext);
	sqlite3_bind_int64(stmt, 3, (int64_t)s->row->highestmodseq);
	sqlite3_bind_int64(stmt, 4, new_mtime);
	sqlite3_bind_int64(stmt, 5, cur_mtime);
	s->row->new_mtime = new_mtime;
	s->row->cur_mtime = cur_mtime;
	return step_done(s, stmt, "folder state");
}

/* The folder's first sync: a Dovecot folder keeps its UIDs. */
static int first_row(struct sync_ctx *s, const char *name)
{
	struct dovecot_uidlist_header dovecot;
	read_dovecot_uidlist(s->path, s->listing, &dovecot);
	if (mail_store_folder_row(s->store, name, true, dovecot.uidvalidity, s->row,
	                          s->error_r) < 0)
		return -1;
	if (dovecot.version == 0)
		return 0;
	if (dovecot.next_uid > s->row->uidnext)
		s->row->uidnext = dovecot.next_uid;
	return mail_keywords_import_dovecot(s->store, s->row->id, s->path, s->error_r);
}

/* After the commit: Dovecot's list is used up. Left in place, it would
 * hand its old UIDs out again if this index were ever lost. */
static void retire_dovecot_uidlist(const char *path)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	buf_appendf(&from, "%s/dovecot-uidlist", path);
	buf_appendf(&to, "%s/dovecot-uidlist.petrel-migrated", path);
	rename(from.data, to.data);
	buf_free(&from);
	buf_free(&to);
}

static int64_t monotonic_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* scanned: the directories were just read, so the memo's second starts
 * now; otherwise (this process's own change) only its mtimes move on, and
 * the memo still ends a second after the last real scan. */
static void remember(struct mail_store *store, int64_t folder, int64_t new_mtime,
                     int64_t cur_mtime, bool scanned)
{
	struct dir_memo *slot = NULL;
	for (unsigned i = 0; i < 8 && slot == NULL; i++)
		if (store->memos[i].folder == folder)
			slot = &store->memos[i];
	if (slot == NULL && !scanned)
		return;
	if (slot == NULL)
		slot = &store->memos[store->memo_next++ % 8];
	int64_t when = scanned ? monotonic_ns() : slot->when;
	*slot = (struct dir_memo){folder, new_mtime, cur_mtime, when};
}

/* The stat()s of the folder's new/ and cur/. */
static int stat_folder(const char *path, struct stat *new_st, struct stat *cur_st,
                       const char **error_r)
{
	struct buf dir = BUF_INIT;
	buf_appendf(&dir, "%s/new", path);
	int r = stat(dir.data, new_st);
	if (r == 0) {
		buf_reset(&dir);
		buf_appendf(&dir, "%s/cur", path);
		r = stat(dir.data, cur_st);
	}
	if (r < 0)
		*error_r = errno == ENOENT ? "no such folder" : error_errno(dir.data);
	buf_free(&dir);
	return r;
}

static void note_change(struct mail_store *store, int64_t folder, const char *path,
                        bool scanned)
{
	struct stat new_st, cur_st;
	const char *error;
	if (stat_folder(path, &new_st, &cur_st, &error) == 0)
		remember(store, folder, mtime_ns(&new_st), mtime_ns(&cur_st), scanned);
}

void folder_note_own_change(struct mail_store *store, int64_t folder, const char *path)
{
	note_change(store, folder, path, false);
}

/* The directories are as this process last left (or read) them. */
static bool as_remembered(const struct mail_store *store, int64_t folder,
                          int64_t new_mtime, int64_t cur_mtime)
{
	for (unsigned i = 0; i < 8; i++) {
		const struct dir_memo *m = &store->memos[i];
		if (m->folder == folder && m->when && m->new_mtime == new_mtime &&
		    m->cur_mtime == cur_mtime && monotonic_ns() - m->when < 1000000000)
			return true;
	}
	return false;
}

int folder_sync(struct mail_store *store, const char *name, const char *path, bool force,
                struct folder_row *row, const char **error_r)
{
	struct stat new_st, cur_st;
	if (stat_folder(path, &new_st, &cur_st, error_r) < 0)
		return -1;
	int found = mail_store_folder_row(store, name, false, 0, row, error_r);
	if (found < 0)
		return -1;
	if (found && !force &&
	    ((row->new_mtime == mtime_ns(&new_st) &&
	      row->cur_mtime == mtime_ns(&cur_st)) ||
	     as_remembered(store, row->id, mtime_ns(&new_st), mtime_ns(&cur_st))))
		return 0;
	struct listing listing = {0};
	struct buf dir = BUF_INIT;
	buf_appendf(&dir, "%s/new", path);
	int r = list_dir(&listing, dir.data, true, error_r);
	buf_reset(&dir);
	buf_appendf(&dir, "%s/cur", path);
	if (r == 0)
		r = list_dir(&listing, dir.data, false, error_r);
	buf_free(&dir);
	if (r < 0) {
		listing_free(&listing);
		return -1;
	}
	listing_index(&listing);
	struct sync_ctx s = {store, path, row, &listing, error_r};
	bool migrated = false;
	r = mail_store_begin(store, error_r);
	if (r == 0) {
		/* Again inside the transaction: another process may have
		 * synced while this one listed. */
		found = mail_store_folder_row(store, name, false, 0, row, error_r);
		if (found == 0) {
			r = first_row(&s, name);
			migrated = r == 0 && row->uidvalidity != 0 && found == 0;
		} else if (found < 0) {
			r = -1;
		}
	}
	uint32_t uidnext = row->uidnext;
	uint64_t modseq = row->highestmodseq;
	if (r == 0)
		r = match_index(&s);
	if (r == 0)
		r = add_new(&s);
	int64_t new_mtime = settled(mtime_ns(&new_st)),
	        cur_mtime = settled(mtime_ns(&cur_st));
	/* Nothing found that the index did not know: no write, so no fsync
	 * (a busy folder's directory stays "unsettled" for a second after
	 * each change, and every command rescans it meanwhile). */
	bool unchanged = r == 0 && found > 0 && row->uidnext == uidnext &&
	                 row->highestmodseq == modseq && row->new_mtime == new_mtime &&
	                 row->cur_mtime == cur_mtime;
	if (unchanged) {
		mail_store_rollback(store);
		listing_free(&listing);
		remember(store, row->id, mtime_ns(&new_st), mtime_ns(&cur_st), true);
		return 0;
	}
	if (r == 0)
		r = save_row(&s, new_mtime, cur_mtime);
	if (r == 0)
		r = mail_store_commit(store, error_r);
	else
		mail_store_rollback(store);
	if (r == 0)
		note_change(store, row->id, path, true); /* its own moves included */
	if (r == 0 && migrated)
		retire_dovecot_uidlist(path);
	listing_free(&listing);
	return r;
}
