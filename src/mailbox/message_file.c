/*
 * message_file.c — message files with CRLF line ends, and their cached
 * IMAP fields (see message_file.h).
 */
#include "mailbox/message_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/xalloc.h"
#include "proto/imap_bodystructure.h"
#include "proto/imap_write.h"
#include "proto/mime.h"
#include "proto/rfc5322.h"

#define PIECE (64 * 1024)
/* The header section ENVELOPE reads is cut here (as nested ones are). */
#define HEADER_MAX (256 * 1024)

/* Octets with CRLF line ends: every LF not after a CR counts twice. */
static int measure(struct message_file *f, const char **error_r)
{
	char *piece = xmalloc(PIECE);
	uint64_t pos = 0, bare = 0;
	bool last_cr = false;
	ssize_t n;
	while ((n = pread(f->fd, piece, PIECE, (off_t)pos)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (piece[i] == '\n' && !last_cr)
				bare++;
			last_cr = piece[i] == '\r';
		}
		pos += (uint64_t)n;
	}
	free(piece);
	if (n < 0) {
		*error_r = error_errno("read");
		return -1;
	}
	f->size = pos + bare;
	return 0;
}

int message_file_open(struct message_file *f, const char *path, uint64_t size,
                      const char **error_r)
{
	memset(f, 0, sizeof(*f));
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (f->fd < 0 || fstat(f->fd, &st) < 0) {
		*error_r = error_errno(path);
		int saved = errno;
		message_file_close(f);
		errno = saved;
		return -1;
	}
	f->file_size = (uint64_t)st.st_size;
	f->mtime = (int64_t)st.st_mtim.tv_sec;
	f->size = size;
	if (f->size == 0 && f->file_size > 0 && measure(f, error_r) < 0) {
		message_file_close(f);
		return -1;
	}
	if (f->file_size == 0)
		f->size = 0;
	f->converted = f->size != f->file_size;
	return 0;
}

