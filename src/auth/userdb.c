/*
 * userdb.c — schema, migrations and queries of the user database (see
 * userdb.h). Every statement is the same text for SQLite and PostgreSQL.
 */
#include "auth/userdb.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/db.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "proto/smtp_addr.h"

struct userdb {
	struct db *db;
	const struct config *config;
};

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

static const char SQL_USER_GET[] = "SELECT address, password, scram, cram_md5, quota, "
                                   "enabled FROM users WHERE address = $1";
static const char SQL_USER_EXISTS[] = "SELECT 1 FROM users WHERE address = $1";
static const char SQL_USER_ADD[] =
    "INSERT INTO users (address, domain, password, scram, cram_md5, quota, enabled, "
    "created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char SQL_USER_SECRETS[] =
    "UPDATE users SET password = $2, scram = $3, cram_md5 = $4 WHERE address = $1";
static const char SQL_USER_REHASH[] =
    "UPDATE users SET password = $2, scram = $3, "
    "cram_md5 = $4 WHERE address = $1 AND password = $5";
static const char SQL_USER_QUOTA[] = "UPDATE users SET quota = $2 WHERE address = $1";
static const char SQL_USER_ENABLED[] = "UPDATE users SET enabled = $2 WHERE address = $1";
static const char SQL_USER_DELETE[] = "DELETE FROM users WHERE address = $1";
static const char SQL_USER_LIST[] =
    "SELECT address, quota, enabled, password FROM users ORDER BY address";
static const char SQL_USER_LIST_DOMAIN[] =
    "SELECT address, quota, enabled, password "
    "FROM users WHERE domain = $1 ORDER BY address";

static const char SQL_DOMAIN_GET[] = "SELECT 1 FROM domains WHERE name = $1";
static const char SQL_DOMAIN_ADD[] =
    "INSERT INTO domains (name, created) VALUES ($1, $2) ON CONFLICT DO NOTHING";
static const char SQL_DOMAIN_USED[] =
    "SELECT (SELECT COUNT(*) FROM users WHERE domain = $1) + "
    "(SELECT COUNT(*) FROM aliases WHERE domain = $1)";
static const char SQL_DOMAIN_DELETE[] = "DELETE FROM domains WHERE name = $1";
static const char SQL_DOMAIN_LIST[] =
    "SELECT name, (SELECT COUNT(*) FROM users u WHERE u.domain = d.name), "
    "(SELECT COUNT(*) FROM aliases a WHERE a.domain = d.name) FROM domains d "
    "ORDER BY name";

static const char SQL_ALIAS_TARGETS[] =
    "SELECT target FROM aliases WHERE address = $1 ORDER BY target";
static const char SQL_ALIAS_ADD[] = "INSERT INTO aliases (address, domain, target, "
                                    "created) VALUES ($1, $2, $3, $4) ON CONFLICT DO "
                                    "NOTHING";
static const char SQL_ALIAS_DELETE[] =
    "DELETE FROM aliases WHERE address = $1 AND target = $2";
static const char SQL_ALIAS_DELETE_ALL[] = "DELETE FROM aliases WHERE address = $1";
static const char SQL_ALIAS_LIST[] =
    "SELECT address, target FROM aliases ORDER BY address, target";
static const char SQL_ALIAS_LIST_DOMAIN[] =
    "SELECT address, target FROM aliases WHERE domain = $1 ORDER BY address, target";

static const char SQL_GRANT_ADD[] = "INSERT INTO delegations (address, target) VALUES "
                                    "($1, $2) ON CONFLICT DO NOTHING";
static const char SQL_GRANT_DELETE[] =
    "DELETE FROM delegations WHERE address = $1 AND target = $2";
static const char SQL_GRANT_CHECK[] = "SELECT 1 FROM delegations WHERE address = $1 "
                                      "AND (target = $2 OR target = '*')";

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

static long exec(struct userdb *u, const char *sql, const char *const *params, size_t n,
                 struct db_result *result, const char **error_r)
{
	return db_exec(u->db, sql, params, n, result, error_r);
}

