/*
 * cmd_alias.c — `petrel alias add|del|list` and `petrel domain
 * add|del|list`: aliases (address → addresses, "@domain" for a
 * catch-all) and the domains petrel receives mail for.
 * Exit 0 on success, 1 when refused, 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int refused(const char *error)
{
	fprintf(stderr, "petrel: %s\n", error);
	return 1;
}

/* Rows listed, and the distinct aliases among them (rows come sorted). */
struct alias_count {
	size_t rows, aliases;
	char last[256];
};

static void print_alias(void *ctx, const char *const *values, size_t count)
{
	(void)count;
	struct alias_count *c = ctx;
	c->rows++;
	if (strcmp(c->last, values[0]) != 0) {
		c->aliases++;
		snprintf(c->last, sizeof(c->last), "%s", values[0]);
	}
	printf("%-40s %s\n", values[0], values[1]);
}

static void print_domain(void *ctx, const char *const *values, size_t count)
{
	(void)count;
	++*(size_t *)ctx;
	printf("%-40s %-8s %s\n", values[0], values[1], values[2]);
}

/* An alias target in a local domain must be able to receive mail (a
 * user, an alias that resolves, or a catch-all), or mail to the alias
 * would be accepted and then bounced to a possibly forged sender. With
 * --force it is taken anyway, and RCPT refuses the alias meanwhile. */
static int check_targets(struct userdb *db, const char *alias, char **targets, int count,
                         bool force)
{
	int status = 0;
	for (int i = 0; i < count; i++) {
		const char *error = NULL;
		struct buf key = BUF_INIT;
		struct userdb_expansion e;
		int r = userdb_normalize(targets[i], &key, &error) < 0
		            ? -1
		            : userdb_expand(db, key.data, &e, &error);
		if (r < 0) {
			buf_free(&key);
			return refused(error);
		}
		if (r == 0 && e.local) {
			const char *why = e.missing ? "its alias target " : "";
			const char *what = e.missing ? e.missing : key.data;
			if (force)
				fprintf(stderr,
				        "petrel: note: %s%s does not exist; mail to %s "
				        "is refused "
				        "until it does\n",
				        why, what, alias);
			else {
				fprintf(
				    stderr,
				    "petrel: %s: %s%s does not exist (no user, alias or "
				    "catch-all); add it first, or add the alias with "
				    "--force\n",
				    targets[i], why, what);
				status = 1;
			}
		}
		userdb_expansion_free(&e);
		buf_free(&key);
	}
	return status;
}

static int alias_run(const struct config *config, struct userdb *db, int argc,
                     char **argv, bool force)
{
	const char *error = NULL;
	if (argc >= 4 && strcmp(argv[1], "add") == 0) {
		if (check_targets(db, argv[2], argv + 3, argc - 3, force) != 0)
			return 1;
		for (int i = 3; i < argc; i++)
			if (userdb_alias_add(db, argv[2], argv[i], &error) < 0)
				return refused(error);
		cli_report(config, "%s -> %d target%s added", argv[2], argc - 3,
		           argc > 4 ? "s" : "");
		return 0;
	}
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "del") == 0) {
		long n =
		    userdb_alias_delete(db, argv[2], argc == 4 ? argv[3] : NULL, &error);
		if (n <= 0)
			return refused(n < 0 ? error : "no such alias");
		cli_report(config, "removed %ld target%s of %s", n, n == 1 ? "" : "s",
		           argv[2]);
		return 0;
	}
	if (argc <= 3 && strcmp(argv[1], "list") == 0) {
		printf("%-40s %s\n", "ALIAS", "TARGET");
		struct alias_count c = {0};
		if (userdb_alias_list(db, argc == 3 ? argv[2] : NULL, print_alias, &c,
		                      &error) < 0)
			return refused(error);
		printf("-- %zu alias%s, %zu target%s%s%s\n", c.aliases,
		       c.aliases == 1 ? "" : "es", c.rows, c.rows == 1 ? "" : "s",
		       argc == 3 ? " in " : "", argc == 3 ? argv[2] : "");
		return 0;
	}
	return cli_usage_error("alias", "unknown action or wrong arguments");
}

