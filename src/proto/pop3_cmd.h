/*
 * pop3_cmd.h — one POP3 command line (RFC 1939, CAPA of RFC 2449, STLS
 * of RFC 2595, AUTH of RFC 5034, UTF8 of RFC 6856), without its CRLF.
 *
 * Pure, no allocation: arguments point into the caller's line. Message
 * numbers are checked here (1 to 4294967295, digits only), so "RETR 0"
 * and "RETR 4294967296" never reach a mailbox; whether the message
 * exists is the session's business.
 */
#ifndef PETREL_POP3_CMD_H
#define PETREL_POP3_CMD_H

#include <stddef.h>
#include <stdint.h>

#define POP3_LINE_MAX 255 /* RFC 2449 4, CRLF included */
#define POP3_ARG_MAX  40  /* RFC 2449 4, per argument (not PASS) */

enum pop3_verb {
	POP3_UNKNOWN,
	POP3_USER,
	POP3_PASS,
	POP3_APOP,
	POP3_AUTH,
	POP3_STLS,
	POP3_CAPA,
	POP3_STAT,
	POP3_LIST,
	POP3_RETR,
	POP3_DELE,
	POP3_NOOP,
	POP3_RSET,
	POP3_QUIT,
	POP3_TOP,
	POP3_UIDL,
	POP3_UTF8,
};

struct pop3_cmd {
	enum pop3_verb verb;
	const char *arg[2]; /* the arguments (PASS: the rest of the line) */
	size_t arg_len[2];
	unsigned argc;
	uint32_t number[2]; /* message number, TOP's line count */
};

/*
 * 0 with *cmd filled (POP3_UNKNOWN for a verb it does not know), or -1
 * with *error_r: NUL or a control octet, a missing or extra argument, a
 * message number that is not one, an argument too long.
 */
int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd,
                   const char **error_r);

#endif