/* The first column of the first row as a number; -1 on error. */
static long query_number(struct userdb *u, const char *sql, const char *const *params,
                         size_t n, const char **error_r)
{
	struct db_result result;
	if (exec(u, sql, params, n, &result, error_r) < 0)
		return -1;
	const char *value = db_value(&result, 0, 0);
	long number = value ? strtol(value, NULL, 10) : 0;
	db_result_free(&result);
	return number;
}

static void now_text(char out[24])
{
	snprintf(out, 24, "%lld", (long long)time(NULL));
}

int userdb_schema_version(struct userdb *u, const char **error_r)
{
	if (exec(u, SQL_VERSION_TABLE, NULL, 0, NULL, error_r) < 0)
		return -1;
	return (int)query_number(u, SQL_VERSION_GET, NULL, 0, error_r);
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
		if (exec(u, "BEGIN", NULL, 0, NULL, error_r) < 0)
			return -1;
		const char *const *step = migrations[v - 1];
		int r = 0;
		for (size_t i = 0; r == 0 && step[i]; i++)
			r = exec(u, step[i], NULL, 0, NULL, error_r) < 0 ? -1 : 0;
		char text[16];
		snprintf(text, sizeof(text), "%d", v);
		const char *params[] = {text};
		if (r == 0)
			r = exec(u, SQL_VERSION_SET, params, 1, NULL, error_r) < 0 ? -1
			                                                           : 0;
		if (r == 0)
			r = exec(u, "COMMIT", NULL, 0, NULL, error_r) < 0 ? -1 : 0;
		if (r < 0) {
			/* Kept before the rollback, whose own failure would
			 * format over it. */
			char why[512];
			snprintf(why, sizeof(why), "%s", *error_r);
			const char *ignored;
			exec(u, "ROLLBACK", NULL, 0, NULL, &ignored);
			*error_r = error_fmt("migration %d: %s", v, why);
			return -1;
		}
	}
	return 0;
}

/* Lower-cases without validating (lookups of what a client sent). */
static void lower(const char *address, struct buf *out)
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
	lower(address, out);
	return 0;
}

static const char *domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at ? at + 1 : "";
}

void user_record_free(struct user_record *user)
{
	free(user->address);
	free(user->password);
	free(user->scram);
	free(user->cram_md5);
	memset(user, 0, sizeof(*user));
}

int userdb_user_get(struct userdb *u, const char *address, struct user_record *user,
                    const char **error_r)
{
	struct buf key = BUF_INIT;
	lower(address, &key);
	const char *params[] = {key.data ? key.data : ""};
	struct db_result result;
	long rows = exec(u, SQL_USER_GET, params, 1, &result, error_r);
	buf_free(&key);
	if (rows <= 0)
		return rows < 0 ? -1 : 0;
	const char *scram = db_value(&result, 0, 2), *cram = db_value(&result, 0, 3);
	const char *quota = db_value(&result, 0, 4), *enabled = db_value(&result, 0, 5);
	*user = (struct user_record){
	    .address = xstrdup(db_value(&result, 0, 0)),
	    .password = xstrdup(db_value(&result, 0, 1) ? db_value(&result, 0, 1) : ""),
	    .scram = scram && scram[0] ? xstrdup(scram) : NULL,
	    .cram_md5 = cram && cram[0] ? xstrdup(cram) : NULL,
	    .quota = quota ? strtoull(quota, NULL, 10) : 0,
	    .enabled = enabled && strcmp(enabled, "0") != 0,
	};
	db_result_free(&result);
	return 1;
}

static int row_exists(struct userdb *u, const char *sql, const char *key,
                      const char **error_r)
{
	const char *params[] = {key};
	long rows = exec(u, sql, params, 1, NULL, error_r);
	return rows < 0 ? -1 : rows > 0;
}

static const char *secret_or_null(const struct buf *b)
{
	return b->len ? b->data : NULL;
}

