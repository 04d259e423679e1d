/*
 * db_sqlite.c — the SQLite backend of db.h: the embedded default.
 *
 * Several processes share the file (workers, the queue, the petrel
 * command), so it runs in WAL mode with a busy time-out: readers never
 * wait for a writer, and writers queue for a few seconds. Statements
 * are prepared once per connection and kept (the SQL texts are static).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/db.h"
#include "lib/error.h"
#include "lib/xalloc.h"

#define STATEMENT_CACHE 32
#define BUSY_TIMEOUT_MS 5000

struct db_sqlite {
	struct db db;
	sqlite3 *handle;
	struct {
		const char *sql; /* compared by address: callers pass literals */
		sqlite3_stmt *stmt;
	} cache[STATEMENT_CACHE];
};

static const char *sqlite_error(struct db_sqlite *s, const char *what)
{
	return error_fmt("sqlite: %s: %s", what, sqlite3_errmsg(s->handle));
}

static sqlite3_stmt *prepare(struct db_sqlite *s, const char *sql, const char **error_r)
{
	size_t free_slot = STATEMENT_CACHE;
	for (size_t i = 0; i < STATEMENT_CACHE; i++) {
		if (s->cache[i].sql == sql)
			return s->cache[i].stmt;
		if (s->cache[i].sql == NULL && free_slot == STATEMENT_CACHE)
			free_slot = i;
	}
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v3(s->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
	                       NULL) != SQLITE_OK) {
		*error_r = sqlite_error(s, "prepare");
		return NULL;
	}
	if (free_slot < STATEMENT_CACHE) {
		s->cache[free_slot].sql = sql;
		s->cache[free_slot].stmt = stmt;
	}
	return stmt;
}

static void release(struct db_sqlite *s, sqlite3_stmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	for (size_t i = 0; i < STATEMENT_CACHE; i++)
		if (s->cache[i].stmt == stmt)
			return;
	sqlite3_finalize(stmt);
}

static long sqlite_exec(struct db *db, const char *sql, const char *const *params,
                        size_t n, struct db_result *result, const char **error_r)
{
	struct db_sqlite *s = (struct db_sqlite *)db;
	sqlite3_stmt *stmt = prepare(s, sql, error_r);
	if (stmt == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char name[24];
		snprintf(name, sizeof(name), "$%zu", i + 1);
		int index = sqlite3_bind_parameter_index(stmt, name);
		if (index == 0)
			continue; /* a parameter this statement does not use */
		if (params[i] == NULL)
			sqlite3_bind_null(stmt, index);
		else
			sqlite3_bind_text(stmt, index, params[i], -1, SQLITE_STATIC);
	}
	size_t cap = 0, rows = 0;
	int cols = sqlite3_column_count(stmt);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rows++;
		if (result == NULL)
			continue;
		xgrow((void **)&result->values, &cap, rows * (size_t)cols,
		      sizeof(*result->values));
		for (int c = 0; c < cols; c++) {
			const unsigned char *text = sqlite3_column_text(stmt, c);
			result->values[(rows - 1) * (size_t)cols + (size_t)c] =
			    text ? xstrdup((const char *)text) : NULL;
		}
		result->rows = rows;
		result->cols = (size_t)cols;
	}
	if (rc != SQLITE_DONE) {
		*error_r = sqlite_error(s, "step");
		release(s, stmt);
		if (result)
			db_result_free(result);
		return -1;
	}
	long changed = cols > 0 ? (long)rows : (long)sqlite3_changes(s->handle);
	release(s, stmt);
	return changed;
}

static void sqlite_close(struct db *db)
{
	struct db_sqlite *s = (struct db_sqlite *)db;
	for (size_t i = 0; i < STATEMENT_CACHE; i++)
		if (s->cache[i].stmt)
			sqlite3_finalize(s->cache[i].stmt);
	sqlite3_close(s->handle);
	free(s);
}

static const struct db_backend sqlite_backend = {
    .name = "sqlite",
    .exec = sqlite_exec,
    .close = sqlite_close,
};

int db_sqlite_open(const char *path, struct db **db_r, const char **error_r)
{
	struct db_sqlite *s = xcalloc(1, sizeof(*s));
	s->db.backend = &sqlite_backend;
	/* One connection per thread: SQLite's own locking is not needed. */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &s->handle, flags, NULL) != SQLITE_OK) {
		*error_r =
		    error_fmt("sqlite: %s: %s", path,
		              s->handle ? sqlite3_errmsg(s->handle) : "cannot open");
		sqlite3_close(s->handle);
		free(s);
		return -1;
	}
	sqlite3_busy_timeout(s->handle, BUSY_TIMEOUT_MS);
	const char *setup = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; "
	                    "PRAGMA synchronous=FULL;";
	if (sqlite3_exec(s->handle, setup, NULL, NULL, NULL) != SQLITE_OK) {
		*error_r = error_fmt("sqlite: %s: %s", path, sqlite3_errmsg(s->handle));
		sqlite_close(&s->db);
		return -1;
	}
	*db_r = &s->db;
	return 0;
}