static int domain_run(const struct config *config, struct userdb *db, int argc,
                      char **argv)
{
	const char *error = NULL;
	if (argc == 3 && strcmp(argv[1], "add") == 0) {
		if (userdb_domain_add(db, argv[2], &error) < 0)
			return refused(error);
		cli_report(config, "added %s", argv[2]);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "del") == 0) {
		if (userdb_domain_delete(db, argv[2], &error) < 0)
			return refused(error);
		cli_report(config, "deleted %s", argv[2]);
		if (config_is_local_domain(config, argv[2]))
			fprintf(stderr,
			        "petrel: note: %s is listed under `domains:` in %s and "
			        "stays local\n",
			        argv[2], config->source);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		printf("%-40s %-8s %s\n", "DOMAIN", "USERS", "ALIASES");
		size_t rows = 0;
		if (userdb_domain_list(db, print_domain, &rows, &error) < 0)
			return refused(error);
		printf("-- %zu domain%s\n", rows, rows == 1 ? "" : "s");
		return 0;
	}
	return cli_usage_error("domain", "unknown action or wrong arguments");
}

/* The shape of the command line, checked before the database is opened:
 * {verb, fewest and most arguments after it}. */
struct shape {
	const char *verb;
	int min, max;
};

static const struct shape alias_shapes[] = {
    {"add", 2, 1000}, {"del", 1, 2}, {"list", 0, 1}, {NULL, 0, 0}};
static const struct shape domain_shapes[] = {
    {"add", 1, 1}, {"del", 1, 1}, {"list", 0, 0}, {NULL, 0, 0}};

static int check_shape(const struct shape *shapes, int argc, char **argv)
{
	int status = cli_no_options(argv[0], argc, argv);
	if (status != 0)
		return status;
	if (argc < 2)
		return cli_usage_error(argv[0], "which action?");
	for (const struct shape *s = shapes; s->verb; s++) {
		if (strcmp(argv[1], s->verb) != 0)
			continue;
		if (argc - 2 < s->min || argc - 2 > s->max)
			return cli_usage_error(
			    argv[0], "wrong number of arguments to '%s'", s->verb);
		return 0;
	}
	return cli_usage_error(argv[0], "unknown action '%s'", argv[1]);
}

/* Takes --force out of argv (alias add only); -1 where it does not belong. */
static int take_force(int *argc, char **argv, bool *force)
{
	int kept = 0;
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--force") == 0 && i > 0)
			*force = true;
		else
			argv[kept++] = argv[i];
	}
	*argc = kept;
	return *force && (kept < 2 || strcmp(argv[0], "alias") != 0 ||
	                  strcmp(argv[1], "add") != 0)
	           ? -1
	           : 0;
}

static int open_and_run(const struct cli_options *options, int argc, char **argv,
                        bool alias)
{
	bool force = false;
	if (take_force(&argc, argv, &force) < 0)
		return cli_usage_error(argv[0], "only 'alias add' takes --force");
	int status = check_shape(alias ? alias_shapes : domain_shapes, argc, argv);
	if (status != 0)
		return status;
	struct config *config;
	struct userdb *db;
	if (cli_userdb_open(options, &config, &db) < 0)
		return 1;
	status = alias ? alias_run(config, db, argc, argv, force)
	               : domain_run(config, db, argc, argv);
	cli_userdb_close(&config, &db);
	if (status == 0 && strcmp(argv[1], "list") != 0)
		cli_userdb_changed(options, NULL);
	return status;
}

int cmd_alias(const struct cli_options *options, int argc, char **argv)
{
	return open_and_run(options, argc, argv, true);
}

int cmd_domain(const struct cli_options *options, int argc, char **argv)
{
	return open_and_run(options, argc, argv, false);
}
