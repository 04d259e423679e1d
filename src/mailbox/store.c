/*
 * store.c — one user's Maildir++ store and its index database (see
 * store.h). Folder operations are here; a folder's messages are in
 * mailbox/folder.c, its reconciliation with the disk in mailbox/sync.c.
 */
#include "mailbox/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "mailbox/maildir.h"
#include "mailbox/store_internal.h"
#include "proto/imap_utf7.h"

#define BUSY_TIMEOUT_MS 15000
#define SCHEMA_VERSION  "2"

/* The index: what the files cannot say. Messages are keyed by folder
 * and UID; base is the file's unique name (without ":2,flags"), file its
 * current path below the folder ("cur/base:2,S"). */
static const char SCHEMA[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE folders (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    " uidvalidity INTEGER NOT NULL, uidnext INTEGER NOT NULL DEFAULT 1,"
    " highestmodseq INTEGER NOT NULL DEFAULT 1, recent_uid INTEGER NOT NULL DEFAULT 1,"
    " new_mtime INTEGER NOT NULL DEFAULT -1, cur_mtime INTEGER NOT NULL DEFAULT -1,"
    " special_use INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE subscriptions (name TEXT PRIMARY KEY);"
    "CREATE TABLE messages (folder INTEGER NOT NULL, uid INTEGER NOT NULL,"
    " base TEXT NOT NULL, file TEXT NOT NULL, flags INTEGER NOT NULL,"
    " keywords INTEGER NOT NULL, modseq INTEGER NOT NULL, size INTEGER,"
    " internaldate INTEGER, PRIMARY KEY (folder, uid)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX messages_base ON messages (folder, base);"
    "CREATE INDEX messages_modseq ON messages (folder, modseq);"
    "CREATE TABLE expunged (folder INTEGER NOT NULL, uid INTEGER NOT NULL,"
    " modseq INTEGER NOT NULL, PRIMARY KEY (folder, uid)) WITHOUT ROWID;"
    "CREATE TABLE keywords (folder INTEGER NOT NULL, id INTEGER NOT NULL,"
    " name TEXT NOT NULL, PRIMARY KEY (folder, id)) WITHOUT ROWID;"
    "CREATE TABLE cache (folder INTEGER NOT NULL, uid INTEGER NOT NULL,"
    " envelope BLOB, body BLOB, bodystructure BLOB, headers BLOB,"
    " PRIMARY KEY (folder, uid)) WITHOUT ROWID;"
    "INSERT INTO meta VALUES ('version', '" SCHEMA_VERSION "');";

static const char *const special_names[MAIL_SPECIAL_COUNT] = {
    [MAIL_SPECIAL_DRAFTS] = "\\Drafts",   [MAIL_SPECIAL_SENT] = "\\Sent",
    [MAIL_SPECIAL_TRASH] = "\\Trash",     [MAIL_SPECIAL_JUNK] = "\\Junk",
    [MAIL_SPECIAL_ARCHIVE] = "\\Archive", [MAIL_SPECIAL_ALL] = "\\All",
    [MAIL_SPECIAL_FLAGGED] = "\\Flagged",
};

/* What a new user finds (RFC 6154 names, as Dovecot's example config). */
static const struct {
	const char *name;
	enum mail_special_use use;
} standard_folders[] = {
    {"Drafts", MAIL_SPECIAL_DRAFTS},   {"Sent", MAIL_SPECIAL_SENT},
    {"Trash", MAIL_SPECIAL_TRASH},     {"Junk", MAIL_SPECIAL_JUNK},
    {"Archive", MAIL_SPECIAL_ARCHIVE},
};

const char *mail_special_use_name(enum mail_special_use use)
{
	return use > MAIL_SPECIAL_NONE && use < MAIL_SPECIAL_COUNT ? special_names[use]
	                                                           : NULL;
}

enum mail_special_use mail_special_use_parse(const char *name, size_t len)
{
	for (int i = 1; i < MAIL_SPECIAL_COUNT; i++)
		if (strlen(special_names[i]) == len &&
		    strncasecmp(special_names[i], name, len) == 0)
			return (enum mail_special_use)i;
	return MAIL_SPECIAL_NONE;
}

const char *mail_store_error(struct mail_store *store, const char *what)
{
	return error_fmt("index %s: %s", what, sqlite3_errmsg(store->db));
}

sqlite3_stmt *mail_store_prepare(struct mail_store *store, const char *sql,
                                 const char **error_r)
{
	for (size_t i = 0; i < store->stmt_count; i++)
		if (store->stmts[i].sql == sql) {
			sqlite3_reset(store->stmts[i].stmt);
			sqlite3_clear_bindings(store->stmts[i].stmt);
			return store->stmts[i].stmt;
		}
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
	                       NULL) != SQLITE_OK) {
		*error_r = mail_store_error(store, "prepare");
		return NULL;
	}
	xgrow((void **)&store->stmts, &store->stmt_cap, store->stmt_count + 1,
	      sizeof(*store->stmts));
	store->stmts[store->stmt_count].sql = sql;
	store->stmts[store->stmt_count++].stmt = stmt;
	return stmt;
}

