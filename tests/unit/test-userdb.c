/*
 * test-userdb.c — the user database on SQLite: migrations, YAML seeding,
 * users, domains, aliases (chains, loops, catch-alls, +tags), who may
 * send as whom and act for whom. The PostgreSQL backend runs the same
 * statements and is covered by tests/integration/test_userdb_postgres.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/userdb.h"
#include "lib/buf.h"
#include "lib/fsutil.h"

static char dir[256];
static struct config *config;
static struct userdb *db;

static const char yaml_template[] =
    "home: %s\n"
    "domains: [example.test]\n"
    "users:\n"
    "  - {address: Yaml@Example.Test, password: %s}\n"
    "  - {address: nopass@example.test}\n"
    "auth: {dsn: \"%s/users.sqlite\", password_hash: {passes: 1, memory_kib: 64}}\n";

static struct config *load(const char *yaml_password)
{
	struct buf yaml = BUF_INIT;
	buf_appendf(&yaml, yaml_template, dir, yaml_password, dir);
	const char *error = NULL;
	struct config *c = config_load_string("test", yaml.data, yaml.len, NULL, &error);
	if (c == NULL)
		fail_msg("config: %s", error);
	buf_free(&yaml);
	return c;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/petrel-userdb-%d", getpid());
	const char *error;
	if (fs_mkdir_p(dir, 0700, &error) < 0 || password_init(&error) < 0)
		return -1;
	config = load("first");
	if (userdb_open(config, &db, &error) < 0 || userdb_migrate(db, &error) < 0 ||
	    userdb_seed(db, &error) < 0) {
		fprintf(stderr, "setup: %s\n", error);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	userdb_close(&db);
	config_free(&config);
	char command[300];
	snprintf(command, sizeof(command), "rm -rf %s", dir);
	return system(command) == 0 ? 0 : -1;
}

static void add_user(const char *address, const char *password)
{
	const char *error = NULL;
	struct password_secrets s = {BUF_INIT, BUF_INIT, BUF_INIT};
	assert_int_equal(
	    password_make(&config->auth.password, password, strlen(password), &s, &error),
	    0);
	if (userdb_user_add(db, address, &s, 0, true, &error) < 0)
		fail_msg("add %s: %s", address, error);
	password_secrets_free(&s);
}

static void add_alias(const char *address, const char *target)
{
	const char *error = NULL;
	if (userdb_alias_add(db, address, target, &error) < 0)
		fail_msg("alias %s -> %s: %s", address, target, error);
}

static void test_migrations(void **state)
{
	(void)state;
	const char *error;
	assert_int_equal(userdb_schema_version(db, &error), 1);
	assert_int_equal(userdb_migrate(db, &error), 0); /* again: nothing to do */
	assert_int_equal(userdb_schema_version(db, &error), 1);
}

/* A migration that fails names itself and the database's reason, whole
 * (the message once was formatted over itself), and leaves nothing. */
static void test_failed_migration(void **state)
{
	(void)state;
	char path[300];
	snprintf(path, sizeof(path), "%s/broken.sqlite", dir);
	sqlite3 *raw;
	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "CREATE TABLE domains (x)", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(raw);
	struct buf yaml = BUF_INIT;
	buf_appendf(&yaml, "home: %s\nauth: {dsn: \"%s\"}\n", dir, path);
	const char *error = NULL;
	struct config *c = config_load_string("test", yaml.data, yaml.len, NULL, &error);
	buf_free(&yaml);
	assert_non_null(c);
	struct userdb *broken;
	assert_int_equal(userdb_open(c, &broken, &error), 0);
	assert_int_equal(userdb_migrate(broken, &error), -1);
	assert_string_equal(error,
	                    "migration 1: sqlite: prepare: table domains already exists");
	assert_int_equal(userdb_schema_version(broken, &error), 0);
	userdb_close(&broken);
	config_free(&c);
}

