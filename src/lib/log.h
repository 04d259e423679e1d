/*
 * log.h — the one logging call of petrel.
 *
 * Every event is one line of key=value pairs on stderr (and syslog when
 * configured): `ts=... proc=smtpd pid=42 level=info event=accept ...`.
 * Values that come from peers are quoted with buf_append_quoted() or
 * log_quote() so that nobody can forge a line or a field.
 *
 * L_FATAL: the environment is broken (exit 1). L_PANIC: a bug (abort).
 */
#ifndef PETREL_LOG_H
#define PETREL_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { L_DEBUG, L_INFO, L_WARN, L_ERROR, L_FATAL, L_PANIC };

void log_init(const char *process, enum log_level min_level, bool use_syslog);
void log_set_process(const char *process);
int log_level_parse(const char *name, enum log_level *level_r);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Whether a line of that level is written at all (to skip building it). */
bool log_enabled(enum log_level level);

/*
 * Returns s quoted for a log value. The result lives in one of a few
 * rotating thread-local slots: use it in the log_msg() call at hand only.
 */
const char *log_quote(const char *s, size_t len);
#define LOG_Q(s) log_quote((s), strlen(s))

#endif