void message_file_close(struct message_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* Converted reading from the current position. */
static ssize_t read_converted(struct message_file *f, char *buf, size_t len)
{
	size_t out = 0;
	char piece[8192];
	while (out < len) {
		if (f->pending_lf) {
			buf[out++] = '\n';
			f->out_pos++;
			f->pending_lf = false;
			f->last_cr = false;
			continue;
		}
		size_t want = len - out < sizeof(piece) ? len - out : sizeof(piece);
		ssize_t n = pread(f->fd, piece, want, (off_t)f->file_pos);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		ssize_t i = 0;
		for (; i < n && out < len; i++) {
			char c = piece[i];
			if (c == '\n' && !f->last_cr) {
				buf[out++] = '\r';
				f->out_pos++;
				if (out == len) {
					f->pending_lf = true;
					i++;
					break;
				}
			}
			buf[out++] = c;
			f->out_pos++;
			f->last_cr = c == '\r';
		}
		f->file_pos += (uint64_t)i;
	}
	return (ssize_t)out;
}

ssize_t message_file_read(struct message_file *f, uint64_t offset, char *buf, size_t len)
{
	if (!f->converted) {
		size_t done = 0;
		while (done < len) {
			ssize_t n =
			    pread(f->fd, buf + done, len - done, (off_t)(offset + done));
			if (n < 0)
				return -1;
			if (n == 0)
				break;
			done += (size_t)n;
		}
		return (ssize_t)done;
	}
	if (offset < f->out_pos) { /* backwards: from the start again */
		f->file_pos = f->out_pos = 0;
		f->pending_lf = f->last_cr = false;
	}
	char skip[4096];
	while (f->out_pos < offset) {
		uint64_t gap = offset - f->out_pos;
		ssize_t n = read_converted(
		    f, skip, gap < sizeof(skip) ? (size_t)gap : sizeof(skip));
		if (n <= 0)
			return n;
	}
	return read_converted(f, buf, len);
}

static void write_to_buf(void *ctx, const char *data, size_t len)
{
	buf_append(ctx, data, len);
}

static size_t read_for_structure(void *ctx, uint64_t offset, char *buf, size_t len)
{
	ssize_t n = message_file_read(ctx, offset, buf, len);
	return n > 0 ? (size_t)n : 0;
}

/* The header section (to its blank line, at most HEADER_MAX). */
static int read_header(struct message_file *f, struct buf *header, const char **error_r)
{
	uint64_t len;
	if (message_file_header_size(f, &len, error_r) < 0)
		return -1;
	if (len > HEADER_MAX)
		len = HEADER_MAX;
	buf_reserve(header, (size_t)len + 1);
	ssize_t n = message_file_read(f, 0, header->data, (size_t)len);
	if (n < 0) {
		*error_r = error_errno("read");
		return -1;
	}
	header->len = (size_t)n;
	header->data[header->len] = '\0';
	return 0;
}

int message_file_header_size(struct message_file *f, uint64_t *len_r,
                             const char **error_r)
{
	/* Looks for CRLF CRLF (or a CRLF at the very start), keeping the
	 * last three octets of each piece for a boundary that straddles. */
	char piece[8192 + 3];
	size_t carry = 0;
	uint64_t pos = 0;
	for (;;) {
		ssize_t n =
		    message_file_read(f, pos, piece + carry, sizeof(piece) - carry);
		if (n < 0) {
			*error_r = error_errno("read");
			return -1;
		}
		if (pos == 0 && n >= 2 && piece[0] == '\r' && piece[1] == '\n') {
			*len_r = 2;
			return 0;
		}
		size_t have = carry + (size_t)n;
		char *end = have >= 4 ? memmem(piece, have, "\r\n\r\n", 4) : NULL;
		if (end) {
			*len_r = pos - carry + (uint64_t)(end - piece) + 4;
			return 0;
		}
		if (n == 0) { /* no blank line: it is all header */
			*len_r = f->size;
			return 0;
		}
		pos += (uint64_t)n;
		carry = have < 3 ? have : 3;
		memmove(piece, piece + have - carry, carry);
	}
}

/* The fields SORT and THREAD compare (RFC 5256), kept whole. */
static void keep_sort_fields(const char *header, size_t len, struct buf *out)
{
	static const char *const names[] = {"Date",       "Subject",    "From",
	                                    "To",         "Cc",         "Message-ID",
	                                    "References", "In-Reply-To"};
	size_t pos = 0;
	struct rfc5322_field f;
	buf_reserve(out, 1); /* cached even when none is there */
	while (rfc5322_next_field(header, len, &pos, &f) == 1)
		for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
			if (strlen(names[i]) == f.name_len &&
			    strncasecmp(names[i], f.name, f.name_len) == 0) {
				buf_append(out, f.raw, f.raw_len);
				break;
			}
}

int message_file_parse(struct message_file *f, unsigned fields,
                       struct message_parsed *out, const char **error_r)
{
	if (fields & (MESSAGE_PARSE_ENVELOPE | MESSAGE_PARSE_HEADERS)) {
		struct buf header = BUF_INIT;
		if (read_header(f, &header, error_r) < 0) {
			buf_free(&header);
			return -1;
		}
		if (fields & MESSAGE_PARSE_ENVELOPE) {
			struct imap_writer w = {.write = write_to_buf,
			                        .ctx = &out->envelope};
			imap_write_envelope(&w, header.data ? header.data : "",
			                    header.len);
		}
		if (fields & MESSAGE_PARSE_HEADERS)
			keep_sort_fields(header.data ? header.data : "", header.len,
			                 &out->headers);
		buf_free(&header);
	}
	if (!(fields & (MESSAGE_PARSE_BODY | MESSAGE_PARSE_BODYSTRUCTURE)))
		return 0;
	struct mime_parser *mime = mime_parser_new();
	char *piece = xmalloc(PIECE);
	uint64_t pos = 0;
	ssize_t n;
	while ((n = message_file_read(f, pos, piece, PIECE)) > 0) {
		mime_parser_feed(mime, piece, (size_t)n);
		pos += (uint64_t)n;
	}
	free(piece);
	if (n < 0) {
		*error_r = error_errno("read");
		mime_parser_free(&mime);
		return -1;
	}
	mime_parser_finish(mime);
	if (fields & MESSAGE_PARSE_BODY) {
		struct imap_writer w = {.write = write_to_buf, .ctx = &out->body};
		imap_write_bodystructure(&w, mime, false, read_for_structure, f);
	}
	if (fields & MESSAGE_PARSE_BODYSTRUCTURE) {
		struct imap_writer w = {.write = write_to_buf,
		                        .ctx = &out->bodystructure};
		imap_write_bodystructure(&w, mime, true, read_for_structure, f);
	}
	mime_parser_free(&mime);
	return 0;
}

void message_parsed_free(struct message_parsed *p)
{
	buf_free(&p->envelope);
	buf_free(&p->body);
	buf_free(&p->bodystructure);
	buf_free(&p->headers);
}