static void test_seed(void **state)
{
	(void)state;
	const char *error;
	struct user_record u;
	assert_int_equal(userdb_user_get(db, "yaml@example.test", &u, &error), 1);
	assert_string_equal(u.address, "yaml@example.test");
	assert_int_equal(password_verify(&config->auth.password, u.password, "first", 5),
	                 PASSWORD_OK);
	assert_non_null(u.scram);
	user_record_free(&u);
	/* Without a password the account exists and can never log in. */
	assert_int_equal(userdb_user_get(db, "nopass@example.test", &u, &error), 1);
	assert_string_equal(u.password, PASSWORD_NO_LOGIN);
	user_record_free(&u);
	/* The YAML file changed the password: seeding again applies it. */
	struct config *changed = load("second");
	struct userdb *other;
	assert_int_equal(userdb_open(changed, &other, &error), 0);
	assert_int_equal(userdb_seed(other, &error), 0);
	assert_int_equal(userdb_user_get(db, "YAML@example.test", &u, &error), 1);
	assert_int_equal(password_verify(&config->auth.password, u.password, "second", 6),
	                 PASSWORD_OK);
	user_record_free(&u);
	userdb_close(&other);
	config_free(&changed);
}

static void test_users(void **state)
{
	(void)state;
	const char *error;
	add_user("Alice@Example.Test", "alice pw");
	struct password_secrets s = {BUF_INIT, BUF_INIT, BUF_INIT};
	password_make(&config->auth.password, "x", 1, &s, &error);
	error = NULL;
	assert_int_equal(userdb_user_add(db, "alice@example.test", &s, 0, true, &error),
	                 -1);
	assert_non_null(strstr(error, "already exists"));
	static const char *const invalid[] = {
	    "alice",         "a/b@example.test",     ".a@example.test",
	    "a@[127.0.0.1]", "\"a b\"@example.test", ""};
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		assert_int_equal(userdb_user_add(db, invalid[i], &s, 0, true, &error),
		                 -1);
	/* A new domain is created with its first user. */
	assert_int_equal(userdb_user_add(db, "bob@other.test", &s, 1000, false, &error),
	                 0);
	assert_int_equal(userdb_domain_is_local(db, "OTHER.test", &error), 1);
	struct user_record u;
	assert_int_equal(userdb_user_get(db, "bob@other.test", &u, &error), 1);
	assert_int_equal(u.quota, 1000);
	assert_false(u.enabled);
	user_record_free(&u);
	assert_int_equal(userdb_user_set_enabled(db, "bob@other.test", true, &error), 0);
	assert_int_equal(userdb_user_set_quota(db, "bob@other.test", 5, &error), 0);
	assert_int_equal(userdb_user_get(db, "bob@other.test", &u, &error), 1);
	assert_true(u.enabled);
	assert_int_equal(u.quota, 5);
	/* A rehash only lands if the hash is still the one it replaced. */
	assert_int_equal(
	    userdb_user_set_secrets(db, "bob@other.test", &s, "stale", &error), -1);
	assert_int_equal(
	    userdb_user_set_secrets(db, "bob@other.test", &s, u.password, &error), 0);
	user_record_free(&u);
	password_secrets_free(&s);
	/* A domain with users cannot go. */
	assert_int_equal(userdb_domain_delete(db, "other.test", &error), -1);
	assert_int_equal(userdb_user_delete(db, "bob@other.test", &error), 0);
	assert_int_equal(userdb_user_delete(db, "bob@other.test", &error), -1);
	assert_int_equal(userdb_user_get(db, "bob@other.test", &u, &error), 0);
	assert_int_equal(userdb_domain_delete(db, "other.test", &error), 0);
	assert_int_equal(userdb_domain_is_local(db, "other.test", &error), 0);
	/* YAML domains are local whatever the table says. */
	assert_int_equal(userdb_domain_is_local(db, "example.test", &error), 1);
}

