/*
 * wire_data.c — outbound DATA encoding (see wire_data.h).
 */
#include "mta/wire_data.h"

void wire_data_init(struct wire_data *w)
{
	w->line_len = 0;
	w->cr_pending = false;
}

static void end_line(struct wire_data *w, struct buf *out)
{
	buf_append_str(out, "\r\n");
	w->line_len = 0;
}

/* Octets before the next CR or LF, at most max. */
static size_t plain_run(const char *in, size_t max)
{
	size_t n = 0;
	while (n < max && in[n] != '\r' && in[n] != '\n')
		n++;
	return n;
}

void wire_data_encode(struct wire_data *w, const char *in, size_t len, struct buf *out)
{
	buf_reserve(out, len + len / 64 + 8);
	size_t i = 0;
	while (i < len) {
		char c = in[i];
		if (w->cr_pending) {
			w->cr_pending = false;
			end_line(w, out); /* CRLF, or a bare CR made one */
			if (c == '\n') {
				i++;
				continue;
			}
		}
		if (c == '\r') {
			w->cr_pending = true;
			i++;
			continue;
		}
		if (c == '\n') {
			end_line(w, out); /* a bare LF */
			i++;
			continue;
		}
		if (w->line_len == WIRE_LINE_MAX) {
			buf_append_str(out, "\r\n ");
			w->line_len = 1;
		}
		if (w->line_len == 0 && c == '.') {
			buf_append_char(out, '.');
			w->line_len++;
		}
		/* The rest of the line, up to the length limit, in one copy: a
		 * copy per octet made this the busiest code in the queue. */
		size_t room = len - i, limit = WIRE_LINE_MAX - w->line_len;
		size_t n = plain_run(in + i, room < limit ? room : limit);
		buf_append(out, in + i, n);
		w->line_len += n;
		i += n;
	}
}

void wire_data_finish(struct wire_data *w, struct buf *out)
{
	if (w->cr_pending || w->line_len > 0)
		end_line(w, out);
	w->cr_pending = false;
	buf_append_str(out, ".\r\n");
}
