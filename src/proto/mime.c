/*
 * mime.c — MIME structure from a stream (see mime.h).
 *
 * The message is read a line at a time (only a line's first LINE_KEEP
 * octets are kept: enough for any header value kept and any boundary).
 * Open parts form a chain from the innermost to the message; the
 * boundaries of the open multiparts form a stack. A delimiter line of
 * one of them ends every part inside it; the end of input ends all.
 */
#include "proto/mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_KEEP (MIME_VALUE_MAX + 128)
#define TEXT_MAX  (1024 * 1024) /* all kept header values of one message */

struct boundary {
	char text[MIME_BOUNDARY_MAX];
	size_t len;
	int32_t part; /* the multipart it belongs to */
};

/* What the parser needs of a part while it is open. */
struct part_state {
	uint64_t header_line, body_line; /* line numbers where they start */
	bool in_body;
};

struct mime_parser {
	struct mime_part *parts;
	struct part_state *states;
	size_t count, cap;
	char *text; /* kept header values */
	size_t text_len, text_cap;
	struct boundary bounds[MIME_DEPTH_MAX];
	unsigned nbounds;
	int32_t current; /* the innermost open part */
	bool truncated, finished;

	uint64_t pos;     /* offset of the next octet fed */
	uint64_t line_no; /* line ends seen */
	char line[LINE_KEEP];
	size_t line_kept;
	uint64_t line_len, line_start; /* the line being read */
	char line_last;                /* its last octet so far */
	uint64_t prev_len;             /* the last complete line, without its end */
	unsigned prev_eol;             /* its end: 1 (LF) or 2 (CRLF) */

	char field[LINE_KEEP]; /* the header field being read, unfolded */
	size_t field_len;
	bool field_open;
};

static const char *const field_names[MIME_FIELD_COUNT] = {
    "content-type",        "content-transfer-encoding",
    "content-id",          "content-description",
    "content-disposition", "content-language",
    "content-location",    "content-md5",
};

static int32_t new_part(struct mime_parser *p, int32_t parent, uint64_t header_offset)
{
	if (p->count >= MIME_PARTS_MAX) {
		p->truncated = true;
		return -1;
	}
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct mime_part *parts = realloc(p->parts, cap * sizeof(*parts));
		if (parts == NULL)
			return -1;
		p->parts = parts;
		struct part_state *states = realloc(p->states, cap * sizeof(*states));
		if (states == NULL)
			return -1;
		p->states = states;
		p->cap = cap;
	}
	int32_t i = (int32_t)p->count++;
	struct mime_part *part = &p->parts[i];
	memset(part, 0, sizeof(*part));
	part->parent = parent;
	part->depth = parent >= 0 ? (uint16_t)(p->parts[parent].depth + 1) : 0;
	part->header_offset = header_offset;
	if (parent >= 0)
		p->parts[parent].children++;
	p->states[i] = (struct part_state){.header_line = p->line_no};
	return i;
}

struct mime_parser *mime_parser_new(void)
{
	struct mime_parser *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->current = new_part(p, -1, 0);
	if (p->current < 0) {
		free(p);
		return NULL;
	}
	return p;
}

void mime_parser_free(struct mime_parser **parser)
{
	struct mime_parser *p = *parser;
	if (p == NULL)
		return;
	free(p->parts);
	free(p->states);
	free(p->text);
	free(p);
	*parser = NULL;
}

/* Keeps a header value; nothing when the message's share is spent. */
static void keep_value(struct mime_parser *p, struct mime_part *part, enum mime_field f,
                       const char *value, size_t len)
{
	if (part->value_len[f] > 0)
		return; /* the first occurrence counts */
	if (len > MIME_VALUE_MAX)
		len = MIME_VALUE_MAX;
	if (len == 0 || p->text_len + len > TEXT_MAX)
		return;
	if (p->text_len + len > p->text_cap) {
		size_t cap = p->text_cap ? p->text_cap : 1024;
		while (cap < p->text_len + len)
			cap *= 2;
		char *text = realloc(p->text, cap);
		if (text == NULL)
			return;
		p->text = text;
		p->text_cap = cap;
	}
	memcpy(p->text + p->text_len, value, len);
	part->value_offset[f] = (uint32_t)p->text_len;
	part->value_len[f] = (uint16_t)len;
	p->text_len += len;
}

static bool wsp(char c)
{
	return c == ' ' || c == '\t';
}