int userdb_user_add(struct userdb *u, const char *address,
                    const struct password_secrets *secrets, uint64_t quota, bool enabled,
                    const char **error_r)
{
	struct buf key = BUF_INIT;
	if (userdb_normalize(address, &key, error_r) < 0)
		return -1;
	int r = -1;
	int exists = row_exists(u, SQL_USER_EXISTS, key.data, error_r);
	if (exists > 0) {
		*error_r = error_fmt("user %s already exists", key.data);
	} else if (exists == 0) {
		char quota_text[24], now[24];
		snprintf(quota_text, sizeof(quota_text), "%llu",
		         (unsigned long long)quota);
		now_text(now);
		const char *params[] = {key.data,
		                        domain_of(key.data),
		                        secrets->hash.data,
		                        secret_or_null(&secrets->scram),
		                        secret_or_null(&secrets->cram_md5),
		                        quota_text,
		                        enabled ? "1" : "0",
		                        now};
		if (userdb_domain_add(u, domain_of(key.data), error_r) == 0 &&
		    exec(u, SQL_USER_ADD, params, 8, NULL, error_r) >= 0)
			r = 0;
	}
	buf_free(&key);
	return r;
}

/* Runs an UPDATE/DELETE on one user; "no such user" if nothing matched. */
static int change_user(struct userdb *u, const char *sql, const char *address,
                       const char *const *rest, size_t rest_count, const char **error_r)
{
	struct buf key = BUF_INIT;
	lower(address, &key);
	const char *params[8] = {key.data ? key.data : ""};
	for (size_t i = 0; i < rest_count && i < 7; i++)
		params[i + 1] = rest[i];
	long rows = exec(u, sql, params, rest_count + 1, NULL, error_r);
	if (rows == 0)
		*error_r = error_fmt("no such user: %s", buf_cstr(&key));
	buf_free(&key);
	return rows > 0 ? 0 : -1;
}

int userdb_user_set_secrets(struct userdb *u, const char *address,
                            const struct password_secrets *secrets, const char *expected,
                            const char **error_r)
{
	const char *rest[] = {secrets->hash.data, secret_or_null(&secrets->scram),
	                      secret_or_null(&secrets->cram_md5), expected};
	return change_user(u, expected ? SQL_USER_REHASH : SQL_USER_SECRETS, address,
	                   rest, expected ? 4 : 3, error_r);
}

int userdb_user_set_quota(struct userdb *u, const char *address, uint64_t quota,
                          const char **error_r)
{
	char text[24];
	snprintf(text, sizeof(text), "%llu", (unsigned long long)quota);
	const char *rest[] = {text};
	return change_user(u, SQL_USER_QUOTA, address, rest, 1, error_r);
}

int userdb_user_set_enabled(struct userdb *u, const char *address, bool enabled,
                            const char **error_r)
{
	const char *rest[] = {enabled ? "1" : "0"};
	return change_user(u, SQL_USER_ENABLED, address, rest, 1, error_r);
}

int userdb_user_delete(struct userdb *u, const char *address, const char **error_r)
{
	return change_user(u, SQL_USER_DELETE, address, NULL, 0, error_r);
}

static int list_rows(struct userdb *u, const char *sql, const char *key,
                     userdb_row_fn *fn, void *ctx, const char **error_r)
{
	const char *params[] = {key};
	struct db_result result;
	if (exec(u, sql, params, key ? 1 : 0, &result, error_r) < 0)
		return -1;
	for (size_t r = 0; r < result.rows; r++)
		fn(ctx, (const char *const *)&result.values[r * result.cols],
		   result.cols);
	db_result_free(&result);
	return 0;
}

/* Every row of `all`, or of `one` for domain when it is given. */
static int list_domain_rows(struct userdb *u, const char *all, const char *one,
                            const char *domain, userdb_row_fn *fn, void *ctx,
                            const char **error_r)
{
	struct buf key = BUF_INIT;
	if (domain)
		lower(domain, &key);
	int r =
	    list_rows(u, domain ? one : all, domain ? key.data : NULL, fn, ctx, error_r);
	buf_free(&key);
	return r;
}

int userdb_user_list(struct userdb *u, const char *domain, userdb_row_fn *fn, void *ctx,
                     const char **error_r)
{
	return list_domain_rows(u, SQL_USER_LIST, SQL_USER_LIST_DOMAIN, domain, fn, ctx,
	                        error_r);
}

