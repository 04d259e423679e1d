/*
 * cmd_user.c — `petrel user add|passwd|del|list|enable|disable|quota|
 * grant|revoke|import`: the user database, directly (no daemon needed).
 * Exit 0 on success, 1 when refused, 2 on a usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "cli/cli.h"

static const char usage_text[] =
    "usage: petrel user add ADDRESS [--quota SIZE] [--disabled]\n"
    "       petrel user passwd ADDRESS\n"
    "       petrel user del ADDRESS\n"
    "       petrel user list [DOMAIN]\n"
    "       petrel user enable|disable ADDRESS\n"
    "       petrel user quota ADDRESS SIZE     (0: none)\n"
    "       petrel user grant USER TARGET|'*'  (USER may act for TARGET)\n"
    "       petrel user revoke USER TARGET\n"
    "       petrel user import FILE [--domain DOMAIN]  (Dovecot passwd-file)\n"
    "The password comes from standard input, or is asked twice on a terminal.\n";

static int usage(void)
{
	fputs(usage_text, stderr);
	return 2;
}

static int refused(const char *error)
{
	fprintf(stderr, "petrel: %s\n", error);
	return 1;
}

static int set_password(struct config *config, struct userdb *db, const char *address,
                        bool add, uint64_t quota, bool enabled)
{
	struct buf password = BUF_INIT;
	if (cli_read_password(&password) < 0)
		return 1;
	const char *error;
	struct password_secrets secrets = {BUF_INIT, BUF_INIT, BUF_INIT};
	int r = password_make(&config->auth.password, password.data, password.len,
	                      &secrets, &error);
	buf_free(&password);
	if (r == 0)
		r = add ? userdb_user_add(db, address, &secrets, quota, enabled, &error)
		        : userdb_user_set_secrets(db, address, &secrets, NULL, &error);
	password_secrets_free(&secrets);
	if (r < 0)
		return refused(error);
	struct buf stored = BUF_INIT;
	if (userdb_normalize(address, &stored, &error) == 0)
		address = stored.data;
	printf("%s %s\n", add ? "added" : "password changed for", address);
	buf_free(&stored);
	return 0;
}

static int user_add(struct config *config, struct userdb *db, int argc, char **argv)
{
	static const struct option options[] = {
	    {"quota", required_argument, NULL, 'q'},
	    {"disabled", no_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	uint64_t quota = 0;
	bool enabled = true;
	int opt;
	optind = 0; /* 0: glibc forgets main's "+" (see cmd_dns.c) */
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'q' && cli_parse_size(optarg, &quota) == 0)
			continue;
		if (opt == 'd') {
			enabled = false;
			continue;
		}
		return usage();
	}
	if (optind != argc - 1)
		return usage();
	return set_password(config, db, argv[optind], true, quota, enabled);
}

static void print_user(void *ctx, const char *const *values, size_t count)
{
	(void)ctx;
	(void)count;
	/* address, quota, enabled, password: only the scheme is shown. */
	const char *password = values[3] ? values[3] : "";
	const char *close = strchr(password, '}');
	int scheme_len = password[0] == '{' && close ? (int)(close - password - 1) : 0;
	unsigned long long quota = values[1] ? strtoull(values[1], NULL, 10) : 0;
	char quota_text[32] = "-";
	if (quota)
		snprintf(quota_text, sizeof(quota_text), "%llu", quota);
	printf("%-40s %-12s %-8s %.*s\n", values[0], quota_text,
	       values[2] && strcmp(values[2], "0") ? "enabled" : "disabled", scheme_len,
	       password + 1);
}

static void warn_if_yaml_user(const struct config *config, const char *address)
{
	if (config_find_user(config, address))
		fprintf(stderr,
		        "petrel: note: %s is listed under `users:` in %s and comes "
		        "back when petrel serve starts\n",
		        address, config->source);
}

static int run(struct config *config, struct userdb *db, int argc, char **argv)
{
	const char *verb = argv[1];
	const char *error = NULL;
	int r;
	if (strcmp(verb, "add") == 0)
		return user_add(config, db, argc - 1, argv + 1);
	if (strcmp(verb, "import") == 0)
		return cmd_user_import(config, db, argc - 1, argv + 1);
	if (strcmp(verb, "list") == 0 && argc <= 3) {
		printf("%-40s %-12s %-8s %s\n", "ADDRESS", "QUOTA", "STATE", "SCHEME");
		r = userdb_user_list(db, argc == 3 ? argv[2] : NULL, print_user, NULL,
		                     &error);
		return r < 0 ? refused(error) : 0;
	}
	if (argc == 3 && strcmp(verb, "passwd") == 0)
		return set_password(config, db, argv[2], false, 0, true);
	if (argc == 3 && strcmp(verb, "del") == 0) {
		if (userdb_user_delete(db, argv[2], &error) < 0)
			return refused(error);
		printf("deleted %s (its mail stays under %s/mail)\n", argv[2],
		       config->home);
		warn_if_yaml_user(config, argv[2]);
		return 0;
	}
	if (argc == 3 && (strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0)) {
		bool enable = verb[0] == 'e';
		if (userdb_user_set_enabled(db, argv[2], enable, &error) < 0)
			return refused(error);
		printf("%s %s\n", enable ? "enabled" : "disabled", argv[2]);
		return 0;
	}
	if (argc == 4 && strcmp(verb, "quota") == 0) {
		uint64_t quota;
		if (cli_parse_size(argv[3], &quota) < 0)
			return usage();
		if (userdb_user_set_quota(db, argv[2], quota, &error) < 0)
			return refused(error);
		printf("quota of %s: %llu\n", argv[2], (unsigned long long)quota);
		return 0;
	}
	if (argc == 4 && strcmp(verb, "grant") == 0) {
		if (userdb_grant(db, argv[2], argv[3], &error) < 0)
			return refused(error);
		printf("%s may act for %s\n", argv[2],
		       strcmp(argv[3], "*") ? argv[3] : "every user");
		return 0;
	}
	if (argc == 4 && strcmp(verb, "revoke") == 0) {
		long n = userdb_revoke(db, argv[2], argv[3], &error);
		if (n <= 0)
			return refused(n < 0 ? error : "no such grant");
		printf("revoked: %s for %s\n", argv[2], argv[3]);
		return 0;
	}
	return usage();
}

int cmd_user(const struct cli_options *options, int argc, char **argv)
{
	if (argc < 2)
		return usage();
	struct config *config;
	struct userdb *db;
	if (cli_userdb_open(options, &config, &db) < 0)
		return 1;
	int status = run(config, db, argc, argv);
	cli_userdb_close(&config, &db);
	return status;
}
