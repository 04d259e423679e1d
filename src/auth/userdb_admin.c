/*
 * userdb_admin.c — writes to the user database: users, domains, aliases
 * and delegations, as the petrel commands make them, and the seeding from
 * the YAML configuration at start and reload.
 */
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
	int exists = userdb_row_exists(u, SQL_USER_EXISTS, key.data, error_r);
	if (exists > 0) {
		*error_r = error_fmt("user %s already exists", key.data);
	} else if (exists == 0) {
		char quota_text[24], now[24];
		snprintf(quota_text, sizeof(quota_text), "%llu",
		         (unsigned long long)quota);
		userdb_now_text(now);
		const char *params[] = {key.data,
		                        userdb_domain_of(key.data),
		                        secrets->hash.data,
		                        secret_or_null(&secrets->scram),
		                        secret_or_null(&secrets->cram_md5),
		                        quota_text,
		                        enabled ? "1" : "0",
		                        now};
		if (userdb_domain_add(u, userdb_domain_of(key.data), error_r) == 0 &&
		    userdb_exec(u, SQL_USER_ADD, params, 8, NULL, error_r) >= 0)
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
	userdb_lower(address, &key);
	const char *params[8] = {key.data ? key.data : ""};
	for (size_t i = 0; i < rest_count && i < 7; i++)
		params[i + 1] = rest[i];
	long rows = userdb_exec(u, sql, params, rest_count + 1, NULL, error_r);
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
	if (userdb_exec(u, sql, params, key ? 1 : 0, &result, error_r) < 0)
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
		userdb_lower(domain, &key);
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
	userdb_lower(domain, out);
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
	userdb_now_text(now);
	const char *params[] = {key.data, now};
	if (r == 0 && userdb_exec(u, SQL_DOMAIN_ADD, params, 2, NULL, error_r) < 0)
		r = -1;
	buf_free(&key);
	return r;
}

