/*
 * cmd_fetch.c — FETCH (RFC 9051 6.4.5) with CONDSTORE's MODSEQ and
 * CHANGEDSINCE (RFC 7162 3.1.4) and QRESYNC's VANISHED (3.2.6).
 *
 * What the index caches (envelope, body structure, size, date) comes
 * from a cursor a batch at a time (mailbox.h); message text is streamed
 * from the file as the client reads it: the command yields whenever the
 * output is above the connection's high-water mark and goes on when it
 * drains, so a client that never reads its FETCH output costs a bounded
 * buffer, not the mailbox.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imapd/commands.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailbox/message_file.h"
#include "proto/cte.h"
#include "proto/imap_fetch.h"
#include "proto/imap_seqset.h"
#include "proto/mime.h"
#include "proto/rfc5322.h"

#define STREAM_PIECE      (64 * 1024)
#define OUTPUT_YIELD      (128 * 1024)
#define HEADER_FIELDS_MAX (1024 * 1024) /* a header read for HEADER.FIELDS */

struct fetch_run {
	struct imap_fetch fetch;
	uint32_t *seqs, *uids, *newly_seen;
	size_t count, pos, newly_seen_count;
	struct mailbox_cursor *cursor;
	bool with_uid, with_modseq, with_flags, vanished_issued;
	uint64_t changed_since;
	/* the message being written */
	bool in_message;
	uint32_t seq;
	struct mailbox_record rec;
	size_t item;
	bool file_open;
	struct message_file file;
	struct mime_parser *mime;
	/* a literal being streamed from the file */
	bool streaming;
	uint64_t stream_pos, stream_end;
	/* BINARY: the part decoded on the way (RFC 3516) */
	bool decoding;
	struct cte_decoder decoder;
	uint64_t out_skip, out_left;
	bool unknown_cte; /* a part whose encoding petrel cannot undo */
};

static void run_free(struct imap_client *c)
{
	struct fetch_run *run = c->pending.state;
	if (run == NULL)
		return;
	imap_fetch_free(&run->fetch);
	mailbox_cursor_close(&run->cursor);
	if (run->file_open)
		message_file_close(&run->file);
	mime_parser_free(&run->mime);
	free(run->seqs);
	free(run->uids);
	free(run->newly_seen);
	free(run);
	c->pending.state = NULL;
}

static bool contains(const uint32_t *sorted, size_t n, uint32_t v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sorted[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && sorted[lo] == v;
}

static void write_internaldate(struct imap_client *c, int64_t when)
{
	static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)when;
	struct tm tm;
	gmtime_r(&t, &tm);
	conn_printf(c->conn, "INTERNALDATE \"%02d-%s-%04d %02d:%02d:%02d +0000\"",
	            tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	            tm.tm_min, tm.tm_sec);
}

/* The section as the reply names it: "BODY[1.HEADER.FIELDS (From)]<0>". */
static void write_section_name(struct imap_client *c, const struct imap_fetch_item *item)
{
	if (strncmp(item->name, "RFC822", 6) == 0) {
		client_puts(c, item->name);
		return;
	}
	struct buf out = BUF_INIT;
	buf_appendf(&out, "%s[", strcmp(item->name, "BINARY") == 0 ? "BINARY" : "BODY");
	for (size_t i = 0; i < item->part_count; i++)
		buf_appendf(&out, "%s%u", i ? "." : "", item->part[i]);
	static const char *const texts[] = {
	    "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"};
	if (item->text != IMAP_SECTION_ALL)
		buf_appendf(&out, "%s%s", item->part_count ? "." : "", texts[item->text]);
	if (item->field_count) {
		buf_append_str(&out, " (");
		for (size_t i = 0; i < item->field_count; i++)
			buf_appendf(&out, "%s%s", i ? " " : "", item->fields[i]);
		buf_append_char(&out, ')');
	}
	buf_append_char(&out, ']');
	if (item->partial)
		buf_appendf(&out, "<%llu>", (unsigned long long)item->offset);
	client_write(c, out.data, out.len);
	buf_free(&out);
}