int mail_store_exec(struct mail_store *store, const char *sql, const char **error_r)
{
	if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		*error_r = mail_store_error(store, "update");
		return -1;
	}
	return 0;
}

int mail_store_begin(struct mail_store *store, const char **error_r)
{
	return mail_store_exec(store, "BEGIN IMMEDIATE", error_r);
}

int mail_store_commit(struct mail_store *store, const char **error_r)
{
	if (mail_store_exec(store, "COMMIT", error_r) < 0) {
		mail_store_rollback(store);
		return -1;
	}
	return 0;
}

void mail_store_rollback(struct mail_store *store)
{
	if (!sqlite3_get_autocommit(store->db))
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

void mail_store_set_quota(struct mail_store *store, uint64_t limit)
{
	store->quota = limit;
}

uint64_t mail_store_quota(const struct mail_store *store)
{
	return store->quota;
}

void mail_store_set_hostname(struct mail_store *store, const char *hostname)
{
	snprintf(store->hostname, sizeof(store->hostname), "%s", hostname);
}

const char *mail_store_hostname(const struct mail_store *store)
{
	return store->hostname[0] ? store->hostname : "localhost";
}

bool mail_store_was_rebuilt(const struct mail_store *store)
{
	return store->rebuilt;
}

const char *mail_store_root(const struct mail_store *store)
{
	return store->root;
}

struct sqlite3 *mail_store_db(struct mail_store *store)
{
	return store->db;
}

const char *mail_store_canonical_name(const char *name)
{
	return strcasecmp(name, "INBOX") == 0 ? "INBOX" : name;
}

int mail_store_folder_path(const struct mail_store *store, const char *name,
                           char **path_r, const char **error_r)
{
	name = mail_store_canonical_name(name);
	if (strcmp(name, "INBOX") == 0) {
		*path_r = xstrdup(store->root);
		return 0;
	}
	if (imap_mailbox_name_check(name, MAIL_STORE_SEPARATOR, error_r) < 0)
		return -1;
	char encoded[IMAP_MAILBOX_NAME_MAX * 4];
	if (imap_utf7_encode(name, strlen(name), encoded, sizeof(encoded), error_r) < 0)
		return -1;
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/.%s", store->root, encoded);
	*path_r = (char *)buf_cstr(&path);
	return 0;
}

/* A new UIDVALIDITY: the time, but always above any this store gave
 * (a folder deleted and created again within a second gets another). */
int mail_store_new_uidvalidity(struct mail_store *store, uint32_t *uidvalidity_r,
                               const char **error_r)
{
	static const char sql_get[] = "SELECT value FROM meta WHERE key = 'uidvalidity'";
	static const char sql_set[] =
	    "INSERT OR REPLACE INTO meta VALUES ('uidvalidity', ?1)";
	sqlite3_stmt *stmt = mail_store_prepare(store, sql_get, error_r);
	if (stmt == NULL)
		return -1;
	uint32_t last = 0;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		last = (uint32_t)sqlite3_column_int64(stmt, 0);
	/* Reset now: a statement left on a row keeps its read transaction
	 * open, and the connection would see the index as of then (and fail
	 * to write once another process has). */
	sqlite3_reset(stmt);
	/* Also kept outside the index, which may be lost: a rebuilt index
	 * must never give a UIDVALIDITY that clients already hold. */
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/petrel-uidvalidity", store->root);
	char *text;
	size_t len;
	const char *error;
	if (fs_read_file(path.data, &text, &len, &error) == 0) {
		uint32_t kept = (uint32_t)strtoul(text, NULL, 10);
		last = kept > last ? kept : last;
		free(text);
	}
	uint32_t now = (uint32_t)time(NULL);
	uint32_t value = now > last ? now : last + 1;
	if (value == 0)
		value = 1;
	stmt = mail_store_prepare(store, sql_set, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, value);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		*error_r = mail_store_error(store, "uidvalidity");
		buf_free(&path);
		return -1;
	}
	char line[16];
	int n = snprintf(line, sizeof(line), "%u\n", value);
	int fd = open(path.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fs_write_all(fd, line, (size_t)n) < 0 || fdatasync(fd) < 0) {
		*error_r = error_errno(path.data);
		if (fd >= 0)
			close(fd);
		buf_free(&path);
		return -1;
	}
	close(fd);
	buf_free(&path);
	*uidvalidity_r = value;
	return 0;
}

