/*
 * smtp_cmd.h — pure parser of one SMTP command line (RFC 5321 4.1).
 *
 * No sockets, no globals, no allocation: the result points into the
 * caller's line.
 */
#ifndef PETREL_SMTP_CMD_H
#define PETREL_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>

enum smtp_verb {
	SMTP_UNKNOWN,
	SMTP_HELO,
	SMTP_EHLO,
	SMTP_MAIL,
	SMTP_RCPT,
	SMTP_DATA,
	SMTP_BDAT,
	SMTP_RSET,
	SMTP_NOOP,
	SMTP_QUIT,
	SMTP_VRFY,
	SMTP_EXPN,
	SMTP_HELP,
	SMTP_STARTTLS,
	SMTP_AUTH,
	SMTP_LHLO, /* LMTP (RFC 2033) */
	SMTP_VERB_COUNT
};

struct smtp_cmd {
	enum smtp_verb verb;
	/* The argument after the verb (after "FROM:"/"TO:" for MAIL/RCPT),
	 * leading spaces skipped, trailing spaces trimmed; may be empty. */
	const char *arg;
	size_t arg_len;
};

/*
 * Parses a command line without its CRLF.
 * Returns 0 with *cmd filled (verb SMTP_UNKNOWN for an unknown verb), or
 * -1 with *error_r naming the syntax error: NUL or other control bytes,
 * a MAIL without "FROM:", a RCPT without "TO:".
 */
int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd,
                   const char **error_r);

const char *smtp_verb_name(enum smtp_verb verb);

/*
 * Parses the BDAT argument "chunk-size [LAST]" (RFC 3030 2).
 * chunk-size is 1*DIGIT; anything longer than 18 digits is refused here
 * so that the value always fits and never wraps.
 * Returns 0 or -1 with *error_r.
 */
int smtp_bdat_parse(const char *arg, size_t len, uint64_t *size_r, int *last_r,
                    const char **error_r);

#endif
