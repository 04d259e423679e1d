/*
 * cmd_serve.c — `petrel serve`: load the configuration and hand it to
 * the master. Runs in the foreground and logs to stderr (no
 * self-daemonizing; a supervisor such as systemd runs it).
 */
#include <stdio.h>

#include "cli/cli.h"
#include "lib/config.h"
#include "master/master.h"

int cmd_serve(const struct cli_options *options, int argc, char **argv)
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
	return master_run(config, options->config_path, options->home);
}
