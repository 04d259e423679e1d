/*
 * db.c — the backend-independent part of db.h.
 */
#include "auth/db.h"

#include <stdlib.h>

int db_open(const struct auth_config *auth, struct db **db_r, const char **error_r)
{
	if (auth->backend == AUTH_BACKEND_POSTGRES)
		return db_pgsql_open(auth->dsn, db_r, error_r);
	return db_sqlite_open(auth->dsn, db_r, error_r);
}

void db_close(struct db **db)
{
	if (*db == NULL)
		return;
	(*db)->backend->close(*db);
	*db = NULL;
}

long db_exec(struct db *db, const char *sql, const char *const *params, size_t n,
             struct db_result *result, const char **error_r)
{
	if (result) {
		result->rows = result->cols = 0;
		result->values = NULL;
	}
	return db->backend->exec(db, sql, params, n, result, error_r);
}

const char *db_value(const struct db_result *result, size_t row, size_t col)
{
	if (row >= result->rows || col >= result->cols)
		return NULL;
	return result->values[row * result->cols + col];
}

void db_result_free(struct db_result *result)
{
	for (size_t i = 0; i < result->rows * result->cols; i++)
		free(result->values[i]);
	free(result->values);
	result->values = NULL;
	result->rows = result->cols = 0;
}

const char *db_backend_name(const struct db *db)
{
	return db->backend->name;
}
