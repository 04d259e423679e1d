/*
 * imap_bodystructure.c — BODY and BODYSTRUCTURE (see
 * imap_bodystructure.h).
 */
#include "proto/imap_bodystructure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A nested message's header is read up to this much for its ENVELOPE. */
#define NESTED_HEADER_MAX (256 * 1024)

struct writing {
	const struct imap_writer *w;
	const struct mime_parser *mime;
	bool extended;
	imap_read_fn *read;
	void *ctx;
	size_t *end; /* end[i]: the first part after part i's subtree */
};

static void put(const struct imap_writer *w, const char *s)
{
	imap_write_raw(w, s, strlen(s));
}

static void put_value(const struct writing *wr, const struct mime_part *part,
                      enum mime_field field)
{
	size_t len;
	const char *v = mime_part_value(wr->mime, part, field, &len);
	imap_write_nstring(wr->w, v, len);
}

/* ("name" "value" ...) of a Content-Type or Disposition value, or NIL. */
static void put_params(const struct writing *wr, const char *value, size_t len,
                       bool default_charset)
{
	char name[128], out[MIME_VALUE_MAX + 1];
	size_t cursor = 0, count = 0;
	while (value && mime_param_next(value, len, &cursor, name, sizeof(name), out,
	                                sizeof(out))) {
		put(wr->w, count++ ? " " : "(");
		imap_write_nstring(wr->w, name, strlen(name));
		put(wr->w, " ");
		imap_write_nstring(wr->w, out, strlen(out));
	}
	if (count)
		put(wr->w, ")");
	else
		put(wr->w, default_charset ? "(\"charset\" \"us-ascii\")" : "NIL");
}

/* The first word of a value ("attachment"; "text"), up to ";" or space. */
static size_t first_word(const char *v, size_t len)
{
	size_t n = 0;
	while (n < len && v[n] != ';' && v[n] != ' ' && v[n] != '\t')
		n++;
	return n;
}

/* body-ext-1part / body-ext-mpart after the md5 or params: disposition,
 * language, location. */
static void put_extension_tail(const struct writing *wr, const struct mime_part *part)
{
	size_t len;
	const char *disp =
	    mime_part_value(wr->mime, part, MIME_CONTENT_DISPOSITION, &len);
	put(wr->w, " ");
	if (disp && first_word(disp, len) > 0) {
		put(wr->w, "(");
		imap_write_nstring(wr->w, disp, first_word(disp, len));
		put(wr->w, " ");
		put_params(wr, disp, len, false);
		put(wr->w, ")");
	} else {
		put(wr->w, "NIL");
	}
	/* language: one tag as a string, several as a list */
	const char *lang = mime_part_value(wr->mime, part, MIME_CONTENT_LANGUAGE, &len);
	put(wr->w, " ");
	if (lang == NULL) {
		put(wr->w, "NIL");
	} else {
		size_t tags = 0;
		char tag[MIME_VALUE_MAX + 1];
		size_t start = 0;
		bool list = memchr(lang, ',', len) != NULL;
		if (list)
			put(wr->w, "(");
		for (size_t i = 0; i <= len; i++) {
			if (i < len && lang[i] != ',')
				continue;
			size_t n = 0;
			for (size_t k = start; k < i; k++)
				if (lang[k] != ' ' && lang[k] != '\t')
					tag[n++] = lang[k];
			start = i + 1;
			if (n == 0 && list)
				continue;
			if (tags++ && list)
				put(wr->w, " ");
			imap_write_nstring(wr->w, tag, n);
		}
		if (list)
			put(wr->w, tags ? ")" : "NIL)");
	}
	put(wr->w, " ");
	put_value(wr, part, MIME_CONTENT_LOCATION);
}

static void put_part(const struct writing *wr, size_t i);

/* The ENVELOPE of the message that part i holds (its header read). */
static void put_nested_envelope(const struct writing *wr, const struct mime_part *msg)
{
	size_t len = (size_t)(msg->body_offset - msg->header_offset);
	if (len > NESTED_HEADER_MAX)
		len = NESTED_HEADER_MAX;
	char *header = malloc(len + 1);
	size_t got = header ? wr->read(wr->ctx, msg->header_offset, header, len) : 0;
	imap_write_envelope(wr->w, header ? header : "", got);
	free(header);
}

