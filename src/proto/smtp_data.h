/*
 * smtp_data.h — resumable DATA reader: end detection, dot-unstuffing and
 * line checks (RFC 5321 4.1.1.4, 4.5.2, 4.5.3.1.6).
 *
 * petrel's rule against SMTP smuggling (SEC Consult 2023): only
 * <CRLF>.<CRLF> ends the data, and a bare CR or bare LF anywhere in it
 * marks the message for refusal. `<LF>.<LF>`, `<CR><LF>.<LF>`,
 * `<LF>.<CR><LF>` and `<CR>.<CR><LF>` are therefore ordinary content
 * (then refused as a whole): they can neither end the message early nor
 * start a second one.
 *
 * The reader never stops early for a bad message: it always consumes
 * through the real terminator so that the session stays in step with
 * the client, and reports the problems in flags.
 */
#ifndef PETREL_SMTP_DATA_H
#define PETREL_SMTP_DATA_H

#include <stddef.h>

enum smtp_data_flags {
	SMTP_DATA_BARE_CR = 1 << 0,
	SMTP_DATA_BARE_LF = 1 << 1,
	SMTP_DATA_LONG_LINE = 1 << 2,
};

struct smtp_data {
	int state;
	size_t line_len;   /* octets of the current line so far, CRLF excluded */
	size_t line_limit; /* text line limit, CRLF included (RFC: 1000) */
	unsigned flags;
};

void smtp_data_init(struct smtp_data *data, size_t line_limit);

/*
 * Feeds in[0..len). The unstuffed message octets are written to out,
 * which must have room for len + 1 octets (a CR held back at the end of
 * the previous call may be written now); *out_len_r says how many.
 * Returns >0: octets consumed, and the terminating ".\r\n" was reached
 * within them (data after it is left for the caller); 0: all of in was
 * consumed and more data is needed.
 */
size_t smtp_data_feed(struct smtp_data *data, const char *in, size_t len, char *out,
                      size_t *out_len_r);

/*
 * For BDAT chunks, which are neither dot-stuffed nor terminated by a
 * dot: applies the same bare CR / bare LF / line length checks to
 * in[0..len) without copying it, so both ways of sending a message obey
 * one rule.
 */
void smtp_data_check(struct smtp_data *data, const char *in, size_t len);
/* At the end of the last chunk: a CR still waiting for its LF is bare. */
void smtp_data_check_end(struct smtp_data *data);

#endif