/* Expands address and checks the sorted final recipients. */
static void expect_expansion(const char *address, int result, const char *finals)
{
	const char *error = NULL;
	struct userdb_expansion e;
	int r = userdb_expand(db, address, &e, &error);
	if (r != result)
		fail_msg("%s: got %d, want %d (%s)", address, r, result,
		         error ? error : "");
	if (r < 0)
		return;
	if (r == 0) {
		/* finals: the missing alias target it names, if any */
		const char *missing = e.missing ? e.missing : "";
		if (strcmp(missing, finals) != 0)
			fail_msg("%s: missing '%s', want '%s'", address, missing, finals);
		userdb_expansion_free(&e);
		return;
	}
	struct buf got = BUF_INIT;
	for (size_t i = 0; i < e.count; i++)
		buf_appendf(&got, "%s%s", i ? " " : "", e.addresses[i]);
	if (strcmp(got.data, finals) != 0)
		fail_msg("%s: got '%s', want '%s'", address, got.data, finals);
	buf_free(&got);
	userdb_expansion_free(&e);
}

static void test_aliases(void **state)
{
	(void)state;
	add_user("carol@example.test", "c");
	add_user("dave@example.test", "d");
	add_alias("team@example.test", "carol@example.test");
	add_alias("team@example.test", "DAVE@example.test");
	add_alias("team@example.test", "partner@remote.example");
	add_alias("sales@example.test", "team@example.test");
	add_alias("sales@example.test", "carol@example.test"); /* twice via team */
	add_alias("loop1@example.test", "loop2@example.test");
	add_alias("loop2@example.test", "loop1@example.test");
	add_alias("loop2@example.test", "carol@example.test");
	add_alias("stale@example.test", "gone@example.test");
	add_alias("@example.test", "dave@example.test");

	expect_expansion("carol@example.test", 1, "carol@example.test");
	expect_expansion("CAROL@EXAMPLE.TEST", 1, "carol@example.test");
	expect_expansion("carol+news@example.test", 1, "carol+news@example.test");
	expect_expansion("team@example.test", 1,
	                 "carol@example.test dave@example.test partner@remote.example");
	expect_expansion("team+x@example.test", 1,
	                 "carol@example.test dave@example.test partner@remote.example");
	expect_expansion("sales@example.test", 1,
	                 "carol@example.test dave@example.test partner@remote.example");
	expect_expansion("loop1@example.test", 1, "carol@example.test");
	/* Unknown addresses go to the catch-all, also through an alias. */
	expect_expansion("stale@example.test", 1, "dave@example.test");
	expect_expansion("nobody@example.test", 1, "dave@example.test");
	expect_expansion("someone@remote.example", 1, "someone@remote.example");
	const char *error;
	assert_int_equal(userdb_alias_delete(db, "@example.test", NULL, &error), 1);
	expect_expansion("nobody@example.test", 0, "");
	/* Without one, an alias to a local address that does not exist is
	 * refused whole (not accepted and partly bounced), naming the target. */
	expect_expansion("stale@example.test", 0, "gone@example.test");
	add_alias("partly@example.test", "carol@example.test");
	add_alias("partly@example.test", "gone@example.test");
	expect_expansion("partly@example.test", 0, "gone@example.test");
	expect_expansion("partly+x@example.test", 0, "gone@example.test");
	expect_expansion("carol+x@example.test", 1, "carol+x@example.test");
	expect_expansion("+carol@example.test", 0, ""); /* a tag needs a user before it */

	/* Deeper than USERDB_ALIAS_DEPTH: an error, not a guess. */
	for (int i = 0; i <= USERDB_ALIAS_DEPTH; i++) {
		char from[64], to[64];
		snprintf(from, sizeof(from), "chain%d@example.test", i);
		snprintf(to, sizeof(to), "chain%d@example.test", i + 1);
		add_alias(from, to);
	}
	expect_expansion("chain0@example.test", -1, "");

	/* Aliases only for local domains, targets must be addresses. */
	assert_int_equal(
	    userdb_alias_add(db, "x@remote.example", "carol@example.test", &error), -1);
	assert_int_equal(userdb_alias_add(db, "x@example.test", "not an address", &error),
	                 -1);
	assert_int_equal(
	    userdb_alias_delete(db, "team@example.test", "dave@example.test", &error), 1);
	expect_expansion("team@example.test", 1,
	                 "carol@example.test partner@remote.example");

	char *owner = NULL;
	assert_int_equal(
	    userdb_mailbox_owner(db, "Carol+Tag@example.test", &owner, &error), 1);
	assert_string_equal(owner, "carol@example.test");
	free(owner);
	assert_int_equal(userdb_mailbox_owner(db, "team@example.test", &owner, &error),
	                 0);
}

