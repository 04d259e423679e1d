/*
 * cli_userdb.c — what the user, alias and domain commands share: opening
 * the user database (as its owner: root, when petrel runs as root),
 * reading a password, and sizes such as "10M".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/userdb_setup.h"
#include "cli/cli.h"

/* Longer than any real password; bounds what stdin can make us hash. */
#define PASSWORD_MAX 1024

int cli_userdb_open(const struct cli_options *options, struct config **config_r,
                    struct userdb **db_r)
{
	const char *error;
	struct config *config = config_load(options->config_path, options->home, &error);
	/* Only `serve` makes a home and a database: a command run from the
	 * wrong directory, or with the wrong -c, must not quietly start an
	 * empty one that the server never reads. */
	if (config && config->auth.backend == AUTH_BACKEND_SQLITE &&
	    access(config->auth.dsn, F_OK) < 0) {
		fprintf(stderr,
		        "petrel: no user database at %s (home %s): `petrel serve` "
		        "creates it at its first start; name the home with --home DIR "
		        "or the configuration with -c FILE\n",
		        config->auth.dsn, config->home);
		config_free(&config);
		return -1;
	}
	/* The database is the auth process's: root's when petrel runs as
	 * root (auth/auth_server.h), so the command keeps its own account
	 * and every file SQLite creates stays the owner's. */
	if (config == NULL || password_init(&error) < 0 ||
	    userdb_prepare(config, geteuid(), getegid(), false, &error) < 0 ||
	    userdb_open(config, db_r, &error) < 0) {
		fprintf(stderr, "petrel: %s\n", error);
		config_free(&config);
		return -1;
	}
	*config_r = config;
	return 0;
}

void cli_report(const struct config *config, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (home %s)\n", config->home);
}

void cli_userdb_close(struct config **config, struct userdb **db)
{
	userdb_close(db);
	config_free(config);
}

static void ignore_answer(const char *answer)
{
	(void)answer;
}

void cli_userdb_changed(const struct cli_options *options, const char *user)
{
	struct buf request = BUF_INIT;
	buf_appendf(&request, "userdb-changed%s%s\n", user ? " " : "", user ? user : "");
	if (cli_control_ask(options, request.data, ignore_answer, true) == 1)
		fprintf(stderr,
		        "petrel: the running daemon did not take the change in; it "
		        "may remember %s for up to a minute (logins: auth.cache.ttl)\n",
		        user ? user : "what it knew");
	buf_free(&request);
}

/* One line from f, without its line ending; -1 at EOF or if too long. */
static int read_line(FILE *f, struct buf *out)
{
	buf_reset(out);
	int c;
	while ((c = fgetc(f)) != EOF && c != '\n') {
		if (out->len >= PASSWORD_MAX)
			return -1;
		buf_append_char(out, (char)c);
	}
	if (c == EOF && out->len == 0)
		return -1;
	if (out->len > 0 && out->data[out->len - 1] == '\r')
		buf_truncate(out, out->len - 1);
	return 0;
}

static int prompt(const char *text, struct buf *out)
{
	struct termios saved, quiet;
	/* Echo goes off before the prompt appears, and without a flush:
	 * whatever was typed once the prompt showed (or ahead of it) is the
	 * answer, never thrown away. */
	bool echo_off = tcgetattr(STDIN_FILENO, &saved) == 0;
	if (echo_off) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	fprintf(stderr, "%s", text);
	fflush(stderr);
	int r = read_line(stdin, out);
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	fprintf(stderr, "\n");
	return r;
}

int cli_read_password(struct buf *out)
{
	if (!isatty(STDIN_FILENO)) {
		if (read_line(stdin, out) < 0) {
			fprintf(stderr,
			        "petrel: no password on standard input (or longer "
			        "than %d octets)\n",
			        PASSWORD_MAX);
			return -1;
		}
	} else {
		struct buf again = BUF_INIT;
		int r = prompt("Password: ", out) < 0 ||
		                prompt("Retype password: ", &again) < 0
		            ? -1
		            : 0;
		bool same = r == 0 && out->len == again.len &&
		            memcmp(buf_cstr(out), buf_cstr(&again), out->len) == 0;
		buf_free(&again);
		if (!same) {
			fprintf(stderr, "petrel: the passwords do not match\n");
			return -1;
		}
	}
	if (out->len == 0 || memchr(out->data, '\0', out->len)) {
		fprintf(stderr,
		        "petrel: a password may be neither empty nor contain NUL\n");
		return -1;
	}
	return 0;
}

int cli_parse_size(const char *text, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (end == text || errno || text[0] == '-')
		return -1;
	uint64_t unit = 1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		unit = 1024;
		end++;
		break;
	case 'm':
	case 'M':
		unit = 1024 * 1024;
		end++;
		break;
	case 'g':
	case 'G':
		unit = 1024ull * 1024 * 1024;
		end++;
		break;
	case 't':
	case 'T':
		unit = 1024ull * 1024 * 1024 * 1024;
		end++;
		break;
	default:
		return -1;
	}
	if ((*end == 'b' || *end == 'B') && unit > 1)
		end++;
	if (*end != '\0' || value > UINT64_MAX / unit)
		return -1;
	*out = value * unit;
	return 0;
}
