/*
 * wire_data.h — a queued message as it goes out in DATA (pure,
 * resumable): RFC 5321 4.5.2 dot-stuffing, CRLF line ends only (a bare
 * CR or LF becomes CRLF, so nothing smuggled in can leave as a different
 * line structure), and no line over 998 octets (RFC 5321 4.5.3.1.6):
 * longer ones are broken with CRLF SP, as Postfix does, which keeps a
 * header a header. The terminating CRLF.CRLF is added at the end.
 */
#ifndef PETREL_WIRE_DATA_H
#define PETREL_WIRE_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

#define WIRE_LINE_MAX 998

struct wire_data {
	size_t line_len; /* octets in the current output line */
	bool cr_pending; /* the last input octet was a CR */
};

void wire_data_init(struct wire_data *w);

/* Encodes in[0..len) (the next part of the message), appending to out. */
void wire_data_encode(struct wire_data *w, const char *in, size_t len, struct buf *out);

/* Ends the message: a final CRLF if needed, then ".\r\n". */
void wire_data_finish(struct wire_data *w, struct buf *out);

#endif