static bool open_file(struct fetch_run *run, const char **error_r)
{
	if (run->file_open)
		return true;
	if (message_file_open(&run->file, run->rec.path, run->rec.size, error_r) < 0)
		return false;
	run->file_open = true;
	return true;
}

static bool parse_mime(struct fetch_run *run, const char **error_r)
{
	if (run->mime)
		return true;
	run->mime = mime_parser_new();
	char *piece = xmalloc(STREAM_PIECE);
	uint64_t pos = 0;
	ssize_t n;
	while ((n = message_file_read(&run->file, pos, piece, STREAM_PIECE)) > 0) {
		mime_parser_feed(run->mime, piece, (size_t)n);
		pos += (uint64_t)n;
	}
	free(piece);
	if (n < 0) {
		*error_r = error_errno("read");
		return false;
	}
	mime_parser_finish(run->mime);
	return true;
}

/* The k-th child (1-based) of a multipart, or -1. */
static long child(const struct mime_parser *mime, size_t parent, uint32_t k)
{
	uint32_t seen = 0;
	for (size_t i = parent + 1; i < mime_part_count(mime); i++) {
		const struct mime_part *p = mime_part_get(mime, i);
		if (p->parent == (int32_t)parent && ++seen == k)
			return (long)i;
		if (p->depth <= mime_part_get(mime, parent)->depth)
			break;
	}
	return -1;
}

/* Part k of a message (the top one, or one inside message/rfc822): a
 * multipart's k-th part, or for k = 1 the body of a single part. */
static long message_part(const struct mime_parser *mime, size_t msg, uint32_t k)
{
	const struct mime_part *m = mime_part_get(mime, msg);
	if (m->kind == MIME_MULTIPART)
		return child(mime, msg, k);
	return k == 1 ? (long)msg : -1;
}

static long resolve(const struct mime_parser *mime, const struct imap_fetch_item *item)
{
	long idx = message_part(mime, 0, item->part[0]);
	for (size_t i = 1; i < item->part_count && idx >= 0; i++) {
		const struct mime_part *p = mime_part_get(mime, (size_t)idx);
		if (p->kind == MIME_MULTIPART)
			idx = child(mime, (size_t)idx, item->part[i]);
		else if (p->kind == MIME_MESSAGE &&
		         (size_t)idx + 1 < mime_part_count(mime))
			idx = message_part(mime, (size_t)idx + 1, item->part[i]);
		else
			idx = -1;
	}
	return idx;
}

/* Where a section lies in the message (CRLF space): 0 and the range, 1
 * for a section held in *inline_r instead (HEADER.FIELDS), -1 error. */
static int section_range(struct fetch_run *run, const struct imap_fetch_item *item,
                         uint64_t *start_r, uint64_t *end_r, struct buf *inline_r,
                         const char **error_r)
{
	*start_r = *end_r = 0;
	if (!open_file(run, error_r))
		return -1;
	uint64_t hstart = 0, hend, body_end = run->file.size;
	if (item->part_count == 0) {
		if (item->text == IMAP_SECTION_ALL) {
			*end_r = run->file.size;
			return 0;
		}
		if (message_file_header_size(&run->file, &hend, error_r) < 0)
			return -1;
	} else {
		if (!parse_mime(run, error_r))
			return -1;
		long idx = resolve(run->mime, item);
		if (idx < 0)
			return 0; /* no such part: empty */
		const struct mime_part *p = mime_part_get(run->mime, (size_t)idx);
		if (item->text == IMAP_SECTION_ALL) {
			*start_r = p->body_offset;
			*end_r = p->end_offset;
			return 0;
		}
		if (item->text == IMAP_SECTION_MIME) {
			*start_r = p->header_offset;
			*end_r = p->body_offset;
			return 0;
		}
		/* HEADER and TEXT of a part: of the message it holds. */
		if (p->kind != MIME_MESSAGE ||
		    (size_t)idx + 1 >= mime_part_count(run->mime))
			return 0;
		const struct mime_part *m = mime_part_get(run->mime, (size_t)idx + 1);
		hstart = m->header_offset;
		hend = m->body_offset;
		body_end = m->end_offset;
	}
	if (item->text == IMAP_SECTION_HEADER) {
		*start_r = hstart;
		*end_r = hend;
		return 0;
	}
	if (item->text == IMAP_SECTION_TEXT) {
		*start_r = hend;
		*end_r = body_end;
		return 0;
	}
	/* HEADER.FIELDS (NOT): the fields named (or all others), then the
	 * blank line. */
	uint64_t len =
	    hend - hstart < HEADER_FIELDS_MAX ? hend - hstart : HEADER_FIELDS_MAX;
	char *header = xmalloc((size_t)len + 1);
	ssize_t n = message_file_read(&run->file, hstart, header, (size_t)len);
	if (n < 0) {
		free(header);
		*error_r = error_errno("read");
		return -1;
	}
	size_t pos = 0;
	struct rfc5322_field f;
	bool not = item->text == IMAP_SECTION_HEADER_FIELDS_NOT;
	while (rfc5322_next_field(header, (size_t)n, &pos, &f) == 1) {
		bool named = false;
		for (size_t i = 0; i < item->field_count && !named; i++)
			named = strlen(item->fields[i]) == f.name_len &&
			        strncasecmp(item->fields[i], f.name, f.name_len) == 0;
		if (named != not )
			buf_append(inline_r, f.raw, f.raw_len);
	}
	buf_append_str(inline_r, "\r\n");
	free(header);
	return 1;
}

