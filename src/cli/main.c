/*
 * main.c — `petrel [options] COMMAND [options] [arguments]`: takes the
 * global options wherever they stand, then hands the rest to the
 * subcommand. Every subcommand's usage lives in the table below, so
 * `petrel COMMAND --help` and every usage error print the same text.
 * Exit status: 0 done, 1 refused or failed, 2 usage error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct subcommand {
	const char *name;
	int (*run)(const struct cli_options *options, int argc, char **argv);
	const char *summary;
	const char *usage; /* synopsis lines, then one line per option */
};

static const struct subcommand subcommands[] = {
    {"serve", cmd_serve, "run the mail server in the foreground",
     "usage: petrel serve\n"
     "Runs the master, the queue and the workers in the foreground, logging to\n"
     "stderr; SIGTERM stops, SIGHUP reloads the configuration.\n"},
    {"status", cmd_status, "is petrel running: pid, uptime, listeners, queue",
     "usage: petrel status\n"
     "Asks the running master (home/run/master.sock). Exit 0 when petrel runs,\n"
     "3 when it does not.\n"},
    {"reload", cmd_reload, "load the configuration again (as SIGHUP)",
     "usage: petrel reload\n"
     "The running master loads the configuration again; new sessions get it,\n"
     "open ones finish on the old. A configuration that does not load is\n"
     "refused (exit 1, the reason on stderr) and the running one stays.\n"},
    {"stop", cmd_stop, "stop the running daemon (as SIGTERM)",
     "usage: petrel stop\n"
     "Messages and deliveries in flight finish first; returns once petrel has\n"
     "exited. Exit 0 also when it was not running.\n"},
    {"check-config", cmd_check_config, "validate the configuration and print it",
     "usage: petrel check-config\n"
     "Loads the configuration as `serve` would, prints the effective values\n"
     "(defaults filled in) and exits 0, or names the error and exits 1.\n"},
    {"dns", cmd_dns, "look a name up with petrel's resolver",
     "usage: petrel dns lookup NAME [TYPE] [options]\n"
     "  --server IP[:PORT]  ask this server instead of the configured resolver\n"
     "  --json              print the answer as JSON\n"},
    {"queue", cmd_queue, "list and manage queued messages",
     "usage: petrel queue list\n"
     "       petrel queue show ID\n"
     "       petrel queue retry [ID]      (no ID: every deferred message)\n"
     "       petrel queue hold ID | release ID\n"
     "       petrel queue delete ID       (no bounce)\n"
     "       petrel queue bounce ID       (return to the sender now)\n"},
    {"stats", cmd_stats, "print the running daemon's counters",
     "usage: petrel stats\n"
     "Prints the counters and gauges that the http listener's /metrics serves\n"
     "(histograms as their _count and _sum), one a line.\n"},
    {"user", cmd_user, "manage users in the user database",
     "usage: petrel user add ADDRESS [--quota SIZE] [--disabled] [--create-domain]\n"
     "       petrel user passwd ADDRESS\n"
     "       petrel user del ADDRESS\n"
     "       petrel user list [DOMAIN]\n"
     "       petrel user enable|disable ADDRESS\n"
     "       petrel user quota ADDRESS SIZE     (0: none)\n"
     "       petrel user grant USER TARGET|'*'  (USER may act for TARGET)\n"
     "       petrel user revoke USER TARGET\n"
     "       petrel user import FILE [--domain DOMAIN]  (Dovecot passwd-file)\n"
     "  --quota SIZE     storage quota: 1048576, 512K, 10M, 1G\n"
     "  --disabled       create the user unable to log in or receive mail\n"
     "  --create-domain  add: make the address's domain local if it is not yet\n"
     "  --domain DOMAIN  import: the domain of entries without one\n"
     "The password comes from standard input, or is asked twice on a terminal.\n"},
    {"alias", cmd_alias, "manage aliases in the user database",
     "usage: petrel alias add ADDRESS TARGET... [--force]  (ADDRESS @domain: a "
     "catch-all)\n"
     "       petrel alias del ADDRESS [TARGET]\n"
     "       petrel alias list [DOMAIN]\n"
     "  --force  add: accept targets in local domains that do not exist yet\n"
     "           (mail to ADDRESS is refused at RCPT until they do)\n"},
    {"mailbox", cmd_mailbox, "a user's folders: list, status, reindex, purge",
     "usage: petrel mailbox list USER      folders, messages, unseen, size\n"
     "       petrel mailbox status USER    totals, quota, INBOX's UIDVALIDITY\n"
     "       petrel mailbox reindex USER   rescan every folder against its files\n"
     "                                     (UIDs kept)\n"
     "       petrel mailbox purge USER     remove messages marked \\Deleted, compact\n"
     "                                     the index\n"},
    {"domain", cmd_domain, "manage local domains in the user database",
     "usage: petrel domain add DOMAIN\n"
     "       petrel domain del DOMAIN\n"
     "       petrel domain list\n"},
};
#define SUBCOMMAND_COUNT (sizeof(subcommands) / sizeof(subcommands[0]))