static void end_field(struct mime_parser *p)
{
	if (!p->field_open)
		return;
	p->field_open = false;
	const char *colon = memchr(p->field, ':', p->field_len);
	if (colon == NULL)
		return;
	size_t name_len = (size_t)(colon - p->field);
	while (name_len > 0 && wsp(p->field[name_len - 1]))
		name_len--;
	const char *value = colon + 1;
	size_t len = p->field_len - (size_t)(value - p->field);
	while (len > 0 && wsp(*value)) {
		value++;
		len--;
	}
	while (len > 0 && wsp(value[len - 1]))
		len--;
	for (int f = 0; f < MIME_FIELD_COUNT; f++)
		if (strlen(field_names[f]) == name_len &&
		    strncasecmp(p->field, field_names[f], name_len) == 0)
			keep_value(p, &p->parts[p->current], (enum mime_field)f, value,
			           len);
}

/* "type/subtype" of a Content-Type value, lower case. */
static void content_type(const char *value, size_t len, struct mime_part *part)
{
	size_t i = 0, t = 0, s = 0;
	while (i < len && value[i] != '/' && value[i] != ';' && !wsp(value[i])) {
		if (t + 1 < sizeof(part->type))
			part->type[t++] =
			    (char)(value[i] |
			           (value[i] >= 'A' && value[i] <= 'Z' ? 0x20 : 0));
		i++;
	}
	while (i < len && wsp(value[i]))
		i++;
	if (i < len && value[i] == '/') {
		i++;
		while (i < len && wsp(value[i]))
			i++;
		while (i < len && value[i] != ';' && !wsp(value[i]) && value[i] != '(') {
			if (s + 1 < sizeof(part->subtype))
				part->subtype[s++] =
				    (char)(value[i] |
				           (value[i] >= 'A' && value[i] <= 'Z' ? 0x20
				                                               : 0));
			i++;
		}
	}
	part->type[t] = part->subtype[s] = '\0';
}

static void set_type(struct mime_part *part, const char *type, const char *subtype)
{
	memcpy(part->type, type, strlen(type) + 1);
	memcpy(part->subtype, subtype, strlen(subtype) + 1);
}

/* The blank line after a part's header: what the part is decides what
 * its body holds. body_offset: where the body starts. */
static void end_header(struct mime_parser *p, uint64_t body_offset)
{
	end_field(p);
	int32_t i = p->current;
	struct mime_part *part = &p->parts[i];
	p->states[i].in_body = true;
	p->states[i].body_line = p->line_no;
	part->body_offset = body_offset;
	part->header_lines = p->line_no - p->states[i].header_line;
	size_t len;
	const char *ct = mime_part_value(p, part, MIME_CONTENT_TYPE, &len);
	if (ct)
		content_type(ct, len, part);
	if (part->type[0] == '\0' || part->subtype[0] == '\0') {
		const struct mime_part *parent =
		    part->parent >= 0 ? &p->parts[part->parent] : NULL;
		if (parent && strcmp(parent->type, "multipart") == 0 &&
		    strcmp(parent->subtype, "digest") == 0)
			set_type(part, "message", "rfc822");
		else
			set_type(part, "text", "plain");
	}
	bool deeper = part->depth + 1 < MIME_DEPTH_MAX;
	if (strcmp(part->type, "multipart") == 0) {
		char boundary[MIME_BOUNDARY_MAX + 1] = "", name[16];
		size_t cursor = 0;
		while (ct && mime_param_next(ct, len, &cursor, name, sizeof(name),
		                             boundary, sizeof(boundary)))
			if (strcmp(name, "boundary") == 0)
				break;
		size_t blen = strlen(boundary);
		if (blen == 0 || blen >= MIME_BOUNDARY_MAX || !deeper) {
			/* No way to find its parts: a plain body. */
			p->truncated |= !deeper;
			set_type(part, "text", "plain");
			return;
		}
		part->kind = MIME_MULTIPART;
		struct boundary *b = &p->bounds[p->nbounds++];
		memcpy(b->text, boundary, blen);
		b->len = blen;
		b->part = i;
		return;
	}
	if (strcmp(part->type, "message") == 0 &&
	    (strcmp(part->subtype, "rfc822") == 0 ||
	     strcmp(part->subtype, "global") == 0)) {
		const char *cte =
		    mime_part_value(p, part, MIME_CONTENT_TRANSFER_ENCODING, &len);
		bool encoded =
		    cte && ((len == 6 && strncasecmp(cte, "base64", 6) == 0) ||
		            (len == 16 && strncasecmp(cte, "quoted-printable", 16) == 0));
		if (encoded || !deeper) {
			p->truncated |= !deeper;
			return;
		}
		int32_t child = new_part(p, i, body_offset);
		if (child < 0)
			return;
		p->parts[i].kind = MIME_MESSAGE;
		p->current = child;
	}
}