/* A domain name as configured: letters, digits, '-', '.', lower-cased. */
static int normalize_domain(const char *domain, struct buf *out, const char **error_r)
{
	lower(domain, out);
	struct buf probe = BUF_INIT;
	buf_appendf(&probe, "x@%s", buf_cstr(out));
	struct smtp_addr parsed;
	int r = smtp_addr_mailbox_check(probe.data, probe.len, &parsed, error_r);
	buf_free(&probe);
	if (r < 0)
		*error_r = error_fmt("'%s' is not a domain name", domain);
	return r;
}

int userdb_domain_add(struct userdb *u, const char *domain, const char **error_r)
{
	struct buf key = BUF_INIT;
	int r = normalize_domain(domain, &key, error_r);
	char now[24];
	now_text(now);
	const char *params[] = {key.data, now};
	if (r == 0 && exec(u, SQL_DOMAIN_ADD, params, 2, NULL, error_r) < 0)
		r = -1;
	buf_free(&key);
	return r;
}

int userdb_domain_delete(struct userdb *u, const char *domain, const char **error_r)
{
	struct buf key = BUF_INIT;
	lower(domain, &key);
	const char *params[] = {key.data ? key.data : ""};
	int r = -1;
	long used = query_number(u, SQL_DOMAIN_USED, params, 1, error_r);
	if (used > 0)
		*error_r = error_fmt("domain %s still has %ld users and aliases; delete "
		                     "them first",
		                     key.data, used);
	else if (used == 0) {
		long rows = exec(u, SQL_DOMAIN_DELETE, params, 1, NULL, error_r);
		if (rows == 0)
			*error_r = error_fmt("no such domain: %s", key.data);
		r = rows > 0 ? 0 : -1;
	}
	buf_free(&key);
	return r;
}

int userdb_domain_list(struct userdb *u, userdb_row_fn *fn, void *ctx,
                       const char **error_r)
{
	return list_rows(u, SQL_DOMAIN_LIST, NULL, fn, ctx, error_r);
}

int userdb_domain_is_local(struct userdb *u, const char *domain, const char **error_r)
{
	if (config_is_local_domain(u->config, domain))
		return 1;
	struct buf key = BUF_INIT;
	lower(domain, &key);
	int r = row_exists(u, SQL_DOMAIN_GET, key.data ? key.data : "", error_r);
	buf_free(&key);
	return r;
}

int userdb_alias_add(struct userdb *u, const char *address, const char *target,
                     const char **error_r)
{
	struct buf key = BUF_INIT, to = BUF_INIT;
	int r = -1;
	bool catch_all = address[0] == '@';
	if (catch_all ? normalize_domain(address + 1, &key, error_r) < 0
	              : userdb_normalize(address, &key, error_r) < 0)
		goto out;
	if (catch_all) {
		struct buf with_at = BUF_INIT;
		buf_appendf(&with_at, "@%s", key.data);
		buf_free(&key);
		key = with_at;
	}
	if (userdb_normalize(target, &to, error_r) < 0)
		goto out;
	int local = userdb_domain_is_local(u, domain_of(key.data), error_r);
	if (local == 0)
		*error_r = error_fmt("%s is not a local domain (add it with petrel "
		                     "domain add)",
		                     domain_of(key.data));
	if (local <= 0)
		goto out;
	char now[24];
	now_text(now);
	const char *params[] = {key.data, domain_of(key.data), to.data, now};
	if (userdb_domain_add(u, domain_of(key.data), error_r) == 0 &&
	    exec(u, SQL_ALIAS_ADD, params, 4, NULL, error_r) >= 0)
		r = 0;
out:
	buf_free(&key);
	buf_free(&to);
	return r;
}

