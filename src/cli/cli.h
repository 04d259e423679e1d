/*
 * cli.h — the petrel command: shared option handling for subcommands.
 */
#ifndef PETREL_CLI_H
#define PETREL_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/userdb.h"
#include "lib/buf.h"
#include "lib/config.h"

struct cli_options {
	const char *config_path; /* -c FILE; NULL: embedded default */
	const char *home;        /* --home DIR, else $PETREL_HOME */
};

/* Each gets the arguments after its own name (argv[0] is that name). */
int cmd_serve(const struct cli_options *options, int argc, char **argv);
int cmd_check_config(const struct cli_options *options, int argc, char **argv);
int cmd_dns(const struct cli_options *options, int argc, char **argv);
int cmd_queue(const struct cli_options *options, int argc, char **argv);
int cmd_user(const struct cli_options *options, int argc, char **argv);
int cmd_alias(const struct cli_options *options, int argc, char **argv);
int cmd_domain(const struct cli_options *options, int argc, char **argv);
int cmd_stats(const struct cli_options *options, int argc, char **argv);
int cmd_mailbox(const struct cli_options *options, int argc, char **argv);

/* cmd_queue.c: sends request (one line) to the running daemon's control
 * socket; print gets the answer after "ok". 0, 1 (refused, reason on
 * stderr) or 2 (not reached). */
int cli_control(const struct cli_options *options, const char *request,
                void (*print)(const char *answer));
/* The same; quiet_if_down: no message when the daemon does not answer
 * (a user command telling a daemon that may not run). */
int cli_control_ask(const struct cli_options *options, const char *request,
                    void (*print)(const char *answer), bool quiet_if_down);

/* cmd_queue.c: one request to a control socket; the whole answer in
 * *answer. -1 (said on stderr unless quiet) when who cannot be reached. */
int cli_ask(const char *path, const char *who, const char *request, struct buf *answer,
            bool quiet);
/* cmd_service.c: `petrel status`, `petrel reload`, `petrel stop`. */
int cmd_status(const struct cli_options *options, int argc, char **argv);
int cmd_reload(const struct cli_options *options, int argc, char **argv);
int cmd_stop(const struct cli_options *options, int argc, char **argv);

/* cmd_user_import.c: `petrel user import FILE [--domain D]` */
int cmd_user_import(struct config *config, struct userdb *db, const char *file,
                    const char *domain);

/* main.c: "petrel COMMAND: MESSAGE" and the command's usage on stderr;
 * returns 2, the exit status of a usage error. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* For commands that take no options: 0, or a usage error (2) naming the
 * first argument that looks like one. */
int cli_no_options(const char *command, int argc, char **argv);

/* cli_userdb.c: loads the configuration and opens the user database as
 * its owner (root's when petrel runs as root); prints the error and
 * returns -1 on failure. */
int cli_userdb_open(const struct cli_options *options, struct config **config_r,
                    struct userdb **db_r);
void cli_userdb_close(struct config **config, struct userdb **db);
/* After a write: a running daemon forgets what it remembered of the
 * database (auth/lookup_cache.h), and user's logins when user is not
 * NULL (auth/credential_cache.h), before the command returns. */
void cli_userdb_changed(const struct cli_options *options, const char *user);
/* Prints what a command changed, naming the home it worked on:
 * "added carol@example.net (home /srv/petrel)". */
void cli_report(const struct config *config, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A password from standard input, or prompted twice on a terminal. */
int cli_read_password(struct buf *out);
/* "1048576", "512K", "10M", "1G": octets. */
int cli_parse_size(const char *text, uint64_t *out);

#endif