static void put_single(const struct writing *wr, size_t i)
{
	const struct mime_part *part = mime_part_get(wr->mime, i);
	bool multipart_without_parts = part->kind == MIME_MULTIPART;
	size_t len;
	const char *ct = mime_part_value(wr->mime, part, MIME_CONTENT_TYPE, &len);
	put(wr->w, "(");
	if (multipart_without_parts) {
		put(wr->w, "\"text\" \"plain\" ");
		ct = NULL;
	} else {
		imap_write_nstring(wr->w, part->type, strlen(part->type));
		put(wr->w, " ");
		imap_write_nstring(wr->w, part->subtype, strlen(part->subtype));
		put(wr->w, " ");
	}
	bool text = multipart_without_parts || strcmp(part->type, "text") == 0;
	put_params(wr, ct, ct ? len : 0, text && ct == NULL);
	put(wr->w, " ");
	put_value(wr, part, MIME_CONTENT_ID);
	put(wr->w, " ");
	put_value(wr, part, MIME_CONTENT_DESCRIPTION);
	put(wr->w, " ");
	const char *cte =
	    mime_part_value(wr->mime, part, MIME_CONTENT_TRANSFER_ENCODING, &len);
	if (cte)
		imap_write_nstring(wr->w, cte, first_word(cte, len));
	else
		put(wr->w, "\"7bit\"");
	char number[48];
	snprintf(number, sizeof(number), " %llu",
	         (unsigned long long)(part->end_offset - part->body_offset));
	put(wr->w, number);
	if (part->kind == MIME_MESSAGE && i + 1 < mime_part_count(wr->mime)) {
		const struct mime_part *msg = mime_part_get(wr->mime, i + 1);
		put(wr->w, " ");
		put_nested_envelope(wr, msg);
		put(wr->w, " ");
		put_part(wr, i + 1);
	}
	if (text || part->kind == MIME_MESSAGE) {
		snprintf(number, sizeof(number), " %llu",
		         (unsigned long long)part->body_lines);
		put(wr->w, number);
	}
	if (wr->extended) {
		put(wr->w, " ");
		put_value(wr, part, MIME_CONTENT_MD5);
		put_extension_tail(wr, part);
	}
	put(wr->w, ")");
}

static void put_part(const struct writing *wr, size_t i)
{
	const struct mime_part *part = mime_part_get(wr->mime, i);
	if (part->kind != MIME_MULTIPART || part->children == 0) {
		put_single(wr, i);
		return;
	}
	put(wr->w, "(");
	for (size_t j = i + 1; j < wr->end[i]; j = wr->end[j])
		put_part(wr, j);
	put(wr->w, " ");
	imap_write_nstring(wr->w, part->subtype, strlen(part->subtype));
	if (wr->extended) {
		size_t len;
		const char *ct = mime_part_value(wr->mime, part, MIME_CONTENT_TYPE, &len);
		put(wr->w, " ");
		put_params(wr, ct, ct ? len : 0, false);
		put_extension_tail(wr, part);
	}
	put(wr->w, ")");
}

void imap_write_bodystructure(const struct imap_writer *w, const struct mime_parser *mime,
                              bool extended, imap_read_fn *read, void *ctx)
{
	size_t count = mime_part_count(mime);
	struct writing wr = {w,    mime, extended,
	                     read, ctx,  calloc(count + 1, sizeof(size_t))};
	if (wr.end == NULL || count == 0) {
		put(w, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
		       "0 0)");
		free(wr.end);
		return;
	}
	/* end[i]: parts come in document order, so a subtree is a run of
	 * deeper parts; a stack of open ancestors finds each run's end. */
	size_t *stack = malloc((MIME_DEPTH_MAX + 1) * sizeof(*stack));
	size_t depth = 0;
	for (size_t i = 0; stack && i < count; i++) {
		const struct mime_part *p = mime_part_get(mime, i);
		while (depth > 0 &&
		       mime_part_get(mime, stack[depth - 1])->depth >= p->depth)
			wr.end[stack[--depth]] = i;
		if (depth <= MIME_DEPTH_MAX)
			stack[depth++] = i;
	}
	while (stack && depth > 0)
		wr.end[stack[--depth]] = count;
	if (stack)
		put_part(&wr, 0);
	else
		put(w, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
		       "0 0)");
	free(stack);
	free(wr.end);
}
