/*
 * store_folders.c — the folders of a store: listing, CREATE, DELETE,
 * RENAME, subscriptions and special use (see store.h).
 *
 * A folder is a ".name" directory in the root (name in modified UTF-7,
 * levels separated by "."); the directories are the truth for what
 * exists, the index for what they cannot say. Errors set errno for the
 * protocols' response codes: EEXIST, ENOENT, EINVAL (a name refused),
 * EPERM (INBOX cannot be deleted).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "mailbox/maildir.h"
#include "mailbox/store_internal.h"
#include "proto/imap_utf7.h"

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void mail_store_remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int mail_store_folder_row(struct mail_store *store, const char *name, bool create,
                          uint32_t uidvalidity, struct folder_row *row,
                          const char **error_r)
{
	static const char sql_get[] =
	    "SELECT id, uidvalidity, uidnext, highestmodseq, recent_uid, new_mtime, "
	    "cur_mtime, special_use FROM folders WHERE name = ?1";
	static const char sql_add[] =
	    "INSERT INTO folders (name, uidvalidity) VALUES (?1, ?2)";
	name = mail_store_canonical_name(name);
	sqlite3_stmt *stmt = mail_store_prepare(store, sql_get, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*row = (struct folder_row){
		    .id = sqlite3_column_int64(stmt, 0),
		    .uidvalidity = (uint32_t)sqlite3_column_int64(stmt, 1),
		    .uidnext = (uint32_t)sqlite3_column_int64(stmt, 2),
		    .highestmodseq = (uint64_t)sqlite3_column_int64(stmt, 3),
		    .recent_uid = (uint32_t)sqlite3_column_int64(stmt, 4),
		    .new_mtime = sqlite3_column_int64(stmt, 5),
		    .cur_mtime = sqlite3_column_int64(stmt, 6),
		    .special_use = (enum mail_special_use)sqlite3_column_int(stmt, 7),
		};
		sqlite3_reset(stmt);
		return 1;
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		*error_r = mail_store_error(store, "folder");
		return -1;
	}
	if (!create)
		return 0;
	if (uidvalidity == 0 &&
	    mail_store_new_uidvalidity(store, &uidvalidity, error_r) < 0)
		return -1;
	stmt = mail_store_prepare(store, sql_add, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		*error_r = mail_store_error(store, "new folder");
		return -1;
	}
	*row = (struct folder_row){
	    .id = sqlite3_last_insert_rowid(store->db),
	    .uidvalidity = uidvalidity,
	    .uidnext = 1,
	    .highestmodseq = 1,
	    .recent_uid = 1,
	    .new_mtime = -1,
	    .cur_mtime = -1,
	};
	return 1;
}

int mail_store_set_special_use(struct mail_store *store, const char *name,
                               enum mail_special_use use, const char **error_r)
{
	static const char sql[] = "UPDATE folders SET special_use = ?2 WHERE id = ?1";
	struct folder_row row;
	if (mail_store_folder_row(store, name, true, 0, &row, error_r) < 0)
		return -1;
	sqlite3_stmt *stmt = mail_store_prepare(store, sql, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, row.id);
	sqlite3_bind_int(stmt, 2, (int)use);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		*error_r = mail_store_error(store, "special use");
		return -1;
	}
	return 0;
}

int mail_store_subscribe(struct mail_store *store, const char *name, bool subscribe,
                         const char **error_r)
{
	static const char sql_add[] = "INSERT OR IGNORE INTO subscriptions VALUES (?1)";
	static const char sql_del[] = "DELETE FROM subscriptions WHERE name = ?1";
	name = mail_store_canonical_name(name);
	if (strcmp(name, "INBOX") != 0 &&
	    imap_mailbox_name_check(name, MAIL_STORE_SEPARATOR, error_r) < 0) {
		errno = EINVAL;
		return -1;
	}
	sqlite3_stmt *stmt =
	    mail_store_prepare(store, subscribe ? sql_add : sql_del, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		*error_r = mail_store_error(store, "subscription");
		return -1;
	}
	return 0;
}

int mail_store_migrate_subscriptions(struct mail_store *store, const char **error_r)
{
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/subscriptions", store->root);
	FILE *f = fopen(path.data, "r");
	buf_free(&path);
	if (f == NULL)
		return 0;
	char line[IMAP_MAILBOX_NAME_MAX * 4];
	int r = 0;
	/* Dovecot 2.3 may write "V\t2" and a blank line first; names are
	 * then tab-separated levels. */
	while (r == 0 && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || strcmp(line, "V\t2") == 0)
			continue;
		for (char *p = line; *p; p++)
			if (*p == '\t')
				*p = MAIL_STORE_SEPARATOR;
		char name[IMAP_MAILBOX_NAME_MAX + 1];
		const char *error;
		if (imap_utf7_decode(line, strlen(line), name, &error) < 0)
			continue; /* not a name petrel could serve */
		if (mail_store_subscribe(store, name, true, &error) < 0 &&
		    errno != EINVAL)
			r = -1, *error_r = error;
	}
	fclose(f);
	return r;
}