/* A section: its name, then a literal (streamed from the file). */
static bool write_section(struct imap_client *c, struct fetch_run *run,
                          const struct imap_fetch_item *item)
{
	uint64_t start, end;
	struct buf held = BUF_INIT;
	const char *error;
	int r = section_range(run, item, &start, &end, &held, &error);
	if (r < 0) {
		log_msg(L_WARN, "event=fetch-failed session=%s user=%s uid=%u error=%s",
		        c->log_id, LOG_Q(c->user), run->rec.uid, LOG_Q(error));
		buf_free(&held);
		return false;
	}
	if (r == 1) {
		start = 0;
		end = held.len;
	}
	if (item->partial) {
		start = start + item->offset < end ? start + item->offset : end;
		if (end - start > item->length)
			end = start + item->length;
	}
	write_section_name(c, item);
	conn_printf(c->conn, " {%llu}\r\n", (unsigned long long)(end - start));
	if (r == 1) {
		client_write(c, held.data + start, (size_t)(end - start));
	} else {
		run->streaming = end > start;
		run->stream_pos = start;
		run->stream_end = end;
	}
	buf_free(&held);
	return true;
}

/* A part's body and its Content-Transfer-Encoding (BINARY[]: the whole
 * message, as it is). 0, or -1 with *error_r. */
static int binary_range(struct fetch_run *run, const struct imap_fetch_item *item,
                        uint64_t *start_r, uint64_t *end_r, enum cte_kind *kind_r,
                        const char **error_r)
{
	*start_r = *end_r = 0;
	*kind_r = CTE_IDENTITY;
	if (!open_file(run, error_r))
		return -1;
	if (item->part_count == 0) {
		*end_r = run->file.size;
		return 0;
	}
	if (!parse_mime(run, error_r))
		return -1;
	long idx = resolve(run->mime, item);
	if (idx < 0)
		return 0;
	const struct mime_part *p = mime_part_get(run->mime, (size_t)idx);
	*start_r = p->body_offset;
	*end_r = p->end_offset;
	if (p->kind == MIME_LEAF) {
		size_t len;
		const char *cte =
		    mime_part_value(run->mime, p, MIME_CONTENT_TRANSFER_ENCODING, &len);
		*kind_r = cte_kind_of(cte, len);
	}
	return 0;
}

