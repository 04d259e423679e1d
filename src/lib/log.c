/*
 * log.c — key=value event lines to stderr and optionally syslog.
 */
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/pid.h"

static const char *log_process = "petrel";
static enum log_level log_min_level = L_INFO;
static bool log_syslog;

static const char *const level_names[] = {"debug", "info",  "warn",
                                          "error", "fatal", "panic"};

void log_init(const char *process, enum log_level min_level, bool use_syslog)
{
	log_process = process;
	log_min_level = min_level;
	if (use_syslog && !log_syslog)
		openlog("petrel", LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_syslog = use_syslog;
}

void log_set_process(const char *process)
{
	log_process = process;
}

int log_level_parse(const char *name, enum log_level *level_r)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

bool log_enabled(enum log_level level)
{
	return level >= log_min_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < log_min_level)
		return;
	int saved_errno = errno;
	char line[4096];
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	int n =
	    snprintf(line, sizeof(line),
	             "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ proc=%s pid=%d level=%s ",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	             tm.tm_sec, (long)(tv.tv_usec / 1000), log_process,
	             (int)pid_current(), level_names[level]);
	int head = n;
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n] = '\n';
	/* One write() per line keeps lines whole when processes share stderr. */
	ssize_t ignored = write(STDERR_FILENO, line, (size_t)n + 1);
	(void)ignored;
	if (log_syslog) {
		static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING,
		                           LOG_ERR,   LOG_CRIT, LOG_ALERT};
		syslog(prio[level], "%.*s", n - head, line + head);
	}
	errno = saved_errno;
	if (level == L_FATAL)
		exit(1);
	if (level == L_PANIC)
		abort();
}

const char *log_quote(const char *s, size_t len)
{
	static __thread struct buf slots[4];
	static __thread unsigned next;
	struct buf *b = &slots[next++ % 4];
	buf_reset(b);
	if (len > 512)
		len = 512;
	buf_append_quoted(b, s, len);
	return buf_cstr(b);
}