long userdb_alias_delete(struct userdb *u, const char *address, const char *target,
                         const char **error_r)
{
	struct buf key = BUF_INIT, to = BUF_INIT;
	lower(address, &key);
	if (target)
		lower(target, &to);
	const char *params[] = {buf_cstr(&key), buf_cstr(&to)};
	long rows = exec(u, target ? SQL_ALIAS_DELETE : SQL_ALIAS_DELETE_ALL, params,
	                 target ? 2 : 1, NULL, error_r);
	buf_free(&key);
	buf_free(&to);
	return rows;
}

int userdb_alias_list(struct userdb *u, const char *domain, userdb_row_fn *fn, void *ctx,
                      const char **error_r)
{
	return list_domain_rows(u, SQL_ALIAS_LIST, SQL_ALIAS_LIST_DOMAIN, domain, fn, ctx,
	                        error_r);
}

int userdb_grant(struct userdb *u, const char *user, const char *target,
                 const char **error_r)
{
	struct buf key = BUF_INIT, to = BUF_INIT;
	int r = -1;
	if (userdb_normalize(user, &key, error_r) < 0)
		goto out;
	if (strcmp(target, "*") == 0)
		buf_append_str(&to, "*");
	else if (userdb_normalize(target, &to, error_r) < 0)
		goto out;
	int exists = row_exists(u, SQL_USER_EXISTS, key.data, error_r);
	if (exists == 0)
		*error_r = error_fmt("no such user: %s", key.data);
	const char *params[] = {key.data, to.data};
	if (exists > 0 && exec(u, SQL_GRANT_ADD, params, 2, NULL, error_r) >= 0)
		r = 0;
out:
	buf_free(&key);
	buf_free(&to);
	return r;
}

long userdb_revoke(struct userdb *u, const char *user, const char *target,
                   const char **error_r)
{
	struct buf key = BUF_INIT, to = BUF_INIT;
	lower(user, &key);
	lower(target, &to);
	const char *params[] = {buf_cstr(&key), buf_cstr(&to)};
	long rows = exec(u, SQL_GRANT_DELETE, params, 2, NULL, error_r);
	buf_free(&key);
	buf_free(&to);
	return rows;
}

/* The alias targets of key; -1 on error, else their number. */
static long alias_targets(struct userdb *u, const char *key, struct db_result *result,
                          const char **error_r)
{
	const char *params[] = {key};
	return exec(u, SQL_ALIAS_TARGETS, params, 1, result, error_r);
}

/* "user+tag@domain" → "user@domain" in out; false if there is no tag. */
static bool strip_tag(const char *address, struct buf *out)
{
	const char *at = strrchr(address, '@');
	const char *plus = at ? memchr(address, '+', (size_t)(at - address)) : NULL;
	if (plus == NULL || plus == address)
		return false;
	buf_reset(out);
	buf_append(out, address, (size_t)(plus - address));
	buf_append_str(out, at);
	return true;
}

struct expansion_state {
	struct userdb *u;
	struct userdb_expansion *out;
	char **seen; /* every address expanded so far: loops end here */
	size_t seen_count, seen_cap;
	size_t out_cap;
};

static bool seen_before(struct expansion_state *st, const char *address)
{
	for (size_t i = 0; i < st->seen_count; i++)
		if (strcmp(st->seen[i], address) == 0)
			return true;
	xgrow((void **)&st->seen, &st->seen_cap, st->seen_count + 1, sizeof(*st->seen));
	st->seen[st->seen_count++] = xstrdup(address);
	return false;
}

static void add_final(struct expansion_state *st, const char *address)
{
	struct userdb_expansion *out = st->out;
	for (size_t i = 0; i < out->count; i++)
		if (strcmp(out->addresses[i], address) == 0)
			return;
	if (out->count >= USERDB_MAX_EXPANSION) {
		out->truncated = true;
		return;
	}
	xgrow((void **)&out->addresses, &st->out_cap, out->count + 1,
	      sizeof(*out->addresses));
	out->addresses[out->count++] = xstrdup(address);
}

static int expand(struct expansion_state *st, const char *address, unsigned depth,
                  const char **error_r);

/* Expands each target of an alias; -1 on error. */
static int expand_targets(struct expansion_state *st, struct db_result *targets,
                          unsigned depth, const char **error_r)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < targets->rows; i++)
		r = expand(st, db_value(targets, i, 0), depth + 1, error_r) < 0 ? -1 : 0;
	db_result_free(targets);
	return r;
}