/* The UTF-8 folder name of a root entry ".name", or -1 for anything else
 * (files, "..", petrel's own, undecodable or refused names). */
static int folder_of_entry(const char *entry, char *name)
{
	const char *error;
	if (entry[0] != '.' || entry[1] == '\0' || entry[1] == '.')
		return -1;
	if (imap_utf7_decode(entry + 1, strlen(entry + 1), name, &error) < 0)
		return -1;
	if (strcasecmp(name, "INBOX") == 0 ||
	    imap_mailbox_name_check(name, MAIL_STORE_SEPARATOR, &error) < 0)
		return -1;
	return 0;
}

static bool is_directory(const char *root, const char *entry)
{
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/%s", root, entry);
	struct stat st;
	bool dir = stat(path.data, &st) == 0 && S_ISDIR(st.st_mode);
	buf_free(&path);
	return dir;
}

static struct mail_folder *find_folder(struct mail_folder *folders, size_t count,
                                       const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(folders[i].name, name) == 0)
			return &folders[i];
	return NULL;
}

static struct mail_folder *add_folder(struct mail_folder **folders, size_t *count,
                                      size_t *cap, const char *name)
{
	struct mail_folder *f = find_folder(*folders, *count, name);
	if (f)
		return f;
	xgrow((void **)folders, cap, *count + 1, sizeof(**folders));
	f = &(*folders)[(*count)++];
	*f = (struct mail_folder){.name = xstrdup(name)};
	return f;
}

static int compare_folders(const void *a, const void *b)
{
	const struct mail_folder *x = a, *y = b;
	bool xi = strcmp(x->name, "INBOX") == 0, yi = strcmp(y->name, "INBOX") == 0;
	if (xi || yi)
		return yi - xi;
	return strcmp(x->name, y->name);
}