static void test_sending_and_acting(void **state)
{
	(void)state;
	const char *error;
	add_user("erin@example.test", "e");
	add_user("frank@example.test", "f");
	add_user("boss@example.test", "b");
	add_alias("info@example.test", "erin@example.test");
	add_alias("@example.test", "frank@example.test"); /* catch-all: not ownership */
	assert_int_equal(
	    userdb_may_send_as(db, "erin@example.test", "erin@example.test", &error), 1);
	assert_int_equal(userdb_may_send_as(db, "erin@example.test",
	                                    "Erin+lists@Example.Test", &error),
	                 1);
	assert_int_equal(
	    userdb_may_send_as(db, "erin@example.test", "info@example.test", &error), 1);
	assert_int_equal(userdb_may_send_as(db, "erin@example.test", "", &error), 1);
	assert_int_equal(
	    userdb_may_send_as(db, "erin@example.test", "frank@example.test", &error), 0);
	assert_int_equal(
	    userdb_may_send_as(db, "frank@example.test", "info@example.test", &error), 0);
	assert_int_equal(
	    userdb_may_send_as(db, "frank@example.test", "whatever@example.test", &error),
	    0);
	assert_int_equal(
	    userdb_may_send_as(db, "erin@example.test", "ceo@elsewhere.example", &error),
	    0);
	assert_int_equal(
	    userdb_may_act_for(db, "erin@example.test", "ERIN@example.test", &error), 1);
	assert_int_equal(
	    userdb_may_act_for(db, "erin@example.test", "frank@example.test", &error), 0);
	assert_int_equal(
	    userdb_grant(db, "erin@example.test", "frank@example.test", &error), 0);
	assert_int_equal(
	    userdb_may_act_for(db, "erin@example.test", "frank@example.test", &error), 1);
	assert_int_equal(
	    userdb_may_send_as(db, "erin@example.test", "frank@example.test", &error), 1);
	assert_int_equal(userdb_grant(db, "boss@example.test", "*", &error), 0);
	assert_int_equal(
	    userdb_may_act_for(db, "boss@example.test", "erin@example.test", &error), 1);
	assert_int_equal(userdb_grant(db, "ghost@example.test", "*", &error), -1);
	assert_int_equal(
	    userdb_revoke(db, "erin@example.test", "frank@example.test", &error), 1);
	assert_int_equal(
	    userdb_may_act_for(db, "erin@example.test", "frank@example.test", &error), 0);
	/* Deleting a user takes their delegations with them. */
	assert_int_equal(userdb_user_delete(db, "boss@example.test", &error), 0);
	add_user("boss@example.test", "b");
	assert_int_equal(
	    userdb_may_act_for(db, "boss@example.test", "erin@example.test", &error), 0);
}

static void count_row(void *ctx, const char *const *values, size_t count)
{
	(void)values;
	assert_true(count >= 2);
	(*(int *)ctx)++;
}

static void test_lists(void **state)
{
	(void)state;
	const char *error;
	int users = 0, domains = 0, aliases = 0;
	assert_int_equal(userdb_user_list(db, "example.test", count_row, &users, &error),
	                 0);
	assert_int_equal(userdb_domain_list(db, count_row, &domains, &error), 0);
	assert_int_equal(userdb_alias_list(db, NULL, count_row, &aliases, &error), 0);
	assert_true(users >= 8);
	assert_int_equal(domains, 1);
	assert_true(aliases >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_migrations), cmocka_unit_test(test_failed_migration),
	    cmocka_unit_test(test_seed),       cmocka_unit_test(test_users),
	    cmocka_unit_test(test_aliases),    cmocka_unit_test(test_sending_and_acting),
	    cmocka_unit_test(test_lists),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