static const char global_options[] =
    "options (before or after the command):\n"
    "  -c, --config FILE  configuration file (default: the embedded one)\n"
    "      --home DIR     state directory (also $PETREL_HOME)\n"
    "  -h, --help         this text, or the command's\n"
    "      --version      print the version\n";

static const struct subcommand *find(const char *name)
{
	for (size_t i = 0; i < SUBCOMMAND_COUNT; i++)
		if (strcmp(name, subcommands[i].name) == 0)
			return &subcommands[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: petrel [options] COMMAND [arguments]\n\ncommands:\n");
	for (size_t i = 0; i < SUBCOMMAND_COUNT; i++)
		fprintf(out, "  %-14s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(out, "\n%s", global_options);
}

static void command_usage(const struct subcommand *c, FILE *out)
{
	fprintf(out, "%s\n%s", c->usage, global_options);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "petrel %s: ", command);
	vfprintf(stderr, fmt, ap);
	fputs("\n", stderr);
	va_end(ap);
	const struct subcommand *c = find(command);
	if (c)
		command_usage(c, stderr);
	return 2;
}

int cli_no_options(const char *command, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage_error(command, "unknown option '%s'", argv[i]);
	return 0;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]: the value, or NULL if
 * argv[*i] is not this option; *missing when the value is absent. */
static const char *option_value(int argc, char **argv, int *i, const char *shortname,
                                const char *longname, bool *missing)
{
	const char *arg = argv[*i];
	size_t len = strlen(longname);
	if (strncmp(arg, longname, len) == 0 && arg[len] == '=')
		return arg + len + 1;
	if (strcmp(arg, longname) != 0 && (!shortname || strcmp(arg, shortname) != 0))
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

int main(int argc, char **argv)
{
	struct cli_options options = {.home = getenv("PETREL_HOME")};
	bool help = false, version = false, missing = false;
	/* The global options are taken out wherever they stand; what is left
	 * (the command, its arguments and its own options) keeps its order. */
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (rest == NULL)
		return 1;
	int count = 0;
	for (int i = 1; i < argc; i++) {
		const char *value;
		if ((value = option_value(argc, argv, &i, "-c", "--config", &missing))) {
			options.config_path = value;
		} else if ((value =
		                option_value(argc, argv, &i, NULL, "--home", &missing))) {
			options.home = value;
		} else if (missing) {
			fprintf(stderr, "petrel: option '%s' needs a value\n", argv[i]);
			usage(stderr);
			free(rest);
			return 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			help = true;
		} else if (strcmp(argv[i], "--version") == 0) {
			version = true;
		} else {
			rest[count++] = argv[i];
		}
	}
	rest[count] = NULL;
	int status;
	const struct subcommand *c = count > 0 ? find(rest[0]) : NULL;
	if (version) {
#ifdef PETREL_TEST_HOOKS
		printf("petrel %s (with test hooks)\n", PETREL_VERSION);
#else
		printf("petrel %s\n", PETREL_VERSION);
#endif
		status = 0;
	} else if (count > 0 && c == NULL) {
		fprintf(stderr, "petrel: unknown command '%s'\n", rest[0]);
		usage(stderr);
		status = 2;
	} else if (help) {
		if (c)
			command_usage(c, stdout);
		else
			usage(stdout);
		status = 0;
	} else if (c == NULL) {
		usage(stderr);
		status = 2;
	} else {
		if (options.home && options.home[0] == '\0')
			options.home = NULL;
		if (options.config_path && options.config_path[0] == '\0')
			status = cli_usage_error(c->name, "-c needs a file name");
		else
			status = c->run(&options, count, rest);
	}
	free(rest);
	return status;
}