/* The decoded size of [start, end): one pass through the part. */
static uint64_t decoded_size(struct fetch_run *run, uint64_t start, uint64_t end,
                             enum cte_kind kind)
{
	if (kind == CTE_IDENTITY)
		return end - start;
	struct cte_decoder d;
	cte_decoder_init(&d, kind);
	char *piece = xmalloc(STREAM_PIECE), *out = xmalloc(STREAM_PIECE + 8);
	uint64_t size = 0;
	for (uint64_t pos = start; pos < end;) {
		uint64_t want = end - pos < STREAM_PIECE ? end - pos : STREAM_PIECE;
		ssize_t n = message_file_read(&run->file, pos, piece, (size_t)want);
		if (n <= 0)
			break;
		size += cte_decode(&d, piece, (size_t)n, out);
		pos += (uint64_t)n;
	}
	size += cte_finish(&d, out);
	free(piece);
	free(out);
	return size;
}

/* BINARY[part]<partial> (a literal8, decoded as it streams) and
 * BINARY.SIZE[part]. */
static bool write_binary(struct imap_client *c, struct fetch_run *run,
                         const struct imap_fetch_item *item)
{
	uint64_t start, end;
	enum cte_kind kind;
	const char *error;
	if (binary_range(run, item, &start, &end, &kind, &error) < 0) {
		log_msg(L_WARN, "event=fetch-failed session=%s user=%s uid=%u error=%s",
		        c->log_id, LOG_Q(c->user), run->rec.uid, LOG_Q(error));
		return false;
	}
	struct buf name = BUF_INIT;
	buf_append_str(&name,
	               item->type == IMAP_FETCH_BINARY_SIZE ? "BINARY.SIZE[" : "BINARY[");
	for (size_t i = 0; i < item->part_count; i++)
		buf_appendf(&name, "%s%u", i ? "." : "", item->part[i]);
	buf_append_char(&name, ']');
	if (kind == CTE_UNKNOWN) {
		run->unknown_cte = true;
		client_write(c, name.data, name.len);
		client_puts(c, " NIL");
		buf_free(&name);
		return true;
	}
	uint64_t size = decoded_size(run, start, end, kind);
	if (item->type == IMAP_FETCH_BINARY_SIZE) {
		conn_printf(c->conn, "%s %llu", name.data, (unsigned long long)size);
		buf_free(&name);
		return true;
	}
	uint64_t skip = 0, left = size;
	if (item->partial) {
		skip = item->offset < size ? item->offset : size;
		left = size - skip < item->length ? size - skip : item->length;
		buf_appendf(&name, "<%llu>", (unsigned long long)item->offset);
	}
	conn_printf(c->conn, "%s ~{%llu}\r\n", name.data, (unsigned long long)left);
	buf_free(&name);
	run->streaming = left > 0;
	run->decoding = true;
	run->stream_pos = start;
	run->stream_end = end;
	run->out_skip = skip;
	run->out_left = left;
	cte_decoder_init(&run->decoder, kind);
	return true;
}

/* The next piece of a decoded (BINARY) literal. */
static void stream_decoded(struct imap_client *c, struct fetch_run *run)
{
	char *piece = xmalloc(STREAM_PIECE), *out = xmalloc(STREAM_PIECE + 8);
	uint64_t want = run->stream_end - run->stream_pos;
	ssize_t n =
	    want ? message_file_read(&run->file, run->stream_pos, piece,
	                             want < STREAM_PIECE ? (size_t)want : STREAM_PIECE)
	         : 0;
	size_t made;
	if (n > 0) {
		made = cte_decode(&run->decoder, piece, (size_t)n, out);
		run->stream_pos += (uint64_t)n;
	} else {
		made = cte_finish(&run->decoder, out);
		if (made == 0) { /* shrank under us: the promise is kept */
			made = run->out_left < STREAM_PIECE ? (size_t)run->out_left
			                                    : STREAM_PIECE;
			memset(out, ' ', made);
		}
	}
	size_t skip = run->out_skip < made ? (size_t)run->out_skip : made;
	run->out_skip -= skip;
	size_t send = made - skip < run->out_left ? made - skip : (size_t)run->out_left;
	client_write(c, out + skip, send);
	run->out_left -= send;
	run->streaming = run->out_left > 0;
	if (!run->streaming)
		run->decoding = false;
	free(piece);
	free(out);
}