/* Whether the last error says the file is no index at all. */
static bool is_corrupt(struct mail_store *store)
{
	int code = sqlite3_errcode(store->db);
	return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

static int open_db(struct mail_store *store, const char *path, const char **error_r)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &store->db, flags, NULL) != SQLITE_OK) {
		*error_r =
		    error_fmt("%s: %s", path,
		              store->db ? sqlite3_errmsg(store->db) : "cannot open");
		sqlite3_close(store->db);
		store->db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(store->db, BUSY_TIMEOUT_MS);
	/* synchronous=FULL: a committed UID survives a power cut. */
	if (mail_store_exec(store,
	                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	                    "PRAGMA cache_size=-512;",
	                    error_r) < 0 ||
	    mail_store_begin(store, error_r) < 0) {
		errno = is_corrupt(store) ? EINVAL : EIO;
		return -1;
	}
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(
	    store->db, "SELECT value FROM meta WHERE key = 'version'", -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(stmt);
		char version[16] = "";
		if (rc == SQLITE_ROW)
			snprintf(version, sizeof(version), "%s",
			         (const char *)sqlite3_column_text(stmt, 0));
		sqlite3_finalize(stmt);
		/* Version 1 had no cache of the headers SORT and THREAD read. */
		if (strcmp(version, "1") == 0 &&
		    mail_store_exec(store,
		                    "ALTER TABLE cache ADD COLUMN headers BLOB;"
		                    "UPDATE meta SET value = '" SCHEMA_VERSION
		                    "' WHERE key = 'version';",
		                    error_r) == 0)
			snprintf(version, sizeof(version), "%s", SCHEMA_VERSION);
		bool current = strcmp(version, SCHEMA_VERSION) == 0;
		if (!current) {
			*error_r = error_fmt("%s: unknown index version", path);
			mail_store_rollback(store);
			errno = EINVAL;
			return -1;
		}
		return mail_store_commit(store, error_r);
	}
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ERROR && sqlite3_errmsg(store->db) &&
	    strstr(sqlite3_errmsg(store->db), "no such table")) {
		store->created = true;
		if (mail_store_exec(store, SCHEMA, error_r) < 0) {
			mail_store_rollback(store);
			return -1;
		}
		return mail_store_commit(store, error_r);
	}
	*error_r = mail_store_error(store, path);
	errno = is_corrupt(store) ? EINVAL : EIO;
	mail_store_rollback(store);
	return -1;
}

static void close_db(struct mail_store *store)
{
	for (size_t i = 0; i < store->stmt_count; i++)
		sqlite3_finalize(store->stmts[i].stmt);
	store->stmt_count = 0;
	sqlite3_close(store->db);
	store->db = NULL;
}

