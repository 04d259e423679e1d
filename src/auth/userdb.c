/*
 * userdb.c — the user database's connection, schema and migrations (see
 * userdb.h), and the helpers its other parts share. Every statement is
 * the same text for SQLite and PostgreSQL.
 */
#include "auth/userdb.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/db.h"
#include "auth/userdb_internal.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "proto/smtp_addr.h"

/* Migration N brings the schema from version N-1 to N. Never edit one
 * that has shipped: add the next. */
static const char *const migration_1[] = {
    "CREATE TABLE domains (name TEXT PRIMARY KEY, created BIGINT NOT NULL)",
    "CREATE TABLE users (address TEXT PRIMARY KEY, "
    "domain TEXT NOT NULL REFERENCES domains (name), password TEXT NOT NULL, "
    "scram TEXT, cram_md5 TEXT, quota BIGINT NOT NULL DEFAULT 0, "
    "enabled INTEGER NOT NULL DEFAULT 1, created BIGINT NOT NULL)",
    "CREATE INDEX users_domain ON users (domain)",
    "CREATE TABLE aliases (address TEXT NOT NULL, domain TEXT NOT NULL "
    "REFERENCES domains (name), target TEXT NOT NULL, created BIGINT NOT NULL, "
    "PRIMARY KEY (address, target))",
    "CREATE INDEX aliases_domain ON aliases (domain)",
    "CREATE TABLE delegations (address TEXT NOT NULL REFERENCES users (address) "
    "ON DELETE CASCADE, target TEXT NOT NULL, PRIMARY KEY (address, target))",
    NULL,
};

static const char *const *const migrations[] = {migration_1};
#define SCHEMA_VERSION (int)(sizeof(migrations) / sizeof(migrations[0]))

static const char SQL_VERSION_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)";
static const char SQL_VERSION_GET[] = "SELECT MAX(version) FROM schema_version";
static const char SQL_VERSION_SET[] = "INSERT INTO schema_version (version) VALUES ($1)";

int userdb_open(const struct config *config, struct userdb **db_r, const char **error_r)
{
	struct db *db;
	if (db_open(&config->auth, &db, error_r) < 0)
		return -1;
	struct userdb *u = xcalloc(1, sizeof(*u));
	u->db = db;
	u->config = config;
	*db_r = u;
	return 0;
}

void userdb_close(struct userdb **db)
{
	if (*db == NULL)
		return;
	db_close(&(*db)->db);
	x_free(db);
}

static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;

static void thread_db_destroy(void *arg)
{
	struct userdb *u = arg;
	userdb_close(&u);
}

static void thread_key_create(void)
{
	pthread_key_create(&thread_key, thread_db_destroy);
}

struct userdb *userdb_for_thread(const struct config *config, const char **error_r)
{
	pthread_once(&thread_key_once, thread_key_create);
	struct userdb *u = pthread_getspecific(thread_key);
	if (u && u->config == config)
		return u;
	userdb_close(&u); /* opened for an older configuration */
	pthread_setspecific(thread_key, NULL);
	if (userdb_open(config, &u, error_r) < 0)
		return NULL;
	pthread_setspecific(thread_key, u);
	return u;
}

long userdb_exec(struct userdb *u, const char *sql, const char *const *params, size_t n,
                 struct db_result *result, const char **error_r)
{
	return db_exec(u->db, sql, params, n, result, error_r);
}

/* The first column of the first row as a number; -1 on error. */
long userdb_query_number(struct userdb *u, const char *sql, const char *const *params,
                         size_t n, const char **error_r)
{
	struct db_result result;
	if (userdb_exec(u, sql, params, n, &result, error_r) < 0)
		return -1;
	const char *value = db_value(&result, 0, 0);
	long number = value ? strtol(value, NULL, 10) : 0;
	db_result_free(&result);
	return number;
}

void userdb_now_text(char out[24])
{
	snprintf(out, 24, "%lld", (long long)time(NULL));
}

int userdb_schema_version(struct userdb *u, const char **error_r)
{
	if (userdb_exec(u, SQL_VERSION_TABLE, NULL, 0, NULL, error_r) < 0)
		return -1;
	return (int)userdb_query_number(u, SQL_VERSION_GET, NULL, 0, error_r);
}

int userdb_migrate(struct userdb *u, const char **error_r)
{
	int version = userdb_schema_version(u, error_r);
	if (version < 0)
		return -1;
	if (version > SCHEMA_VERSION) {
		*error_r = error_fmt("user database schema version %d is newer than "
		                     "this petrel (%d)",
		                     version, SCHEMA_VERSION);
		return -1;
	}
	for (int v = version + 1; v <= SCHEMA_VERSION; v++) {
		/* DDL is transactional in both: a failed step leaves nothing. */
		if (userdb_exec(u, "BEGIN", NULL, 0, NULL, error_r) < 0)
			return -1;
		const char *const *step = migrations[v - 1];
		int r = 0;
		for (size_t i = 0; r == 0 && step[i]; i++)
			r = userdb_exec(u, step[i], NULL, 0, NULL, error_r) < 0 ? -1 : 0;
		char text[16];
		snprintf(text, sizeof(text), "%d", v);
		const char *params[] = {text};
		if (r == 0)
			r = userdb_exec(u, SQL_VERSION_SET, params, 1, NULL, error_r) < 0
			        ? -1
			        : 0;
		if (r == 0)
			r = userdb_exec(u, "COMMIT", NULL, 0, NULL, error_r) < 0 ? -1 : 0;
		if (r < 0) {
			/* Kept before the rollback, whose own failure would
			 * format over it. */
			char why[512];
			snprintf(why, sizeof(why), "%s", *error_r);
			const char *ignored;
			userdb_exec(u, "ROLLBACK", NULL, 0, NULL, &ignored);
			*error_r = error_fmt("migration %d: %s", v, why);
			return -1;
		}
	}
	return 0;
}

/* Lower-cases without validating (lookups of what a client sent). */
void userdb_lower(const char *address, struct buf *out)
{
	buf_reset(out);
	for (const char *p = address; *p; p++)
		buf_append_char(out,
		                *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p);
}

int userdb_normalize(const char *address, struct buf *out, const char **error_r)
{
	struct smtp_addr parsed;
	if (smtp_addr_mailbox_check(address, strlen(address), &parsed, error_r) < 0)
		return -1;
	userdb_lower(address, out);
	return 0;
}

const char *userdb_domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at ? at + 1 : "";
}

int userdb_row_exists(struct userdb *u, const char *sql, const char *key,
                      const char **error_r)
{
	const char *params[] = {key};
	long rows = userdb_exec(u, sql, params, 1, NULL, error_r);
	return rows < 0 ? -1 : rows > 0;
}