static bool write_item(struct imap_client *c, struct fetch_run *run,
                       const struct imap_fetch_item *item,
                       const struct mailbox_message *m)
{
	switch (item->type) {
	case IMAP_FETCH_UID:
		conn_printf(c->conn, "UID %u", m->uid);
		return true;
	case IMAP_FETCH_FLAGS:
		client_write_flags(c, run->seq);
		return true;
	case IMAP_FETCH_INTERNALDATE:
		write_internaldate(c, run->rec.internaldate);
		return true;
	case IMAP_FETCH_RFC822_SIZE:
		conn_printf(c->conn, "RFC822.SIZE %llu",
		            (unsigned long long)run->rec.size);
		return true;
	case IMAP_FETCH_ENVELOPE:
		client_puts(c, "ENVELOPE ");
		client_write(c, run->rec.envelope, run->rec.envelope_len);
		return true;
	case IMAP_FETCH_BODY:
		client_puts(c, "BODY ");
		client_write(c, run->rec.body, run->rec.body_len);
		return true;
	case IMAP_FETCH_BODYSTRUCTURE:
		client_puts(c, "BODYSTRUCTURE ");
		client_write(c, run->rec.bodystructure, run->rec.bodystructure_len);
		return true;
	case IMAP_FETCH_MODSEQ:
		conn_printf(c->conn, "MODSEQ (%llu)", (unsigned long long)m->modseq);
		return true;
	case IMAP_FETCH_SECTION:
		return write_section(c, run, item);
	case IMAP_FETCH_BINARY:
	case IMAP_FETCH_BINARY_SIZE:
		return write_binary(c, run, item);
	}
	return true;
}

/* The next piece of a streamed literal. */
static bool stream_piece(struct imap_client *c, struct fetch_run *run)
{
	if (run->decoding) {
		stream_decoded(c, run);
		return true;
	}
	char *piece = xmalloc(STREAM_PIECE);
	uint64_t want = run->stream_end - run->stream_pos;
	ssize_t n = message_file_read(&run->file, run->stream_pos, piece,
	                              want < STREAM_PIECE ? (size_t)want : STREAM_PIECE);
	if (n <= 0) {
		/* The file shrank or failed under us: the literal was promised,
		 * so it is filled out (the client can tell nothing else). */
		memset(piece, ' ', STREAM_PIECE);
		n = want < STREAM_PIECE ? (ssize_t)want : STREAM_PIECE;
	}
	client_write(c, piece, (size_t)n);
	free(piece);
	run->stream_pos += (uint64_t)n;
	run->streaming = run->stream_pos < run->stream_end;
	return true;
}

static void end_message(struct fetch_run *run)
{
	run->in_message = false;
	if (run->file_open)
		message_file_close(&run->file);
	run->file_open = false;
	mime_parser_free(&run->mime);
}

/* Starts the next message; false when there is none (or an error). */
static int next_message(struct imap_client *c, struct fetch_run *run)
{
	while (run->pos < run->count) {
		const char *error;
		int r = mailbox_cursor_next(run->cursor, &run->rec, &error);
		if (r <= 0) {
			if (r < 0)
				log_msg(L_WARN,
				        "event=fetch-failed session=%s user=%s error=%s",
				        c->log_id, LOG_Q(c->user), LOG_Q(error));
			return r;
		}
		run->seq = run->seqs[run->pos++];
		if (run->rec.expunged) {
			run->vanished_issued = true;
			continue;
		}
		conn_printf(c->conn, "* %u FETCH (", run->seq);
		run->in_message = true;
		run->item = 0;
		return 1;
	}
	return 0;
}

