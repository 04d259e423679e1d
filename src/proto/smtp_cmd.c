/*
 * smtp_cmd.c — SMTP command line parser (see smtp_cmd.h).
 */
#include "proto/smtp_cmd.h"

#include <string.h>
#include <strings.h>

static const char *const verb_names[SMTP_VERB_COUNT] = {
    [SMTP_UNKNOWN] = "",  [SMTP_HELO] = "HELO",         [SMTP_EHLO] = "EHLO",
    [SMTP_MAIL] = "MAIL", [SMTP_RCPT] = "RCPT",         [SMTP_DATA] = "DATA",
    [SMTP_BDAT] = "BDAT", [SMTP_RSET] = "RSET",         [SMTP_NOOP] = "NOOP",
    [SMTP_QUIT] = "QUIT", [SMTP_VRFY] = "VRFY",         [SMTP_EXPN] = "EXPN",
    [SMTP_HELP] = "HELP", [SMTP_STARTTLS] = "STARTTLS", [SMTP_AUTH] = "AUTH",
    [SMTP_LHLO] = "LHLO",
};

const char *smtp_verb_name(enum smtp_verb verb)
{
	return verb < SMTP_VERB_COUNT ? verb_names[verb] : "";
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd,
                   const char **error_r)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		/* Tabs are tolerated as spaces; every other control byte,
		 * NUL included, has no business in a command. */
		if ((c < ' ' && c != '\t') || c == 0x7f) {
			*error_r = c == 0 ? "NUL byte in command"
			                  : "control character in command";
			return -1;
		}
	}
	size_t verb_len = 0;
	while (verb_len < len && !is_space(line[verb_len]))
		verb_len++;

	cmd->verb = SMTP_UNKNOWN;
	for (int v = SMTP_HELO; v < SMTP_VERB_COUNT; v++) {
		if (strlen(verb_names[v]) == verb_len &&
		    strncasecmp(line, verb_names[v], verb_len) == 0) {
			cmd->verb = (enum smtp_verb)v;
			break;
		}
	}
	size_t pos = verb_len;
	while (pos < len && is_space(line[pos]))
		pos++;

	/* MAIL FROM:<...> and RCPT TO:<...>; like Postfix we tolerate
	 * spaces after the colon, which many clients send. */
	const char *keyword = cmd->verb == SMTP_MAIL   ? "FROM:"
	                      : cmd->verb == SMTP_RCPT ? "TO:"
	                                               : NULL;
	if (keyword) {
		size_t klen = strlen(keyword);
		if (len - pos < klen || strncasecmp(line + pos, keyword, klen) != 0) {
			*error_r = cmd->verb == SMTP_MAIL ? "expected MAIL FROM:<address>"
			                                  : "expected RCPT TO:<address>";
			return -1;
		}
		pos += klen;
		while (pos < len && is_space(line[pos]))
			pos++;
	}
	size_t end = len;
	while (end > pos && is_space(line[end - 1]))
		end--;
	cmd->arg = line + pos;
	cmd->arg_len = end - pos;
	return 0;
}

int smtp_bdat_parse(const char *arg, size_t len, uint64_t *size_r, int *last_r,
                    const char **error_r)
{
	size_t pos = 0;
	uint64_t size = 0;
	while (pos < len && arg[pos] >= '0' && arg[pos] <= '9') {
		if (pos >= 18) {
			*error_r = "chunk size too large";
			return -1;
		}
		size = size * 10 + (uint64_t)(arg[pos] - '0');
		pos++;
	}
	if (pos == 0) {
		*error_r = "chunk size must be a decimal number";
		return -1;
	}
	*last_r = 0;
	if (pos < len) {
		if (!is_space(arg[pos])) {
			*error_r = "chunk size must be a decimal number";
			return -1;
		}
		while (pos < len && is_space(arg[pos]))
			pos++;
		if (len - pos != 4 || strncasecmp(arg + pos, "LAST", 4) != 0) {
			*error_r = "expected BDAT size [LAST]";
			return -1;
		}
		*last_r = 1;
	}
	*size_r = size;
	return 0;
}
