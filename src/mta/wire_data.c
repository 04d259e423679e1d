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

void wire_data_encode(struct wire_data *w, const char *in, size_t len, struct buf *out)
{
	buf_reserve(out, len + len / 64 + 8);
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (w->cr_pending) {
			w->cr_pending = false;
			end_line(w, out); /* CRLF, or a bare CR made one */
			if (c == '\n')
				continue;
		}
		if (c == '\r') {
			w->cr_pending = true;
			continue;
		}
		if (c == '\n') {
			end_line(w, out); /* a bare LF */
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
		buf_append_char(out, c);
		w->line_len++;
	}
}

void wire_data_finish(struct wire_data *w, struct buf *out)
{
	if (w->cr_pending || w->line_len > 0)
		end_line(w, out);
	w->cr_pending = false;
	buf_append_str(out, ".\r\n");
}

bool wire_data_has_8bit(const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)in[i] & 0x80)
			return true;
	return false;
}
