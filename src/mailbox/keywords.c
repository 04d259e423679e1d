/*
 * keywords.c — a folder's keyword numbers (see keywords.h).
 */
#include "mailbox/keywords.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "mailbox/store_internal.h"
#include "proto/dovecot_uidlist.h"

void mail_keywords_clear(struct mail_keywords *kw)
{
	for (int i = 0; i < MAIL_KEYWORDS_MAX; i++)
		x_free(&kw->names[i]);
}

static int insert(struct mail_store *store, int64_t folder, unsigned id, const char *name,
                  size_t len, const char **error_r)
{
	static const char sql[] = "INSERT OR REPLACE INTO keywords VALUES (?1, ?2, ?3)";
	sqlite3_stmt *stmt = mail_store_prepare(store, sql, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, folder);
	sqlite3_bind_int(stmt, 2, (int)id);
	sqlite3_bind_text(stmt, 3, name, (int)len, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		*error_r = mail_store_error(store, "keyword");
		return -1;
	}
	return 0;
}

int mail_keywords_load(struct mail_store *store, int64_t folder, struct mail_keywords *kw,
                       const char **error_r)
{
	static const char sql[] = "SELECT id, name FROM keywords WHERE folder = ?1";
	mail_keywords_clear(kw);
	sqlite3_stmt *stmt = mail_store_prepare(store, sql, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, folder);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int id = sqlite3_column_int(stmt, 0);
		if (id >= 0 && id < MAIL_KEYWORDS_MAX)
			kw->names[id] =
			    xstrdup((const char *)sqlite3_column_text(stmt, 1));
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		*error_r = mail_store_error(store, "keywords");
		return -1;
	}
	return 0;
}

/* dovecot-keywords, rewritten whole (temporary file, then rename). */
static int write_dovecot_keywords(const char *path, const struct mail_keywords *kw,
                                  const char **error_r)
{
	struct buf text = BUF_INIT, tmp = BUF_INIT, final = BUF_INIT;
	for (int i = 0; i < MAIL_KEYWORDS_LETTERS; i++)
		if (kw->names[i])
			buf_appendf(&text, "%d %s\n", i, kw->names[i]);
	buf_appendf(&tmp, "%s/dovecot-keywords.tmp.%d", path, (int)getpid());
	buf_appendf(&final, "%s/dovecot-keywords", path);
	int r = -1;
	int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fs_write_all(fd, text.data, text.len) < 0 || fsync(fd) < 0 ||
	    rename(tmp.data, final.data) < 0) {
		*error_r = error_errno(tmp.data);
		unlink(tmp.data);
	} else {
		r = 0;
	}
	if (fd >= 0)
		close(fd);
	buf_free(&text);
	buf_free(&tmp);
	buf_free(&final);
	return r;
}

int mail_keywords_find(struct mail_store *store, int64_t folder, const char *path,
                       struct mail_keywords *kw, const char *name, bool create,
                       unsigned *id_r, const char **error_r)
{
	int free_id = -1;
	for (int i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		if (kw->names[i] && strcasecmp(kw->names[i], name) == 0) {
			*id_r = (unsigned)i;
			return 1;
		}
		if (kw->names[i] == NULL && free_id < 0)
			free_id = i;
	}
	if (!create)
		return 0;
	if (free_id < 0) {
		*error_r = "too many keywords in this folder";
		errno = ENOSPC;
		return -1;
	}
	if (insert(store, folder, (unsigned)free_id, name, strlen(name), error_r) < 0)
		return -1;
	kw->names[free_id] = xstrdup(name);
	/* The letter must mean this keyword before any file name uses it. */
	if (free_id < MAIL_KEYWORDS_LETTERS &&
	    write_dovecot_keywords(path, kw, error_r) < 0) {
		x_free(&kw->names[free_id]);
		return -1;
	}
	*id_r = (unsigned)free_id;
	return 1;
}

int mail_keywords_import_dovecot(struct mail_store *store, int64_t folder,
                                 const char *path, const char **error_r)
{
	struct buf file = BUF_INIT;
	buf_appendf(&file, "%s/dovecot-keywords", path);
	FILE *f = fopen(file.data, "r");
	buf_free(&file);
	if (f == NULL)
		return 0;
	char line[256];
	int r = 0;
	while (r == 0 && fgets(line, sizeof(line), f)) {
		unsigned id;
		const char *name, *error;
		size_t len;
		if (dovecot_keywords_line(line, strcspn(line, "\r\n"), &id, &name, &len,
		                          &error) == 0 &&
		    len <= MAIL_KEYWORD_MAX_LEN)
			r = insert(store, folder, id, name, len, error_r);
	}
	fclose(f);
	return r;
}