/*
 * Postfix's order, with a user's own mailbox before the catch-all:
 * alias of the address, the user, alias of the address without its +tag,
 * the user without it, then the domain's catch-all. Returns 1 resolved,
 * 0 unknown local address, -1 error.
 */
static int expand(struct expansion_state *st, const char *address, unsigned depth,
                  const char **error_r)
{
	struct userdb *u = st->u;
	if (depth > USERDB_ALIAS_DEPTH) {
		*error_r = error_fmt("aliases nested deeper than %d at %s",
		                     USERDB_ALIAS_DEPTH, address);
		return -1;
	}
	if (seen_before(st, address))
		return 1; /* a loop: that branch is already expanded */
	/* Aliases exist only for local domains (userdb_alias_add), so a
	 * remote address needs no other lookup. */
	int local = userdb_domain_is_local(u, domain_of(address), error_r);
	if (depth == 0)
		st->out->local = local > 0;
	if (local <= 0) {
		if (local == 0)
			add_final(st, address); /* remote: forwarded as it is */
		return local < 0 ? -1 : 1;
	}
	struct db_result targets;
	long n = alias_targets(u, address, &targets, error_r);
	if (n != 0)
		return n < 0                                              ? -1
		       : expand_targets(st, &targets, depth, error_r) < 0 ? -1
		                                                          : 1;
	int user = row_exists(u, SQL_USER_EXISTS, address, error_r);
	if (user != 0) {
		if (user > 0)
			add_final(st, address);
		return user;
	}
	struct buf base = BUF_INIT;
	int r = 0;
	if (strip_tag(address, &base)) {
		n = alias_targets(u, base.data, &targets, error_r);
		if (n != 0) {
			r = n < 0                                              ? -1
			    : expand_targets(st, &targets, depth, error_r) < 0 ? -1
			                                                       : 1;
			goto out;
		}
		r = row_exists(u, SQL_USER_EXISTS, base.data, error_r);
		if (r > 0)
			add_final(st, address); /* the tag stays for Delivered-To */
		if (r != 0)
			goto out;
	}
	buf_reset(&base);
	buf_appendf(&base, "@%s", domain_of(address));
	n = alias_targets(u, base.data, &targets, error_r);
	if (n != 0)
		r = n < 0                                              ? -1
		    : expand_targets(st, &targets, depth, error_r) < 0 ? -1
		                                                       : 1;
	else if (depth > 0) {
		/* An alias names a local address that does not exist: keep it,
		 * and the queue bounces it with a reason the sender can read. */
		add_final(st, address);
		r = 1;
	}
out:
	buf_free(&base);
	return r;
}

int userdb_expand(struct userdb *u, const char *address, struct userdb_expansion *out,
                  const char **error_r)
{
	memset(out, 0, sizeof(*out));
	struct buf key = BUF_INIT;
	lower(address, &key);
	struct expansion_state st = {.u = u, .out = out};
	int r = expand(&st, buf_cstr(&key), 0, error_r);
	for (size_t i = 0; i < st.seen_count; i++)
		free(st.seen[i]);
	free(st.seen);
	buf_free(&key);
	if (r <= 0 || out->count == 0) {
		bool local = out->local;
		userdb_expansion_free(out);
		out->local = local;
		return r < 0 ? -1 : 0;
	}
	return 1;
}

void userdb_expansion_free(struct userdb_expansion *expansion)
{
	for (size_t i = 0; i < expansion->count; i++)
		free(expansion->addresses[i]);
	free(expansion->addresses);
	memset(expansion, 0, sizeof(*expansion));
}

int userdb_mailbox_owner(struct userdb *u, const char *address, char **user_r,
                         const char **error_r)
{
	struct buf key = BUF_INIT, base = BUF_INIT;
	lower(address, &key);
	int r = row_exists(u, SQL_USER_EXISTS, buf_cstr(&key), error_r);
	const char *owner = key.data;
	if (r == 0 && strip_tag(buf_cstr(&key), &base)) {
		r = row_exists(u, SQL_USER_EXISTS, base.data, error_r);
		owner = base.data;
	}
	if (r > 0)
		*user_r = xstrdup(owner);
	buf_free(&key);
	buf_free(&base);
	return r;
}

