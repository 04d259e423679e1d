/*
 * cmd_check_config.c — `petrel check-config`: validate and print the
 * effective configuration (defaults filled in). Exit 0 if valid, 1 with
 * "file:line:column: what was expected" if not.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "lib/config.h"

int cmd_check_config(const struct cli_options *options, int argc, char **argv)
{
	int status = cli_no_options(argv[0], argc, argv);
	if (status != 0)
		return status;
	if (argc > 1)
		return cli_usage_error(argv[0], "unexpected argument '%s'", argv[1]);
	const char *error;
	struct config *config = config_load(options->config_path, options->home, &error);
	if (config == NULL) {
		fprintf(stderr, "petrel: %s\n", error);
		return 1;
	}
	config_print(config, stdout);
	config_free(&config);
	return 0;
}
