/*
 * cli.h — the petrel command: shared option handling for subcommands.
 */
#ifndef PETREL_CLI_H
#define PETREL_CLI_H

struct cli_options {
	const char *config_path; /* -c FILE; NULL: embedded default */
	const char *home;        /* --home DIR, else $PETREL_HOME */
};

int cmd_serve(const struct cli_options *options);
int cmd_check_config(const struct cli_options *options);

#endif