int mail_store_list(struct mail_store *store, struct mail_folder **folders_r,
                    size_t *count_r, const char **error_r)
{
	static const char sql_special[] =
	    "SELECT name, special_use FROM folders WHERE special_use != 0";
	static const char sql_subscribed[] = "SELECT name FROM subscriptions";
	struct mail_folder *folders = NULL;
	size_t count = 0, cap = 0;
	add_folder(&folders, &count, &cap, "INBOX")->exists = true;
	DIR *dir = opendir(store->root);
	if (dir == NULL) {
		*error_r = error_errno(store->root);
		mail_folder_list_free(folders, count);
		return -1;
	}
	struct dirent *entry;
	char name[IMAP_MAILBOX_NAME_MAX + 1];
	while ((entry = readdir(dir)) != NULL)
		if (folder_of_entry(entry->d_name, name) == 0 &&
		    is_directory(store->root, entry->d_name))
			add_folder(&folders, &count, &cap, name)->exists = true;
	closedir(dir);
	sqlite3_stmt *stmt = mail_store_prepare(store, sql_subscribed, error_r);
	if (stmt == NULL)
		goto fail;
	while (sqlite3_step(stmt) == SQLITE_ROW)
		add_folder(&folders, &count, &cap,
		           (const char *)sqlite3_column_text(stmt, 0))
		    ->subscribed = true;
	stmt = mail_store_prepare(store, sql_special, error_r);
	if (stmt == NULL)
		goto fail;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		struct mail_folder *f = find_folder(
		    folders, count, (const char *)sqlite3_column_text(stmt, 0));
		if (f && f->exists)
			f->special_use =
			    (enum mail_special_use)sqlite3_column_int(stmt, 1);
	}
	sqlite3_reset(stmt);
	/* Every level above a folder is listed (\Noselect when it is no
	 * folder itself), as Maildir++ keeps no directory for it. */
	for (size_t i = 0, n = count; i < n; i++) {
		if (!folders[i].exists)
			continue;
		char *parent = xstrdup(folders[i].name);
		char *dot;
		while ((dot = strrchr(parent, MAIL_STORE_SEPARATOR)) != NULL) {
			*dot = '\0';
			add_folder(&folders, &count, &cap, parent);
		}
		free(parent);
	}
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(folders[i].name);
		for (size_t j = 0; j < count && !folders[i].has_children; j++)
			folders[i].has_children =
			    folders[j].exists &&
			    strncmp(folders[j].name, folders[i].name, len) == 0 &&
			    folders[j].name[len] == MAIL_STORE_SEPARATOR;
	}
	qsort(folders, count, sizeof(*folders), compare_folders);
	*folders_r = folders;
	*count_r = count;
	return 0;
fail:
	mail_folder_list_free(folders, count);
	return -1;
}

void mail_folder_list_free(struct mail_folder *folders, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(folders[i].name);
	free(folders);
}

static bool path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* A Maildir++ folder: new/, cur/, tmp/ and the "maildirfolder" marker
 * that tells deliver-style tools it is not a user's root. */
static int make_folder(const char *path, const char **error_r)
{
	if (maildir_create(path, error_r) < 0)
		return -1;
	struct buf marker = BUF_INIT;
	buf_appendf(&marker, "%s/maildirfolder", path);
	int fd = open(marker.data, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	buf_free(&marker);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Removes a folder's rows from the index (its messages, cache,
 * expunge records and keywords). */
static int forget_folder(struct mail_store *store, int64_t id, const char **error_r)
{
	static const char *const sql[] = {
	    "DELETE FROM messages WHERE folder = ?1",
	    "DELETE FROM cache WHERE folder = ?1",
	    "DELETE FROM expunged WHERE folder = ?1",
	    "DELETE FROM keywords WHERE folder = ?1",
	    "DELETE FROM folders WHERE id = ?1",
	};
	for (size_t i = 0; i < sizeof(sql) / sizeof(*sql); i++) {
		sqlite3_stmt *stmt = mail_store_prepare(store, sql[i], error_r);
		if (stmt == NULL)
			return -1;
		sqlite3_bind_int64(stmt, 1, id);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			*error_r = mail_store_error(store, "delete folder");
			return -1;
		}
	}
	return 0;
}