/* Moves a corrupt index and its WAL aside, for a look later. */
static void move_aside(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		struct buf from = BUF_INIT, to = BUF_INIT;
		buf_appendf(&from, "%s%s", path, suffixes[i]);
		buf_appendf(&to, "%s.corrupt%s", path, suffixes[i]);
		rename(from.data, to.data);
		buf_free(&from);
		buf_free(&to);
	}
}

/* Folders deleted half-way by a crash (see mail_store_delete). */
static void remove_deleted_leftovers(struct mail_store *store)
{
	DIR *dir = opendir(store->root);
	if (dir == NULL)
		return;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL)
		if (strncmp(entry->d_name, "petrel-deleted.", 15) == 0) {
			struct buf path = BUF_INIT;
			buf_appendf(&path, "%s/%s", store->root, entry->d_name);
			mail_store_remove_tree(path.data);
			buf_free(&path);
		}
	closedir(dir);
}

/*
 * A new index: the standard folders get their special use by name (as
 * Dovecot's configuration names them, so a migrated Maildir keeps its
 * Sent and Trash); a store without any folder is a new user's, who gets
 * all of them, subscribed.
 */
static int setup_standard_folders(struct mail_store *store, const char **error_r)
{
	struct mail_folder *folders;
	size_t count;
	if (mail_store_list(store, &folders, &count, error_r) < 0)
		return -1;
	bool fresh = count <= 1; /* INBOX alone */
	mail_folder_list_free(folders, count);
	for (size_t i = 0; i < sizeof(standard_folders) / sizeof(*standard_folders);
	     i++) {
		const char *name = standard_folders[i].name;
		char *path;
		if (mail_store_folder_path(store, name, &path, error_r) < 0)
			return -1;
		struct stat st;
		bool exists = stat(path, &st) == 0;
		free(path);
		int r = 0;
		if (exists)
			r = mail_store_set_special_use(store, name,
			                               standard_folders[i].use, error_r);
		else if (fresh)
			r = mail_store_create(store, name, standard_folders[i].use,
			                      error_r) < 0 ||
			            mail_store_subscribe(store, name, true, error_r) < 0
			        ? -1
			        : 0;
		if (r < 0)
			return -1;
	}
	return 0;
}

int mail_store_open(const char *root, struct mail_store **store_r, const char **error_r)
{
	if (maildir_create(root, error_r) < 0)
		return -1;
	struct mail_store *store = xcalloc(1, sizeof(*store));
	store->root = xstrdup(root);
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/%s", root, MAIL_STORE_INDEX);
	if (open_db(store, path.data, error_r) < 0) {
		close_db(store);
		if (errno != EINVAL) {
			buf_free(&path);
			mail_store_close(&store);
			return -1;
		}
		/* Corrupt: the files are the truth, so start again from them;
		 * UIDVALIDITY changes and clients resynchronise. */
		move_aside(path.data);
		store->created = false;
		if (open_db(store, path.data, error_r) < 0) {
			buf_free(&path);
			mail_store_close(&store);
			return -1;
		}
		store->rebuilt = true;
	}
	struct stat st;
	if (stat(path.data, &st) == 0) {
		store->index_dev = st.st_dev;
		store->index_ino = st.st_ino;
	}
	buf_free(&path);
	remove_deleted_leftovers(store);
	if (store->created && mail_store_migrate_subscriptions(store, error_r) < 0) {
		mail_store_close(&store);
		return -1;
	}
	if (store->created && setup_standard_folders(store, error_r) < 0) {
		mail_store_close(&store);
		return -1;
	}
	*store_r = store;
	return 0;
}

bool mail_store_replaced(const struct mail_store *store)
{
	struct buf path = BUF_INIT;
	struct stat st;
	buf_appendf(&path, "%s/%s", store->root, MAIL_STORE_INDEX);
	bool replaced = stat(path.data, &st) < 0 || st.st_dev != store->index_dev ||
	                st.st_ino != store->index_ino;
	buf_free(&path);
	return replaced;
}

void mail_store_close(struct mail_store **store_p)
{
	struct mail_store *store = *store_p;
	if (store == NULL)
		return;
	if (store->db)
		close_db(store);
	free(store->spare);
	free(store->stmts);
	free(store->root);
	free(store);
	*store_p = NULL;
}
