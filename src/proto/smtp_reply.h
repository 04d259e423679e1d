/*
 * smtp_reply.h — pure, resumable parser of SMTP server replies (RFC 5321
 * 4.2), for petrel's SMTP client.
 *
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                   Reply-code [ SP textstring ] CRLF
 *
 * Strict where a hostile server could hurt (OpenSMTPD CVE-2020-8794 came
 * from short reply lines): every line must start with the same three-digit
 * code (2-5, 0-5, 0-9) followed by '-', ' ' or the line end; lines and
 * whole replies are bounded; NUL and bare CR are refused. A bare LF is
 * accepted as a line end (servers send it; it cannot smuggle anything
 * into a reply).
 */
#ifndef PETREL_SMTP_REPLY_H
#define PETREL_SMTP_REPLY_H

#include <stddef.h>

/* A complete reply is at most LINES_MAX lines of LINE_MAX octets, so the
 * consumed count always fits an int. */
#define SMTP_REPLY_LINE_MAX  2048 /* octets with CRLF; RFC 5321 says 512 */
#define SMTP_REPLY_LINES_MAX 100  /* lines in one reply */
#define SMTP_REPLY_TEXT_MAX  1024 /* text kept for logs and bounces */

struct smtp_reply {
	int code;          /* 200..599 */
	char enhanced[16]; /* "5.1.1" when the text starts with one, else "" */
	char text[SMTP_REPLY_TEXT_MAX]; /* lines' text joined with " / ", truncated */
	size_t text_len;
	unsigned lines;
};

/* Called with the text of each line of a reply as it completes (after
 * the code and its separator, without the line end): the whole line,
 * where reply.text keeps only the first SMTP_REPLY_TEXT_MAX octets of
 * them all. EHLO capabilities are read this way (proto/smtp_ehlo.h). */
typedef void smtp_reply_line_fn(void *context, unsigned index, const char *text,
                                size_t len);

struct smtp_reply_parser {
	int state;
	size_t line_len;
	int line_code;
	int continued; /* this line ended its code with '-' */
	struct smtp_reply reply;
	smtp_reply_line_fn *on_line; /* optional */
	void *context;
	size_t text_len; /* of the line being read */
	char text[SMTP_REPLY_LINE_MAX];
};

void smtp_reply_parser_init(struct smtp_reply_parser *parser);
/* Ready for the next reply; the line callback, if any, stays. */
void smtp_reply_parser_reset(struct smtp_reply_parser *parser);
void smtp_reply_parser_on_line(struct smtp_reply_parser *parser, smtp_reply_line_fn *fn,
                               void *context);

/*
 * Feeds in[0..len).
 * Returns >0: octets consumed, ending a complete reply, now in
 * parser->reply (call smtp_reply_parser_init before the next one);
 * 0: all of in consumed, more needed;
 * <0: malformed reply (the connection should be given up), *error_r says
 * why.
 */
int smtp_reply_feed(struct smtp_reply_parser *parser, const char *in, size_t len,
                    const char **error_r);

#endif
