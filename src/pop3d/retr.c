/*
 * retr.c — RETR and TOP (RFC 1939 7, 9): the message streamed from its
 * file as the client reads it, lines beginning with "." doubled (RFC
 * 1939 3, byte-stuffing), ended by a line of ".". A client that does
 * not read costs the connection's output buffer, not the message.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailbox/message_file.h"
#include "pop3d/session.h"

#define PIECE        (64 * 1024)
#define OUTPUT_YIELD (128 * 1024)

struct pop3_transfer {
	struct message_file file;
	uint64_t pos, end;
	bool top;
	uint64_t header_end;
	uint32_t lines_left; /* TOP: body lines still to send */
	bool line_start;     /* the next octet begins a line */
	uint32_t number;
};

void pop3_transfer_free(struct pop3_session *s)
{
	if (s->transfer == NULL)
		return;
	message_file_close(&s->transfer->file);
	free(s->transfer);
	s->transfer = NULL;
}

static const char *message_path(struct pop3_session *s, uint32_t uid, uint64_t *size_r)
{
	static char path[4096];
	uint32_t uids[1] = {uid};
	struct mailbox_cursor *c =
	    mailbox_cursor_open(s->mailbox, uids, 1, MAILBOX_WANT_SIZE);
	struct mailbox_record rec;
	const char *error;
	const char *found = NULL;
	if (mailbox_cursor_next(c, &rec, &error) > 0 && !rec.expunged) {
		snprintf(path, sizeof(path), "%s", rec.path);
		*size_r = rec.size;
		found = path;
	}
	mailbox_cursor_close(&c);
	return found;
}

void pop3_retr_start(struct pop3_session *s, uint32_t number, bool top, uint32_t lines)
{
	struct pop3_message *m = &s->messages[number - 1];
	uint64_t size = 0;
	const char *error = "the message is gone";
	const char *path = message_path(s, m->uid, &size);
	struct pop3_transfer *t = xcalloc(1, sizeof(*t));
	if (path == NULL || message_file_open(&t->file, path, size, &error) < 0 ||
	    (top && message_file_header_size(&t->file, &t->header_end, &error) < 0)) {
		if (path)
			message_file_close(&t->file);
		free(t);
		log_msg(L_WARN, "event=retr-failed session=%s user=%s uid=%u error=%s",
		        s->log_id, LOG_Q(s->user), m->uid, LOG_Q(error));
		pop3_reply(s, false, "[SYS/TEMP] The message cannot be read now");
		return;
	}
	t->end = t->file.size;
	t->top = top;
	t->lines_left = lines;
	t->line_start = true;
	t->number = number;
	s->transfer = t;
	if (!top)
		m->retrieved = true;
	pop3_reply(s, true, "%llu octets", (unsigned long long)t->end);
}

/* Stuffs data a line at a time (a "." that begins a line is doubled)
 * into out; stops TOP's body at its line count. Returns false once TOP
 * has sent what it should. */
static bool emit(struct pop3_transfer *t, const char *data, size_t len, struct buf *out)
{
	size_t i = 0;
	while (i < len) {
		if (t->line_start) {
			if (t->top && t->pos + i >= t->header_end) {
				if (t->lines_left == 0)
					return false;
				t->lines_left--;
			}
			if (data[i] == '.')
				buf_append_char(out, '.');
		}
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - data) + 1 : len;
		buf_append(out, data + i, end - i);
		t->line_start = nl != NULL;
		i = end;
	}
	return true;
}

bool pop3_transfer_resume(struct pop3_session *s)
{
	struct pop3_transfer *t = s->transfer;
	char *piece = xmalloc(PIECE);
	struct buf out = BUF_INIT;
	bool more = true;
	while (more && t->pos < t->end && conn_output_length(s->conn) < OUTPUT_YIELD) {
		uint64_t want = t->end - t->pos < PIECE ? t->end - t->pos : PIECE;
		ssize_t n = message_file_read(&t->file, t->pos, piece, (size_t)want);
		if (n <= 0) {
			t->end = t->pos; /* shrank under us: what was sent is it */
			break;
		}
		buf_reset(&out);
		more = emit(t, piece, (size_t)n, &out);
		pop3_write(s, out.data, out.len);
		t->pos += (uint64_t)n;
	}
	free(piece);
	buf_free(&out);
	if (more && t->pos < t->end)
		return false; /* the client reads on first */
	if (!t->line_start)
		pop3_write(s, "\r\n", 2);
	pop3_write(s, ".\r\n", 3);
	return true;
}
