/*
 * userdb_lookup.c — reads on the mail path: a user for a login, whether a
 * domain is local, the expansion of a recipient through aliases and +tags,
 * and who may send as or act for whom.
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

static const char SQL_USER_GET[] = "SELECT address, password, scram, cram_md5, quota, "
                                   "enabled FROM users WHERE address = $1";
static const char SQL_USER_EXISTS[] = "SELECT 1 FROM users WHERE address = $1";
static const char SQL_DOMAIN_GET[] = "SELECT 1 FROM domains WHERE name = $1";
static const char SQL_ALIAS_TARGETS[] =
    "SELECT target FROM aliases WHERE address = $1 ORDER BY target";
static const char SQL_GRANT_CHECK[] = "SELECT 1 FROM delegations WHERE address = $1 "
                                      "AND (target = $2 OR target = '*')";

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
	userdb_lower(address, &key);
	const char *params[] = {key.data ? key.data : ""};
	struct db_result result;
	long rows = userdb_exec(u, SQL_USER_GET, params, 1, &result, error_r);
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

int userdb_domain_is_local(struct userdb *u, const char *domain, const char **error_r)
{
	if (config_is_local_domain(u->config, domain))
		return 1;
	struct buf key = BUF_INIT;
	userdb_lower(domain, &key);
	int r = userdb_row_exists(u, SQL_DOMAIN_GET, key.data ? key.data : "", error_r);
	buf_free(&key);
	return r;
}

static long alias_targets(struct userdb *u, const char *key, struct db_result *result,
                          const char **error_r)
{
	const char *params[] = {key};
	return userdb_exec(u, SQL_ALIAS_TARGETS, params, 1, result, error_r);
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
	int local = userdb_domain_is_local(u, userdb_domain_of(address), error_r);
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
	int user = userdb_row_exists(u, SQL_USER_EXISTS, address, error_r);
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
		r = userdb_row_exists(u, SQL_USER_EXISTS, base.data, error_r);
		if (r > 0)
			add_final(st, address); /* the tag stays for Delivered-To */
		if (r != 0)
			goto out;
	}
	buf_reset(&base);
	buf_appendf(&base, "@%s", userdb_domain_of(address));
	n = alias_targets(u, base.data, &targets, error_r);
	if (n != 0)
		r = n < 0                                              ? -1
		    : expand_targets(st, &targets, depth, error_r) < 0 ? -1
		                                                       : 1;
	else if (depth > 0 && st->out->missing == NULL)
		/* An alias names a local address that does not exist. */
		st->out->missing = xstrdup(address);
out:
	buf_free(&base);
	return r;
}

int userdb_expand(struct userdb *u, const char *address, struct userdb_expansion *out,
                  const char **error_r)
{
	memset(out, 0, sizeof(*out));
	struct buf key = BUF_INIT;
	userdb_lower(address, &key);
	struct expansion_state st = {.u = u, .out = out};
	int r = expand(&st, buf_cstr(&key), 0, error_r);
	for (size_t i = 0; i < st.seen_count; i++)
		free(st.seen[i]);
	free(st.seen);
	buf_free(&key);
	if (r <= 0 || out->count == 0 || out->missing) {
		bool local = out->local;
		char *missing = r >= 0 ? out->missing : NULL;
		out->missing = r >= 0 ? NULL : out->missing;
		userdb_expansion_free(out);
		out->local = local;
		out->missing = missing;
		return r < 0 ? -1 : 0;
	}
	return 1;
}

void userdb_expansion_free(struct userdb_expansion *expansion)
{
	for (size_t i = 0; i < expansion->count; i++)
		free(expansion->addresses[i]);
	free(expansion->addresses);
	free(expansion->missing);
	free(expansion->quotas);
	memset(expansion, 0, sizeof(*expansion));
}

int userdb_mailbox_owner(struct userdb *u, const char *address, char **user_r,
                         const char **error_r)
{
	struct buf key = BUF_INIT, base = BUF_INIT;
	userdb_lower(address, &key);
	int r = userdb_row_exists(u, SQL_USER_EXISTS, buf_cstr(&key), error_r);
	const char *owner = key.data;
	if (r == 0 && strip_tag(buf_cstr(&key), &base)) {
		r = userdb_row_exists(u, SQL_USER_EXISTS, base.data, error_r);
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
	userdb_lower(user, &who);
	userdb_lower(target, &as);
	int r = 1;
	if (strcmp(buf_cstr(&who), buf_cstr(&as)) != 0) {
		const char *params[] = {buf_cstr(&who), buf_cstr(&as)};
		long rows = userdb_exec(u, SQL_GRANT_CHECK, params, 2, NULL, error_r);
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
	userdb_lower(user, &who);
	userdb_lower(sender, &as);
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
