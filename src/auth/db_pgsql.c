/*
 * db_pgsql.c — the PostgreSQL backend of db.h (libpq).
 *
 * Statements go through PQexecParams with text parameters, so values are
 * never spliced into SQL. A connection that broke (a server restart) is
 * reset and the statement run once more: petrel's statements are all
 * safe to repeat (reads, updates, and inserts that check or ignore
 * conflicts).
 */
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "auth/db.h"
#include "lib/error.h"
#include "lib/xalloc.h"

struct db_pgsql {
	struct db db;
	PGconn *conn;
};

/* libpq's messages span lines (and may start with one); logs want one. */
static const char *pg_error(const char *text)
{
	char line[512];
	size_t n = 0;
	for (const char *p = text; *p && n < sizeof(line) - 1; p++) {
		bool space = *p == '\n' || *p == '\r' || *p == '\t' || *p == ' ';
		if (space && (n == 0 || line[n - 1] == ' '))
			continue;
		line[n++] = space ? ' ' : *p;
	}
	while (n > 0 && line[n - 1] == ' ')
		n--;
	line[n] = '\0';
	return error_fmt("postgres: %s", n ? line : "connection lost");
}

static long pgsql_exec(struct db *db, const char *sql, const char *const *params,
                       size_t n, struct db_result *result, const char **error_r)
{
	struct db_pgsql *p = (struct db_pgsql *)db;
	if (PQstatus(p->conn) != CONNECTION_OK) {
		PQreset(p->conn);
		if (PQstatus(p->conn) != CONNECTION_OK) {
			*error_r = pg_error(PQerrorMessage(p->conn));
			return -1;
		}
	}
	PGresult *res = PQexecParams(p->conn, sql, (int)n, NULL, params, NULL, NULL, 0);
	ExecStatusType status = PQresultStatus(res);
	if (status == PGRES_FATAL_ERROR && PQstatus(p->conn) == CONNECTION_BAD) {
		/* The server went away since our last statement (a restart):
		 * libpq only learns it now. Once more on a new connection;
		 * every statement petrel runs is safe to repeat. */
		PQclear(res);
		PQreset(p->conn);
		res = PQexecParams(p->conn, sql, (int)n, NULL, params, NULL, NULL, 0);
		status = PQresultStatus(res);
	}
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
		*error_r = pg_error(PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	long count;
	if (status == PGRES_TUPLES_OK) {
		size_t rows = (size_t)PQntuples(res), cols = (size_t)PQnfields(res);
		count = (long)rows;
		if (result && rows > 0) {
			result->rows = rows;
			result->cols = cols;
			result->values = xcalloc(rows * cols, sizeof(*result->values));
			for (size_t r = 0; r < rows; r++)
				for (size_t c = 0; c < cols; c++)
					if (!PQgetisnull(res, (int)r, (int)c))
						result->values[r * cols + c] = xstrdup(
						    PQgetvalue(res, (int)r, (int)c));
		}
	} else {
		const char *affected = PQcmdTuples(res);
		count = affected[0] ? strtol(affected, NULL, 10) : 0;
	}
	PQclear(res);
	return count;
}

static void pgsql_close(struct db *db)
{
	struct db_pgsql *p = (struct db_pgsql *)db;
	PQfinish(p->conn);
	free(p);
}

static const struct db_backend pgsql_backend = {
    .name = "postgres",
    .exec = pgsql_exec,
    .close = pgsql_close,
};

/* Notices (such as "relation already exists, skipping") are not errors
 * and must not be written to our stderr by libpq. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int db_pgsql_open(const char *conninfo, struct db **db_r, const char **error_r)
{
	struct db_pgsql *p = xcalloc(1, sizeof(*p));
	p->db.backend = &pgsql_backend;
	p->conn = PQconnectdb(conninfo);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		*error_r = pg_error(PQerrorMessage(p->conn));
		pgsql_close(&p->db);
		return -1;
	}
	PQsetNoticeProcessor(p->conn, ignore_notice, NULL);
	*db_r = &p->db;
	return 0;
}