/* Ends part i's body at end (the line number count at the end given by
 * lines_at_end, and whether the last line before it had octets). */
static void end_part(struct mime_parser *p, int32_t i, uint64_t end,
                     uint64_t lines_at_end, bool partial_line)
{
	struct mime_part *part = &p->parts[i];
	struct part_state *st = &p->states[i];
	if (!st->in_body) {
		/* A header without a blank line: all header, no body. */
		if (p->current == i)
			end_field(p);
		part->header_lines =
		    lines_at_end >= st->header_line
		        ? lines_at_end - st->header_line + (partial_line ? 1 : 0)
		        : 0;
		part->body_offset = end > part->header_offset ? end : part->header_offset;
		st->body_line = lines_at_end;
		st->in_body = true;
		if (part->type[0] == '\0')
			set_type(part, "text", "plain");
	}
	/* A blank line right before a delimiter: its line end is the
	 * delimiter's, and the body is empty (and so is a message part's
	 * message, which would start after it). */
	if (part->header_offset > end)
		part->header_offset = end;
	if (part->body_offset > end)
		part->body_offset = end;
	part->end_offset = end > part->body_offset ? end : part->body_offset;
	part->body_lines =
	    part->end_offset > part->body_offset && lines_at_end >= st->body_line
	        ? lines_at_end - st->body_line + (partial_line ? 1 : 0)
	        : 0;
}

/* Is the line a delimiter of an open multipart? Returns its stack level
 * (innermost first), or -1; *close for "--boundary--". */
static int delimiter(const struct mime_parser *p, const char *line, size_t len,
                     bool *close)
{
	if (len < 3 || line[0] != '-' || line[1] != '-')
		return -1;
	for (int k = (int)p->nbounds - 1; k >= 0; k--) {
		const struct boundary *b = &p->bounds[k];
		if (len < 2 + b->len || memcmp(line + 2, b->text, b->len) != 0)
			continue;
		size_t rest = 2 + b->len;
		*close = len >= rest + 2 && line[rest] == '-' && line[rest + 1] == '-';
		if (*close)
			rest += 2;
		while (rest < len && wsp(line[rest]))
			rest++;
		if (rest == len)
			return k;
	}
	return -1;
}

/* A complete line: content (kept octets), its full length, its end. */
static void line_done(struct mime_parser *p, uint64_t next_line_start)
{
	const char *line = p->line;
	size_t kept = p->line_kept;
	struct part_state *st = &p->states[p->current];
	bool close = false;
	int k = p->line_len <= LINE_KEEP ? delimiter(p, line, kept, &close) : -1;
	if (k >= 0 && !close && p->count >= MIME_PARTS_MAX) {
		p->truncated = true; /* no more parts: the line is body */
		k = -1;
	}
	if (k >= 0) {
		/* The line end before the delimiter belongs to it: the line
		 * before is a body's last, unended. */
		uint64_t end =
		    p->line_start >= p->prev_eol ? p->line_start - p->prev_eol : 0;
		uint64_t lines = p->line_no >= 2 ? p->line_no - 2 : 0;
		bool partial = p->prev_len > 0;
		int32_t multipart = p->bounds[k].part;
		for (int32_t i = p->current; i != multipart && i >= 0;
		     i = p->parts[i].parent)
			end_part(p, i, end, lines, partial);
		p->nbounds = (unsigned)k + (close ? 0 : 1);
		p->current = multipart;
		if (!close) {
			int32_t child = new_part(p, multipart, next_line_start);
			if (child >= 0)
				p->current = child;
		}
	} else if (!st->in_body) {
		if (p->line_len == 0)
			end_header(p,
			           next_line_start); /* the blank line is the header's */
		else if (wsp(line[0])) {
			/* a folded line: the field goes on */
			size_t n = kept;
			if (p->field_open && p->field_len + n > sizeof(p->field))
				n = sizeof(p->field) - p->field_len;
			if (p->field_open) {
				memcpy(p->field + p->field_len, line, n);
				p->field_len += n;
			}
		} else {
			end_field(p);
			size_t n = kept < sizeof(p->field) ? kept : sizeof(p->field);
			memcpy(p->field, line, n);
			p->field_len = n;
			p->field_open = true;
		}
	}
}