int userdb_may_act_for(struct userdb *u, const char *user, const char *target,
                       const char **error_r)
{
	struct buf who = BUF_INIT, as = BUF_INIT;
	lower(user, &who);
	lower(target, &as);
	int r = 1;
	if (strcmp(buf_cstr(&who), buf_cstr(&as)) != 0) {
		const char *params[] = {buf_cstr(&who), buf_cstr(&as)};
		long rows = exec(u, SQL_GRANT_CHECK, params, 2, NULL, error_r);
		r = rows < 0 ? -1 : rows > 0;
	}
	buf_free(&who);
	buf_free(&as);
	return r;
}

/* Does an alias chain from address (without catch-alls) reach user? */
static int alias_reaches(struct userdb *u, const char *address, const char *user,
                         unsigned depth, const char **error_r)
{
	if (depth > USERDB_ALIAS_DEPTH)
		return 0;
	struct db_result targets;
	long n = alias_targets(u, address, &targets, error_r);
	if (n <= 0)
		return n < 0 ? -1 : 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < targets.rows; i++) {
		const char *t = db_value(&targets, i, 0);
		r = strcmp(t, user) == 0 ? 1
		                         : alias_reaches(u, t, user, depth + 1, error_r);
	}
	db_result_free(&targets);
	return r;
}

int userdb_may_send_as(struct userdb *u, const char *user, const char *sender,
                       const char **error_r)
{
	if (sender[0] == '\0')
		return 1; /* the null sender: a bounce or a receipt */
	struct buf who = BUF_INIT, as = BUF_INIT, base = BUF_INIT;
	lower(user, &who);
	lower(sender, &as);
	const char *plain = strip_tag(as.data, &base) ? base.data : as.data;
	int r = strcmp(plain, who.data) == 0 || strcmp(as.data, who.data) == 0;
	if (r == 0)
		r = alias_reaches(u, as.data, who.data, 0, error_r);
	if (r == 0 && plain != as.data)
		r = alias_reaches(u, plain, who.data, 0, error_r);
	if (r == 0)
		r = userdb_may_act_for(u, who.data, as.data, error_r);
	buf_free(&who);
	buf_free(&as);
	buf_free(&base);
	return r;
}

int userdb_seed(struct userdb *u, const char **error_r)
{
	const struct config *c = u->config;
	for (size_t i = 0; i < c->domain_count; i++)
		if (userdb_domain_add(u, c->domains[i], error_r) < 0)
			return -1;
	for (size_t i = 0; i < c->user_count; i++) {
		const struct user_config *yaml = &c->users[i];
		const char *password = yaml->password ? yaml->password : "";
		struct user_record existing;
		int found = userdb_user_get(u, yaml->address, &existing, error_r);
		if (found < 0)
			return -1;
		bool current = false;
		if (found) {
			/* No password in YAML: the account exists but cannot log in
			 * until one is set with `petrel user passwd`. */
			current =
			    yaml->password == NULL ||
			    password_verify(&c->auth.password, existing.password,
			                    password, strlen(password)) == PASSWORD_OK;
			user_record_free(&existing);
		}
		if (current)
			continue;
		struct password_secrets secrets = {BUF_INIT, BUF_INIT, BUF_INIT};
		int r = 0;
		if (yaml->password)
			r = password_make(&c->auth.password, password, strlen(password),
			                  &secrets, error_r);
		else
			buf_append_str(&secrets.hash, PASSWORD_NO_LOGIN);
		if (r == 0 && found)
			r = userdb_user_set_secrets(u, yaml->address, &secrets, NULL,
			                            error_r);
		else if (r == 0)
			r = userdb_user_add(u, yaml->address, &secrets, 0, true, error_r);
		password_secrets_free(&secrets);
		if (r < 0)
			return -1;
	}
	return 0;
}