static bool fetch_resume(struct imap_client *c)
{
	struct fetch_run *run = c->pending.state;
	while (conn_output_length(c->conn) < OUTPUT_YIELD) {
		if (run->streaming) {
			stream_piece(c, run);
			continue;
		}
		if (!run->in_message) {
			int r = next_message(c, run);
			if (r < 0) {
				client_tagged(
				    c, "NO",
				    "[SERVERBUG] Some messages could not be read");
				return true;
			}
			if (r == 0) {
				if (run->unknown_cte)
					client_tagged(
					    c, "NO",
					    "[UNKNOWN-CTE] A part has an encoding "
					    "petrel cannot decode");
				else if (run->vanished_issued)
					client_tagged(c, "NO",
					              "[EXPUNGEISSUED] Some messages "
					              "were expunged");
				else
					client_tagged(c, "OK", "Fetch completed");
				return true;
			}
			continue;
		}
		const struct mailbox_message *m = mailbox_get(c->mailbox, run->seq);
		size_t n = run->fetch.count;
		if (run->item < n) {
			const struct imap_fetch_item *item = &run->fetch.items[run->item];
			if (run->item++)
				client_puts(c, " ");
			if (!write_item(c, run, item, m)) {
				/* a literal cannot be taken back: an empty one */
				client_puts(c, " {0}\r\n");
			}
			continue;
		}
		/* What was not asked for but must be said. */
		if (run->with_uid)
			conn_printf(c->conn, " UID %u", m->uid);
		if (run->with_modseq)
			conn_printf(c->conn, " MODSEQ (%llu)",
			            (unsigned long long)m->modseq);
		if (run->with_flags ||
		    contains(run->newly_seen, run->newly_seen_count, run->seq)) {
			client_puts(c, " ");
			client_write_flags(c, run->seq);
		}
		client_puts(c, ")\r\n");
		end_message(run);
	}
	return false;
}

static bool has_item(const struct imap_fetch *f, enum imap_fetch_type type)
{
	for (size_t i = 0; i < f->count; i++)
		if (f->items[i].type == type)
			return true;
	return false;
}

/* (CHANGEDSINCE n [VANISHED]) */
static bool modifiers(struct imap_client *c, struct fetch_run *run, bool *vanished_r)
{
	*vanished_r = false;
	const struct imap_arg *rest = run->fetch.rest;
	if (rest == NULL)
		return true;
	if (rest->type != IMAP_ARG_LIST || rest->next)
		return false;
	for (const struct imap_arg *a = rest->list; a; a = a->next) {
		if (a->type != IMAP_ARG_ATOM)
			return false;
		if (strcasecmp(a->str, "CHANGEDSINCE") == 0 && a->next &&
		    a->next->type == IMAP_ARG_ATOM) {
			char *end;
			run->changed_since = strtoull(a->next->str, &end, 10);
			if (*end || run->changed_since == 0)
				return false;
			c->enabled |= IMAP_ENABLED_CONDSTORE;
			a = a->next;
		} else if (strcasecmp(a->str, "VANISHED") == 0 && c->uid &&
		           (c->enabled & IMAP_ENABLED_QRESYNC)) {
			*vanished_r = true;
		} else {
			return false;
		}
	}
	return !*vanished_r || run->changed_since;
}

/* QRESYNC: UIDs in the set expunged since CHANGEDSINCE. */
static void write_vanished(struct imap_client *c, struct fetch_run *run,
                           const struct imap_arg *set)
{
	uint32_t *uids;
	size_t n;
	const char *error;
	if (mailbox_vanished_since(c->mailbox, run->changed_since, &uids, &n, &error) < 0)
		return;
	struct imap_seq_range ranges[1024];
	size_t count;
	if (imap_seqset_parse(set->str, set->len, ranges, 1024, &count, &error) == 0) {
		/* "*": every UID given so far, the expunged last one included */
		count =
		    imap_seqset_resolve(ranges, count, mailbox_uidnext(c->mailbox) - 1);
		size_t kept = 0;
		for (size_t i = 0; i < n; i++)
			if (imap_seqset_contains(ranges, count, uids[i]))
				uids[kept++] = uids[i];
		if (kept) {
			struct buf text = BUF_INIT;
			client_uid_set(&text, uids, kept);
			client_untagged(c, "VANISHED (EARLIER) %s", text.data);
			buf_free(&text);
		}
	}
	free(uids);
}

