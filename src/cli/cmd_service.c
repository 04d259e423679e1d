/*
 * cmd_service.c — `petrel status`, `petrel reload` and `petrel stop`:
 * the running master, through its control socket (master/master_control.h).
 * status exits 0 when petrel runs and 3 when it does not (as LSB init
 * scripts do); reload 0, 1 when the new configuration was refused, 2 when
 * petrel is not running; stop 0 once petrel has exited (or was not
 * running), 1 when it does not stop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "master/master_control.h"

/* Long enough for the master's own stop deadline (messages in flight
 * finish, deliveries end). */
#define STOP_WAIT_SECONDS 90

struct target {
	struct config *config;
	const char *home;
	struct buf socket, pid_file;
};

static int open_target(const struct cli_options *options, const char *command, int argc,
                       char **argv, struct target *t)
{
	int usage = cli_no_options(command, argc, argv);
	if (usage != 0)
		return usage;
	if (argc > 1)
		return cli_usage_error(command, "unexpected argument '%s'", argv[1]);
	/* The configuration is read for its home only: with --home, a file
	 * that no longer loads still lets the daemon be stopped or asked. */
	const char *error;
	t->config = config_load(options->config_path, options->home, &error);
	if (t->config == NULL && options->home == NULL) {
		fprintf(stderr, "petrel: %s\n", error);
		return 1;
	}
	t->home = t->config ? t->config->home : options->home;
	t->socket = (struct buf)BUF_INIT;
	t->pid_file = (struct buf)BUF_INIT;
	buf_appendf(&t->socket, "%s/%s", t->home, MASTER_SOCKET);
	buf_appendf(&t->pid_file, "%s/%s", t->home, MASTER_PID_FILE);
	return 0;
}

static void close_target(struct target *t)
{
	buf_free(&t->socket);
	buf_free(&t->pid_file);
	config_free(&t->config);
}

/* The master's pid from the pid file if that process lives, else 0. */
static pid_t running_pid(const struct target *t)
{
	FILE *f = fopen(t->pid_file.data, "r");
	long pid = 0;
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
		return 0;
	return (pid_t)pid;
}

/* Whether pid still runs: the master removes its pid file a moment
 * before its process is gone, and "stopped" means gone. An exited
 * process its parent has not reaped yet (a zombie) counts as gone. */
static bool process_alive(pid_t pid)
{
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	char path[64], stat[256];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	const char *close = strrchr(stat, ')');
	return !(close && close[1] == ' ' && close[2] == 'Z');
}

/* Asks the master; 0 with "ok" answers printed, 1 refused, 2 not reached. */
static int ask_master(const struct target *t, const char *request, bool quiet)
{
	struct buf answer = BUF_INIT;
	int status = 2;
	if (cli_ask(t->socket.data, "petrel", request, &answer, quiet) == 0) {
		const char *text = buf_cstr(&answer);
		if (strncmp(text, "ok\n", 3) == 0) {
			fputs(text + 3, stdout);
			status = 0;
		} else {
			fprintf(stderr, "petrel: %s",
			        strncmp(text, "error: ", 7) == 0 ? text + 7 : text);
			status = 1;
		}
	}
	buf_free(&answer);
	return status;
}

int cmd_status(const struct cli_options *options, int argc, char **argv)
{
	struct target t;
	int status = open_target(options, "status", argc, argv, &t);
	if (status != 0)
		return status;
	status = ask_master(&t, "status\n", true);
	if (status == 2) {
		pid_t pid = running_pid(&t);
		if (pid)
			fprintf(
			    stderr,
			    "petrel: pid %ld (%s) runs but does not answer at %s; run "
			    "status as root or as the user that started it\n",
			    (long)pid, t.pid_file.data, t.socket.data);
		else
			printf("petrel is not running (home %s)\n", t.home);
		status = pid ? 1 : 3;
	}
	close_target(&t);
	return status;
}

int cmd_reload(const struct cli_options *options, int argc, char **argv)
{
	struct target t;
	int status = open_target(options, "reload", argc, argv, &t);
	if (status != 0)
		return status;
	status = ask_master(&t, "reload\n", false);
	close_target(&t);
	return status;
}

int cmd_stop(const struct cli_options *options, int argc, char **argv)
{
	struct target t;
	int status = open_target(options, "stop", argc, argv, &t);
	if (status != 0)
		return status;
	pid_t pid = running_pid(&t);
	status = ask_master(&t, "stop\n", pid == 0);
	if (status == 2 && pid == 0) {
		printf("petrel is not running (home %s)\n", t.home);
		status = 0;
	} else if (status == 0 && pid) {
		/* The answer came at once; the exit follows once the sessions
		 * and deliveries in flight have finished. */
		time_t deadline = time(NULL) + STOP_WAIT_SECONDS;
		while ((running_pid(&t) == pid || process_alive(pid)) &&
		       time(NULL) < deadline) {
			struct timespec tick = {0, 50 * 1000 * 1000};
			nanosleep(&tick, NULL);
		}
		if (running_pid(&t) == pid || process_alive(pid)) {
			fprintf(stderr, "petrel: pid %ld has not stopped after %d s\n",
			        (long)pid, STOP_WAIT_SECONDS);
			status = 1;
		} else
			printf("stopped\n");
	}
	close_target(&t);
	return status;
}
