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
	cli_report(config, "%s %s", add ? "added" : "password changed for", address);
	buf_free(&stored);
	return 0;
}

static void print_user(void *ctx, const char *const *values, size_t count)
{
	(void)count;
	++*(size_t *)ctx;
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

/* A typo in the domain (dave@exmaple.net) must not quietly make a new
 * local domain: that takes --create-domain. Checked before the password
 * is asked for. */
static int check_domain_exists(struct userdb *db, const char *address)
{
	const char *error;
	struct buf key = BUF_INIT;
	if (userdb_normalize(address, &key, &error) < 0) {
		refused(error);
		buf_free(&key);
		return -1;
	}
	const char *domain = strrchr(key.data, '@') + 1;
	int local = userdb_domain_is_local(db, domain, &error);
	if (local == 0)
		fprintf(
		    stderr,
		    "petrel: %s is not a local domain: add it first (petrel domain add "
		    "%s), or add the user with --create-domain\n",
		    domain, domain);
	else if (local < 0)
		fprintf(stderr, "petrel: %s\n", error);
	buf_free(&key);
	return local > 0 ? 0 : -1;
}

/* What the command line said, checked before the database is opened. */
struct user_args {
	const char *verb;
	const char *arg[3]; /* positional arguments after the verb */
	int count;
	uint64_t quota;
	bool disabled;
	bool create_domain;
	const char *domain;
};

struct user_verb {
	const char *name;
	int min, max;        /* positional arguments */
	const char *options; /* long options it takes, space-separated */
};

static const struct user_verb verbs[] = {
    {"add", 1, 1, "quota disabled create-domain"},
    {"passwd", 1, 1, ""},
    {"del", 1, 1, ""},
    {"list", 0, 1, ""},
    {"enable", 1, 1, ""},
    {"disable", 1, 1, ""},
    {"quota", 2, 2, ""},
    {"grant", 2, 2, ""},
    {"revoke", 2, 2, ""},
    {"import", 1, 1, "domain"},
};

static bool takes_option(const struct user_verb *v, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = v->options; (p = strstr(p, name)) != NULL; p += len)
		if ((p == v->options || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}

static int parse_args(int argc, char **argv, struct user_args *a)
{
	static const struct option options[] = {
	    {"quota", required_argument, NULL, 'q'},
	    {"disabled", no_argument, NULL, 'd'},
	    {"domain", required_argument, NULL, 'D'},
	    {"create-domain", no_argument, NULL, 'C'},
	    {NULL, 0, NULL, 0},
	};
	if (argc < 2)
		return cli_usage_error("user", "which action?");
	const struct user_verb *v = NULL;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			v = &verbs[i];
	if (v == NULL)
		return cli_usage_error("user", "unknown action '%s'", argv[1]);
	a->verb = v->name;
	int opt, index;
	opterr = 0;
	optind = 0; /* 0: glibc starts afresh */
	while ((opt = getopt_long(argc - 1, argv + 1, "", options, &index)) != -1) {
		if (opt == '?' || opt == ':')
			return cli_usage_error("user", "bad option '%s'", argv[optind]);
		if (!takes_option(v, options[index].name))
			return cli_usage_error("user", "'%s' does not take --%s", v->name,
			                       options[index].name);
		if (opt == 'q' && cli_parse_size(optarg, &a->quota) < 0)
			return cli_usage_error("user", "bad size '%s'", optarg);
		if (opt == 'd')
			a->disabled = true;
		if (opt == 'D')
			a->domain = optarg;
		if (opt == 'C')
			a->create_domain = true;
	}
	a->count = argc - 1 - optind;
	if (a->count < v->min || a->count > v->max)
		return cli_usage_error("user", "wrong number of arguments to '%s'",
		                       v->name);
	for (int i = 0; i < a->count; i++)
		a->arg[i] = argv[1 + optind + i];
	if (strcmp(v->name, "quota") == 0 && cli_parse_size(a->arg[1], &a->quota) < 0)
		return cli_usage_error("user", "bad size '%s'", a->arg[1]);
	return 0;
}

static int run(struct config *config, struct userdb *db, const struct user_args *a)
{
	const char *verb = a->verb;
	const char *address = a->arg[0];
	const char *error = NULL;
	if (strcmp(verb, "add") == 0) {
		if (!a->create_domain && check_domain_exists(db, address) < 0)
			return 1;
		return set_password(config, db, address, true, a->quota, !a->disabled);
	}
	if (strcmp(verb, "import") == 0)
		return cmd_user_import(config, db, address, a->domain);
	if (strcmp(verb, "list") == 0) {
		printf("%-40s %-12s %-8s %s\n", "ADDRESS", "QUOTA", "STATE", "SCHEME");
		size_t rows = 0;
		if (userdb_user_list(db, address, print_user, &rows, &error) < 0)
			return refused(error);
		printf("-- %zu user%s%s%s\n", rows, rows == 1 ? "" : "s",
		       address ? " in " : "", address ? address : "");
		return 0;
	}
	if (strcmp(verb, "passwd") == 0)
		return set_password(config, db, address, false, 0, true);
	if (strcmp(verb, "del") == 0) {
		if (userdb_user_delete(db, address, &error) < 0)
			return refused(error);
		cli_report(config, "deleted %s (its mail stays under %s/mail)", address,
		           config->home);
		warn_if_yaml_user(config, address);
		return 0;
	}
	if (strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0) {
		bool enable = verb[0] == 'e';
		if (userdb_user_set_enabled(db, address, enable, &error) < 0)
			return refused(error);
		cli_report(config, "%s %s", enable ? "enabled" : "disabled", address);
		return 0;
	}
	if (strcmp(verb, "quota") == 0) {
		if (userdb_user_set_quota(db, address, a->quota, &error) < 0)
			return refused(error);
		cli_report(config, "quota of %s: %llu", address,
		           (unsigned long long)a->quota);
		return 0;
	}
	if (strcmp(verb, "grant") == 0) {
		if (userdb_grant(db, address, a->arg[1], &error) < 0)
			return refused(error);
		cli_report(config, "%s may act for %s", address,
		           strcmp(a->arg[1], "*") ? a->arg[1] : "every user");
		return 0;
	}
	/* revoke */
	long n = userdb_revoke(db, address, a->arg[1], &error);
	if (n <= 0)
		return refused(n < 0 ? error : "no such grant");
	cli_report(config, "revoked: %s for %s", address, a->arg[1]);
	return 0;
}

int cmd_user(const struct cli_options *options, int argc, char **argv)
{
	struct user_args args = {0};
	int status = parse_args(argc, argv, &args);
	if (status != 0)
		return status;
	struct config *config;
	struct userdb *db;
	if (cli_userdb_open(options, &config, &db) < 0)
		return 1;
	status = run(config, db, &args);
	cli_userdb_close(&config, &db);
	/* A running daemon forgets what it knew of the user now: the old
	 * password, or a deleted or disabled user, stops working at once. */
	if (status == 0 && strcmp(args.verb, "list") != 0)
		cli_userdb_changed(options,
		                   strcmp(args.verb, "import") == 0 ? NULL : args.arg[0]);
	return status;
}