void imap_cmd_fetch(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	if (count < 2 || count > 3) {
		client_tagged(c, "BAD", "FETCH set items [(modifiers)]");
		return;
	}
	struct fetch_run *run = xcalloc(1, sizeof(*run));
	const char *error;
	bool vanished;
	if (imap_fetch_parse(args->next, &run->fetch, &error) < 0 ||
	    !modifiers(c, run, &vanished)) {
		client_tagged(c, "BAD", "%s",
		              run->fetch.count ? "Invalid FETCH modifier" : error);
		imap_fetch_free(&run->fetch);
		free(run);
		return;
	}
	if (!client_sequence_set(c, args, c->uid, &run->seqs, &run->count)) {
		imap_fetch_free(&run->fetch);
		free(run);
		return;
	}
	if (vanished)
		write_vanished(c, run, args);
	run->with_uid = c->uid && !has_item(&run->fetch, IMAP_FETCH_UID);
	run->with_modseq =
	    (run->changed_since || (c->enabled & IMAP_ENABLED_CONDSTORE)) &&
	    !has_item(&run->fetch, IMAP_FETCH_MODSEQ);
	/* CHANGEDSINCE: only messages changed after it. */
	size_t kept = 0;
	for (size_t i = 0; i < run->count; i++) {
		const struct mailbox_message *m = mailbox_get(c->mailbox, run->seqs[i]);
		if (!m->expunged && m->modseq > run->changed_since)
			run->seqs[kept++] = run->seqs[i];
	}
	run->count = kept;
	/* BODY[...] without PEEK sets \Seen first, all at once; FLAGS then
	 * follow for those messages (RFC 9051 6.4.5). */
	if (run->fetch.sets_seen && !mailbox_readonly(c->mailbox)) {
		run->newly_seen = xcalloc(run->count + 1, sizeof(uint32_t));
		for (size_t i = 0; i < run->count; i++)
			if (!(mailbox_get(c->mailbox, run->seqs[i])->flags & MAIL_SEEN))
				run->newly_seen[run->newly_seen_count++] = run->seqs[i];
		struct mailbox_flags_change seen = {.op = MAILBOX_FLAGS_ADD,
		                                    .flags = MAIL_SEEN};
		if (run->newly_seen_count &&
		    mailbox_change_flags(c->mailbox, run->newly_seen,
		                         run->newly_seen_count, &seen, NULL, NULL, NULL,
		                         &error) < 0)
			log_msg(L_WARN, "event=mailbox-error session=%s user=%s error=%s",
			        c->log_id, LOG_Q(c->user), LOG_Q(error));
	}
	if (has_item(&run->fetch, IMAP_FETCH_FLAGS))
		run->newly_seen_count = 0;
	unsigned want = 0;
	for (size_t i = 0; i < run->fetch.count; i++)
		switch (run->fetch.items[i].type) {
		case IMAP_FETCH_RFC822_SIZE:
		case IMAP_FETCH_BINARY_SIZE:
			want |= MAILBOX_WANT_SIZE;
			break;
		case IMAP_FETCH_INTERNALDATE:
			want |= MAILBOX_WANT_DATE;
			break;
		case IMAP_FETCH_ENVELOPE:
			want |= MAILBOX_WANT_ENVELOPE;
			break;
		case IMAP_FETCH_BODY:
			want |= MAILBOX_WANT_BODY;
			break;
		case IMAP_FETCH_BODYSTRUCTURE:
			want |= MAILBOX_WANT_BODYSTRUCTURE;
			break;
		case IMAP_FETCH_SECTION:
		case IMAP_FETCH_BINARY:
			want |= MAILBOX_WANT_SIZE;
			break;
		default:
			break;
		}
	run->uids = xcalloc(run->count + 1, sizeof(uint32_t));
	for (size_t i = 0; i < run->count; i++)
		run->uids[i] = mailbox_get(c->mailbox, run->seqs[i])->uid;
	run->cursor = mailbox_cursor_open(c->mailbox, run->uids, run->count, want);
	c->pending =
	    (struct imap_pending){.resume = fetch_resume, .free = run_free, .state = run};
	if (fetch_resume(c)) {
		run_free(c);
		c->pending = (struct imap_pending){0};
	}
}
