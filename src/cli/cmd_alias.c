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

static void print_alias(void *ctx, const char *const *values, size_t count)
{
	(void)ctx;
	(void)count;
	printf("%-40s %s\n", values[0], values[1]);
}

static void print_domain(void *ctx, const char *const *values, size_t count)
{
	(void)ctx;
	(void)count;
	printf("%-40s %-8s %s\n", values[0], values[1], values[2]);
}

static int alias_run(struct userdb *db, int argc, char **argv)
{
	const char *error = NULL;
	if (argc >= 4 && strcmp(argv[1], "add") == 0) {
		for (int i = 3; i < argc; i++)
			if (userdb_alias_add(db, argv[2], argv[i], &error) < 0)
				return refused(error);
		printf("%s -> %d target%s added\n", argv[2], argc - 3,
		       argc > 4 ? "s" : "");
		return 0;
	}
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "del") == 0) {
		long n =
		    userdb_alias_delete(db, argv[2], argc == 4 ? argv[3] : NULL, &error);
		if (n <= 0)
			return refused(n < 0 ? error : "no such alias");
		printf("removed %ld target%s of %s\n", n, n == 1 ? "" : "s", argv[2]);
		return 0;
	}
	if (argc <= 3 && strcmp(argv[1], "list") == 0) {
		printf("%-40s %s\n", "ALIAS", "TARGET");
		if (userdb_alias_list(db, argc == 3 ? argv[2] : NULL, print_alias, NULL,
		                      &error) < 0)
			return refused(error);
		return 0;
	}
	fprintf(stderr, "usage: petrel alias add ADDRESS|@DOMAIN TARGET...\n"
	                "       petrel alias del ADDRESS [TARGET]\n"
	                "       petrel alias list [DOMAIN]\n");
	return 2;
}

static int domain_run(const struct config *config, struct userdb *db, int argc,
                      char **argv)
{
	const char *error = NULL;
	if (argc == 3 && strcmp(argv[1], "add") == 0) {
		if (userdb_domain_add(db, argv[2], &error) < 0)
			return refused(error);
		printf("added %s\n", argv[2]);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "del") == 0) {
		if (userdb_domain_delete(db, argv[2], &error) < 0)
			return refused(error);
		printf("deleted %s\n", argv[2]);
		if (config_is_local_domain(config, argv[2]))
			fprintf(stderr,
			        "petrel: note: %s is listed under `domains:` in %s and "
			        "stays local\n",
			        argv[2], config->source);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		printf("%-40s %-8s %s\n", "DOMAIN", "USERS", "ALIASES");
		if (userdb_domain_list(db, print_domain, NULL, &error) < 0)
			return refused(error);
		return 0;
	}
	fprintf(stderr, "usage: petrel domain add DOMAIN | del DOMAIN | list\n");
	return 2;
}

static int open_and_run(const struct cli_options *options, int argc, char **argv,
                        bool alias)
{
	if (argc < 2) {
		fprintf(stderr, "usage: petrel %s add|del|list ...\n", argv[0]);
		return 2;
	}
	struct config *config;
	struct userdb *db;
	if (cli_userdb_open(options, &config, &db) < 0)
		return 1;
	int status =
	    alias ? alias_run(db, argc, argv) : domain_run(config, db, argc, argv);
	cli_userdb_close(&config, &db);
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
