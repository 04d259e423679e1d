/*
 * cli.h — the petrel command: shared option handling for subcommands.
 */
#ifndef PETREL_CLI_H
#define PETREL_CLI_H

struct cli_options {
	const char *config_path; /* -c FILE; NULL: embedded default */
	const char *home;        /* --home DIR, else $PETREL_HOME */
};

/* Each gets the arguments after its own name (argv[0] is that name). */
int cmd_serve(const struct cli_options *options, int argc, char **argv);
int cmd_check_config(const struct cli_options *options, int argc, char **argv);
int cmd_dns(const struct cli_options *options, int argc, char **argv);
int cmd_queue(const struct cli_options *options, int argc, char **argv);

#endif
