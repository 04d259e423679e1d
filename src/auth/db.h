/*
 * db.h — one SQL connection to the user database, SQLite or PostgreSQL.
 *
 * Both backends run the same SQL: parameters are written $1, $2, ... and
 * passed as text (NULL for SQL NULL), results come back as text. A
 * connection belongs to one thread; each thread opens its own. Calls
 * block (SQLite on its file, libpq on the network): the auth process
 * makes them on its loop only for SQLite lookups (auth_server.c).
 */
#ifndef PETREL_DB_H
#define PETREL_DB_H

#include <stddef.h>

#include "lib/config.h"

struct db;

struct db_result {
	size_t rows, cols;
	char **values; /* rows × cols; NULL for SQL NULL */
};

/* Opens the database named by auth (dsn; SQLite creates the file). */
int db_open(const struct auth_config *auth, struct db **db_r, const char **error_r);
void db_close(struct db **db);

/*
 * Runs one statement with n text parameters. result may be NULL when the
 * statement returns nothing of interest; otherwise free it with
 * db_result_free. Returns the number of rows changed or returned (>= 0),
 * or -1 with *error_r.
 */
long db_exec(struct db *db, const char *sql, const char *const *params, size_t n,
             struct db_result *result, const char **error_r);
const char *db_value(const struct db_result *result, size_t row, size_t col);
void db_result_free(struct db_result *result);

/* "sqlite" or "postgres", for messages. */
const char *db_backend_name(const struct db *db);

/* The backends (db_sqlite.c, db_pgsql.c) fill this in. */
struct db_backend {
	const char *name;
	long (*exec)(struct db *db, const char *sql, const char *const *params, size_t n,
	             struct db_result *result, const char **error_r);
	void (*close)(struct db *db);
};

struct db {
	const struct db_backend *backend;
};

int db_sqlite_open(const char *path, struct db **db_r, const char **error_r);
int db_pgsql_open(const char *conninfo, struct db **db_r, const char **error_r);

#endif