void mime_parser_feed(struct mime_parser *p, const char *data, size_t len)
{
	while (len > 0 && !p->finished) {
		const char *lf = memchr(data, '\n', len);
		size_t take = lf ? (size_t)(lf - data) + 1 : len;
		size_t content = lf ? take - 1 : take;
		if (p->line_kept < LINE_KEEP) {
			size_t n = content < LINE_KEEP - p->line_kept
			               ? content
			               : LINE_KEEP - p->line_kept;
			memcpy(p->line + p->line_kept, data, n);
			p->line_kept += n;
		}
		p->line_len += content;
		if (content > 0)
			p->line_last = data[content - 1];
		p->pos += take;
		if (lf) {
			unsigned eol = 1;
			/* CR LF: the CR is the line end's, not the line's */
			if (p->line_len > 0 && p->line_last == '\r') {
				p->line_len--;
				if (p->line_kept > p->line_len)
					p->line_kept = (size_t)p->line_len;
				eol = 2;
			}
			p->line_no++;
			line_done(p, p->pos);
			p->prev_len = p->line_len;
			p->prev_eol = eol;
			p->line_start = p->pos;
			p->line_kept = 0;
			p->line_len = 0;
			p->line_last = '\0';
		}
		data += take;
		len -= take;
	}
}

void mime_parser_finish(struct mime_parser *p)
{
	if (p->finished)
		return;
	bool partial = p->line_len > 0;
	if (partial) {
		/* A last line without its line end: a header line, or often
		 * the closing delimiter. */
		p->line_no++;
		line_done(p, p->pos);
		p->line_no--;
	}
	for (int32_t i = p->current; i >= 0; i = p->parts[i].parent)
		end_part(p, i, p->pos, p->line_no, partial);
	p->finished = true;
}

size_t mime_part_count(const struct mime_parser *p)
{
	return p->count;
}

const struct mime_part *mime_part_get(const struct mime_parser *p, size_t index)
{
	return index < p->count ? &p->parts[index] : NULL;
}

const char *mime_part_value(const struct mime_parser *p, const struct mime_part *part,
                            enum mime_field field, size_t *len_r)
{
	*len_r = part->value_len[field];
	return *len_r ? p->text + part->value_offset[field] : NULL;
}

bool mime_parser_truncated(const struct mime_parser *p)
{
	return p->truncated;
}

static void put(char *out, size_t size, size_t *n, char c)
{
	if (*n + 1 < size)
		out[(*n)++] = c;
}

bool mime_param_next(const char *v, size_t len, size_t *cursor, char *name,
                     size_t name_size, char *out, size_t out_size)
{
	size_t i = *cursor;
	for (;;) {
		/* to the next ";" outside quotes */
		bool quoted = false;
		while (i < len && (quoted || v[i] != ';')) {
			if (v[i] == '"')
				quoted = !quoted;
			else if (v[i] == '\\' && quoted && i + 1 < len)
				i++;
			i++;
		}
		if (i >= len) {
			*cursor = len;
			return false;
		}
		i++; /* the ";" */
		while (i < len && wsp(v[i]))
			i++;
		size_t n = 0;
		while (i < len && v[i] != '=' && v[i] != ';' && !wsp(v[i])) {
			char c = v[i++];
			put(name, name_size, &n,
			    (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
		}
		if (name_size)
			name[n] = '\0';
		while (i < len && wsp(v[i]))
			i++;
		if (n == 0 || i >= len || v[i] != '=')
			continue; /* not a parameter: the next one */
		i++;
		while (i < len && wsp(v[i]))
			i++;
		size_t m = 0;
		if (i < len && v[i] == '"') {
			for (i++; i < len && v[i] != '"'; i++) {
				if (v[i] == '\\' && i + 1 < len)
					i++;
				put(out, out_size, &m, v[i]);
			}
			if (i < len)
				i++;
		} else {
			while (i < len && v[i] != ';' && !wsp(v[i]))
				put(out, out_size, &m, v[i++]);
		}
		if (out_size)
			out[m] = '\0';
		*cursor = i;
		return true;
	}
}
