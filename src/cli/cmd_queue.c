/*
 * cmd_queue.c — `petrel queue list | show ID | retry [ID] | hold ID |
 * release ID | delete ID | bounce ID` and `petrel stats`: ask the running
 * daemon's queue through its control socket and print the answer. Exit 0
 * when it said "ok", 1 when it refused, 2 when it could not be reached.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/fsutil.h"
#include "queue/control.h"

#define ANSWER_SECONDS 60

int cli_ask(const char *path, const char *who, const char *request, struct buf *answer,
            bool quiet)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "petrel: control socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {ANSWER_SECONDS, 0};
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (!quiet)
			fprintf(stderr,
			        "petrel: cannot reach %s at %s: %s (is petrel "
			        "running?)\n",
			        who, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fs_write_all(fd, request, strlen(request)) < 0) {
		fprintf(stderr, "petrel: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	char chunk[65536];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(answer, chunk, (size_t)n);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "petrel: reading the answer: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int cli_control_ask(const struct cli_options *options, const char *request,
                    void (*print)(const char *answer), bool quiet_if_down)
{
	const char *error;
	struct config *config = config_load(options->config_path, options->home, &error);
	if (config == NULL) {
		fprintf(stderr, "petrel: %s\n", error);
		return 2;
	}
	struct buf path = BUF_INIT, answer = BUF_INIT;
	buf_appendf(&path, "%s/spool/%s", config->home, CONTROL_SOCKET);
	int status = 2;
	if (cli_ask(path.data, "the queue", request, &answer, quiet_if_down) == 0) {
		const char *text = buf_cstr(&answer);
		if (strncmp(text, "ok\n", 3) == 0) {
			print(text + 3);
			status = 0;
		} else {
			fputs("petrel: ", stderr);
			fputs(strncmp(text, "error: ", 7) == 0 ? text + 7 : text, stderr);
			status = 1;
		}
	}
	buf_free(&path);
	buf_free(&answer);
	config_free(&config);
	return status;
}

int cli_control(const struct cli_options *options, const char *request,
                void (*print)(const char *answer))
{
	return cli_control_ask(options, request, print, false);
}

static void print_as_is(const char *answer)
{
	fputs(answer, stdout);
}

int cmd_queue(const struct cli_options *options, int argc, char **argv)
{
	int usage = cli_no_options(argv[0], argc, argv);
	if (usage != 0)
		return usage;
	if (argc < 2 || argc > 3)
		return cli_usage_error(argv[0],
		                       argc < 2 ? "which action?" : "too many arguments");
	if (strcmp(argv[1], "stats") == 0)
		return cli_usage_error(argv[0],
		                       "unknown action 'stats' (see `petrel stats`)");
	if (strchr(argv[1], '\n') || (argc == 3 && strchr(argv[2], '\n')))
		return cli_usage_error(argv[0], "a line break in an argument");
	struct buf request = BUF_INIT;
	buf_appendf(&request, "%s%s%s\n", argv[1], argc == 3 ? " " : "",
	            argc == 3 ? argv[2] : "");
	int status = cli_control(options, request.data, print_as_is);
	buf_free(&request);
	return status;
}

/* Counters and gauges, one a line; histograms as their count and sum
 * (their buckets are for Prometheus). */
static void print_stats(const char *answer)
{
	for (const char *line = answer; *line;) {
		size_t len = strcspn(line, "\n");
		bool skip = line[0] == '#' || memmem(line, len, "_bucket{", 8) != NULL;
		if (!skip)
			printf("%.*s\n", (int)len, line);
		line += len + (line[len] == '\n');
	}
}

int cmd_stats(const struct cli_options *options, int argc, char **argv)
{
	int usage = cli_no_options(argv[0], argc, argv);
	if (usage != 0)
		return usage;
	if (argc > 1)
		return cli_usage_error(argv[0], "unexpected argument '%s'", argv[1]);
	return cli_control(options, "stats\n", print_stats);
}
