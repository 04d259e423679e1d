/*
 * main.c — `petrel SUBCOMMAND [options]`: parses the common options and
 * dispatches to the subcommand.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct subcommand {
	const char *name;
	int (*run)(const struct cli_options *options, int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
    {"serve", cmd_serve, "run the mail server in the foreground"},
    {"check-config", cmd_check_config, "validate the configuration and print it"},
    {"dns", cmd_dns, "dns lookup NAME [TYPE] [--server IP[:port]] [--json]"},
    {"queue", cmd_queue,
     "queue list | show ID | retry [ID] | hold ID | release ID | delete ID | bounce ID"},
    {"user", cmd_user,
     "user add|passwd|del|list|enable|disable|quota|grant|revoke|import ..."},
    {"alias", cmd_alias, "alias add ADDRESS TARGET... | del ADDRESS [TARGET] | list"},
    {"domain", cmd_domain, "domain add DOMAIN | del DOMAIN | list"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: petrel [-c FILE] [--home DIR] COMMAND\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-14s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(out,
	        "\noptions:\n"
	        "  -c, --config FILE  configuration file (default: the embedded one)\n"
	        "      --home DIR     state directory (also $PETREL_HOME)\n");
}

int main(int argc, char **argv)
{
	struct cli_options options = {.home = getenv("PETREL_HOME")};
	static const struct option long_options[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"home", required_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	/* Common options come before the subcommand ("+": stop at the first
	 * non-option); the subcommand parses the rest itself. */
	while ((opt = getopt_long(argc, argv, "+c:h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			options.config_path = optarg;
			break;
		case 'H':
			options.home = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (options.home && options.home[0] == '\0')
		options.home = NULL;
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[optind], subcommands[i].name) == 0)
			return subcommands[i].run(&options, argc - optind, argv + optind);
	fprintf(stderr, "petrel: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return 2;
}