int mail_store_create(struct mail_store *store, const char *name,
                      enum mail_special_use use, const char **error_r)
{
	name = mail_store_canonical_name(name);
	if (strcmp(name, "INBOX") == 0) {
		*error_r = "INBOX exists always";
		errno = EEXIST;
		return -1;
	}
	char *path;
	if (mail_store_folder_path(store, name, &path, error_r) < 0) {
		errno = EINVAL;
		return -1;
	}
	int r = -1;
	if (path_exists(path)) {
		*error_r = "a folder by that name exists";
		errno = EEXIST;
		goto out;
	}
	/* Parents first (RFC 9051 6.3.4: "foo.bar" makes "foo" if needed). */
	char *parent = xstrdup(name);
	for (char *dot = strchr(parent, MAIL_STORE_SEPARATOR); dot;
	     dot = strchr(dot + 1, MAIL_STORE_SEPARATOR)) {
		*dot = '\0';
		char *parent_path;
		int made = mail_store_folder_path(store, parent, &parent_path, error_r);
		if (made == 0 && !path_exists(parent_path))
			made = make_folder(parent_path, error_r);
		if (made == 0)
			free(parent_path);
		*dot = MAIL_STORE_SEPARATOR;
		if (made < 0) {
			free(parent);
			goto out;
		}
	}
	free(parent);
	if (make_folder(path, error_r) < 0)
		goto out;
	/* A name used before (its directory removed behind petrel's back)
	 * gets a new row, hence a new UIDVALIDITY. */
	struct folder_row row;
	int found = mail_store_folder_row(store, name, false, 0, &row, error_r);
	if (found < 0 || (found > 0 && forget_folder(store, row.id, error_r) < 0))
		goto out;
	r = use != MAIL_SPECIAL_NONE
	        ? mail_store_set_special_use(store, name, use, error_r)
	        : 0;
out:
	free(path);
	return r;
}

int mail_store_delete(struct mail_store *store, const char *name, const char **error_r)
{
	name = mail_store_canonical_name(name);
	if (strcmp(name, "INBOX") == 0) {
		*error_r = "INBOX cannot be deleted";
		errno = EPERM;
		return -1;
	}
	char *path;
	if (mail_store_folder_path(store, name, &path, error_r) < 0) {
		errno = EINVAL;
		return -1;
	}
	/* Out of sight in one rename, then removed: a crash half-way
	 * leaves no half folder (the leftovers go at the next open). */
	struct buf doomed = BUF_INIT;
	buf_appendf(&doomed, "%s/petrel-deleted.%ld.%d", store->root, (long)time(NULL),
	            (int)getpid());
	int r = rename(path, doomed.data);
	if (r < 0) {
		*error_r = errno == ENOENT ? "no such folder" : error_errno(path);
		goto out;
	}
	mail_store_remove_tree(doomed.data);
	struct folder_row row;
	if (mail_store_begin(store, error_r) < 0)
		goto out;
	int found = mail_store_folder_row(store, name, false, 0, &row, error_r);
	r = found < 0 || (found > 0 && forget_folder(store, row.id, error_r) < 0)
	        ? -1
	        : mail_store_commit(store, error_r);
	if (r < 0)
		mail_store_rollback(store);
out:
	buf_free(&doomed);
	free(path);
	return r;
}

/* INBOX cannot move: its messages go into a new folder instead. */
static int rename_inbox(struct mail_store *store, const char *to, const char **error_r)
{
	if (mail_store_create(store, to, MAIL_SPECIAL_NONE, error_r) < 0)
		return -1;
	char *to_path;
	if (mail_store_folder_path(store, to, &to_path, error_r) < 0)
		return -1;
	int r = 0;
	static const char *const subdirs[] = {"new", "cur"};
	for (int i = 0; i < 2 && r == 0; i++) {
		struct buf from_dir = BUF_INIT;
		buf_appendf(&from_dir, "%s/%s", store->root, subdirs[i]);
		DIR *dir = opendir(from_dir.data);
		struct dirent *entry;
		while (dir && r == 0 && (entry = readdir(dir)) != NULL) {
			if (entry->d_name[0] == '.')
				continue;
			struct buf a = BUF_INIT, b = BUF_INIT;
			buf_appendf(&a, "%s/%s", from_dir.data, entry->d_name);
			buf_appendf(&b, "%s/%s/%s", to_path, subdirs[i], entry->d_name);
			if (rename(a.data, b.data) < 0 && errno != ENOENT) {
				*error_r = error_errno(a.data);
				r = -1;
			}
			buf_free(&a);
			buf_free(&b);
		}
		if (dir)
			closedir(dir);
		buf_free(&from_dir);
	}
	free(to_path);
	return r;
}