int userdb_domain_delete(struct userdb *u, const char *domain, const char **error_r)
{
	struct buf key = BUF_INIT;
	userdb_lower(domain, &key);
	const char *params[] = {key.data ? key.data : ""};
	int r = -1;
	long used = userdb_query_number(u, SQL_DOMAIN_USED, params, 1, error_r);
	if (used > 0)
		*error_r = error_fmt("domain %s still has %ld users and aliases; delete "
		                     "them first",
		                     key.data, used);
	else if (used == 0) {
		long rows = userdb_exec(u, SQL_DOMAIN_DELETE, params, 1, NULL, error_r);
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
	int local = userdb_domain_is_local(u, userdb_domain_of(key.data), error_r);
	if (local == 0)
		*error_r = error_fmt("%s is not a local domain (add it with petrel "
		                     "domain add)",
		                     userdb_domain_of(key.data));
	if (local <= 0)
		goto out;
	char now[24];
	userdb_now_text(now);
	const char *params[] = {key.data, userdb_domain_of(key.data), to.data, now};
	if (userdb_domain_add(u, userdb_domain_of(key.data), error_r) == 0 &&
	    userdb_exec(u, SQL_ALIAS_ADD, params, 4, NULL, error_r) >= 0)
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
	userdb_lower(address, &key);
	if (target)
		userdb_lower(target, &to);
	const char *params[] = {buf_cstr(&key), buf_cstr(&to)};
	long rows = userdb_exec(u, target ? SQL_ALIAS_DELETE : SQL_ALIAS_DELETE_ALL,
	                        params, target ? 2 : 1, NULL, error_r);
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
	int exists = userdb_row_exists(u, SQL_USER_EXISTS, key.data, error_r);
	if (exists == 0)
		*error_r = error_fmt("no such user: %s", key.data);
	const char *params[] = {key.data, to.data};
	if (exists > 0 && userdb_exec(u, SQL_GRANT_ADD, params, 2, NULL, error_r) >= 0)
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
	userdb_lower(user, &key);
	userdb_lower(target, &to);
	const char *params[] = {buf_cstr(&key), buf_cstr(&to)};
	long rows = userdb_exec(u, SQL_GRANT_DELETE, params, 2, NULL, error_r);
	buf_free(&key);
	buf_free(&to);
	return rows;
}

/* One YAML user: added if missing; given the YAML's password when the
 * stored one is not it. A hash in the YAML is stored as it is (no SCRAM
 * keys until a PLAIN or LOGIN login rehashes it). */
static int seed_user(struct userdb *u, const struct user_config *yaml,
                     const char **error_r)
{
	const struct config *c = u->config;
	struct buf stored = BUF_INIT;
	bool plain = true;
	if (yaml->password &&
	    password_from_config(yaml->password, &stored, &plain, error_r) < 0) {
		*error_r = error_fmt("users: %s: %s", yaml->address, *error_r);
		buf_free(&stored);
		return -1;
	}
	struct user_record existing;
	int found = userdb_user_get(u, yaml->address, &existing, error_r);
	bool current = false;
	if (found > 0) {
		/* No password in YAML: the account exists but cannot log in
		 * until one is set with `petrel user passwd`. */
		current = yaml->password == NULL ||
		          (plain ? password_verify(&c->auth.password, existing.password,
		                                   stored.data, stored.len) == PASSWORD_OK
		                 : strcmp(existing.password, stored.data) == 0);
		user_record_free(&existing);
	}
	struct password_secrets secrets = {BUF_INIT, BUF_INIT, BUF_INIT};
	int r = found < 0 ? -1 : 0;
	if (r == 0 && !current) {
		if (yaml->password == NULL)
			buf_append_str(&secrets.hash, PASSWORD_NO_LOGIN);
		else if (plain)
			r = password_make(&c->auth.password, stored.data, stored.len,
			                  &secrets, error_r);
		else
			buf_append(&secrets.hash, stored.data, stored.len);
		if (r == 0 && found)
			r = userdb_user_set_secrets(u, yaml->address, &secrets, NULL,
			                            error_r);
		else if (r == 0)
			r = userdb_user_add(u, yaml->address, &secrets, 0, true, error_r);
	}
	password_secrets_free(&secrets);
	buf_free(&stored);
	return r;
}

/* The YAML aliases: each target added if missing, and, as `petrel alias
 * add` requires, every target in a local domain able to receive mail. */
static int seed_aliases(struct userdb *u, const char **error_r)
{
	const struct config *c = u->config;
	for (size_t i = 0; i < c->alias_count; i++)
		for (size_t t = 0; t < c->aliases[i].target_count; t++)
			if (userdb_alias_add(u, c->aliases[i].address,
			                     c->aliases[i].targets[t], error_r) < 0) {
				*error_r = error_fmt("aliases: %s: %s",
				                     c->aliases[i].address, *error_r);
				return -1;
			}
	for (size_t i = 0; i < c->alias_count; i++)
		for (size_t t = 0; t < c->aliases[i].target_count; t++) {
			const char *target = c->aliases[i].targets[t];
			struct userdb_expansion e;
			int r = userdb_expand(u, target, &e, error_r);
			if (r == 0 && e.local)
				*error_r = error_fmt("aliases: %s: %s does not exist (no "
				                     "user, alias or catch-all)",
				                     c->aliases[i].address,
				                     e.missing ? e.missing : target);
			bool bad = r < 0 || (r == 0 && e.local);
			userdb_expansion_free(&e);
			if (bad)
				return -1;
		}
	return 0;
}

int userdb_seed(struct userdb *u, const char **error_r)
{
	const struct config *c = u->config;
	for (size_t i = 0; i < c->domain_count; i++)
		if (userdb_domain_add(u, c->domains[i], error_r) < 0)
			return -1;
	for (size_t i = 0; i < c->user_count; i++)
		if (seed_user(u, &c->users[i], error_r) < 0)
			return -1;
	return seed_aliases(u, error_r);
}
