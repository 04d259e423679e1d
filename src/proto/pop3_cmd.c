/*
 * pop3_cmd.c — POP3 command lines (see pop3_cmd.h).
 */
#include "proto/pop3_cmd.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* What each verb takes: its arguments, and which are numbers. */
static const struct {
	const char *name;
	enum pop3_verb verb;
	unsigned min, max;
	unsigned numbers; /* how many of the first arguments are numbers */
	bool rest;        /* the argument is the rest of the line (PASS) */
} verbs[] = {
    {"USER", POP3_USER, 1, 1, 0, false}, {"PASS", POP3_PASS, 1, 1, 0, true},
    {"APOP", POP3_APOP, 2, 2, 0, false}, {"AUTH", POP3_AUTH, 0, 2, 0, false},
    {"STLS", POP3_STLS, 0, 0, 0, false}, {"CAPA", POP3_CAPA, 0, 0, 0, false},
    {"STAT", POP3_STAT, 0, 0, 0, false}, {"LIST", POP3_LIST, 0, 1, 1, false},
    {"RETR", POP3_RETR, 1, 1, 1, false}, {"DELE", POP3_DELE, 1, 1, 1, false},
    {"NOOP", POP3_NOOP, 0, 0, 0, false}, {"RSET", POP3_RSET, 0, 0, 0, false},
    {"QUIT", POP3_QUIT, 0, 0, 0, false}, {"TOP", POP3_TOP, 2, 2, 2, false},
    {"UIDL", POP3_UIDL, 0, 1, 1, false}, {"UTF8", POP3_UTF8, 0, 0, 0, false},
};

/* A message number or TOP's line count: digits only, 0..4294967295;
 * message numbers also not 0 (nonzero). */
static int number(const char *s, size_t len, bool nonzero, uint32_t *out,
                  const char **error_r)
{
	uint64_t v = 0;
	if (len == 0 || len > 10) {
		*error_r = "invalid message number";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*error_r = "invalid message number";
			return -1;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX || (nonzero && v == 0)) {
		*error_r = "no such message";
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd,
                   const char **error_r)
{
	memset(cmd, 0, sizeof(*cmd));
	if (len + 2 > POP3_LINE_MAX) {
		*error_r = "line too long";
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < ' ' || line[i] == 0x7f) {
			*error_r = line[i] == '\0' ? "NUL in command"
			                           : "control octet in command";
			return -1;
		}
	const char *space = memchr(line, ' ', len);
	size_t word = space ? (size_t)(space - line) : len;
	size_t v = 0;
	for (; v < sizeof(verbs) / sizeof(verbs[0]); v++)
		if (word == strlen(verbs[v].name) &&
		    strncasecmp(line, verbs[v].name, word) == 0)
			break;
	if (v == sizeof(verbs) / sizeof(verbs[0])) {
		cmd->verb = POP3_UNKNOWN;
		return 0;
	}
	cmd->verb = verbs[v].verb;
	const char *p = line + word, *end = line + len;
	if (verbs[v].rest) {
		/* "PASS secret with spaces": one space, then the rest as it is */
		if (p < end)
			p++;
		if (p >= end) {
			*error_r = "missing argument";
			return -1;
		}
		cmd->arg[0] = p;
		cmd->arg_len[0] = (size_t)(end - p);
		cmd->argc = 1;
		return 0;
	}
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		const char *start = p;
		while (p < end && *p != ' ')
			p++;
		if (cmd->argc >= verbs[v].max) {
			*error_r = "too many arguments";
			return -1;
		}
		if ((size_t)(p - start) > POP3_ARG_MAX && cmd->verb != POP3_AUTH) {
			*error_r = "argument too long";
			return -1;
		}
		cmd->arg[cmd->argc] = start;
		cmd->arg_len[cmd->argc] = (size_t)(p - start);
		cmd->argc++;
	}
	if (cmd->argc < verbs[v].min) {
		*error_r = "missing argument";
		return -1;
	}
	for (unsigned i = 0; i < cmd->argc && i < verbs[v].numbers; i++)
		if (number(cmd->arg[i], cmd->arg_len[i], i == 0, &cmd->number[i],
		           error_r) < 0)
			return -1;
	return 0;
}