int mail_store_rename(struct mail_store *store, const char *from, const char *to,
                      const char **error_r)
{
	from = mail_store_canonical_name(from);
	to = mail_store_canonical_name(to);
	char *from_path = NULL, *to_path = NULL;
	int r = -1;
	if (mail_store_folder_path(store, from, &from_path, error_r) < 0 ||
	    mail_store_folder_path(store, to, &to_path, error_r) < 0 ||
	    strcmp(to, "INBOX") == 0) {
		if (strcmp(to, "INBOX") == 0)
			*error_r = "INBOX exists always";
		errno = strcmp(to, "INBOX") == 0 ? EEXIST : EINVAL;
		goto out;
	}
	if (!path_exists(from_path)) {
		*error_r = "no such folder";
		errno = ENOENT;
		goto out;
	}
	if (path_exists(to_path)) {
		*error_r = "a folder by that name exists";
		errno = EEXIST;
		goto out;
	}
	size_t from_len = strlen(from);
	if (strncmp(to, from, from_len) == 0 && to[from_len] == MAIL_STORE_SEPARATOR) {
		*error_r = "a folder cannot move below itself";
		errno = EINVAL;
		goto out;
	}
	if (strcmp(from, "INBOX") == 0) {
		r = rename_inbox(store, to, error_r);
		goto out;
	}
	/* The folder and everything below it, each a directory of its own. */
	struct mail_folder *folders;
	size_t count;
	if (mail_store_list(store, &folders, &count, error_r) < 0)
		goto out;
	if (mail_store_begin(store, error_r) < 0) {
		mail_folder_list_free(folders, count);
		goto out;
	}
	r = 0;
	for (size_t i = 0; i < count && r == 0; i++) {
		const char *name = folders[i].name;
		if (strncmp(name, from, from_len) != 0 ||
		    (name[from_len] != '\0' && name[from_len] != MAIL_STORE_SEPARATOR))
			continue;
		struct buf new_name = BUF_INIT;
		buf_appendf(&new_name, "%s%s", to, name + from_len);
		char *a = NULL, *b = NULL;
		r = mail_store_folder_path(store, name, &a, error_r);
		if (r == 0)
			r = mail_store_folder_path(store, new_name.data, &b, error_r);
		if (r == 0 && folders[i].exists && rename(a, b) < 0) {
			*error_r = error_errno(a);
			r = -1;
		}
		static const char sql_folder[] =
		    "UPDATE folders SET name = ?2 WHERE name = ?1";
		static const char sql_sub[] =
		    "UPDATE subscriptions SET name = ?2 WHERE name = ?1";
		for (int k = 0; k < 2 && r == 0; k++) {
			sqlite3_stmt *stmt =
			    mail_store_prepare(store, k ? sql_sub : sql_folder, error_r);
			if (stmt == NULL) {
				r = -1;
				break;
			}
			sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
			sqlite3_bind_text(stmt, 2, new_name.data, -1, SQLITE_STATIC);
			if (sqlite3_step(stmt) != SQLITE_DONE) {
				*error_r = mail_store_error(store, "rename");
				r = -1;
			}
		}
		free(a);
		free(b);
		buf_free(&new_name);
	}
	mail_folder_list_free(folders, count);
	r = r == 0 ? mail_store_commit(store, error_r) : (mail_store_rollback(store), -1);
	/* Parents of the new name, as CREATE makes them. */
	char *parent = xstrdup(to);
	for (char *dot = strchr(parent, MAIL_STORE_SEPARATOR); r == 0 && dot;
	     dot = strchr(dot + 1, MAIL_STORE_SEPARATOR)) {
		*dot = '\0';
		char *parent_path;
		if (mail_store_folder_path(store, parent, &parent_path, error_r) == 0) {
			if (!path_exists(parent_path))
				make_folder(parent_path, error_r);
			free(parent_path);
		}
		*dot = MAIL_STORE_SEPARATOR;
	}
	free(parent);
out:
	free(from_path);
	free(to_path);
	return r;
}
