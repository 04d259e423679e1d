/*
 * smtp_reply.c — SMTP reply parser (see smtp_reply.h).
 */
#include "proto/smtp_reply.h"

#include <string.h>

enum {
	AT_LINE_START, /* expecting the first code digit */
	IN_CODE,       /* 1..2 digits read */
	AFTER_CODE,    /* expecting '-', ' ', CR or LF */
	IN_TEXT,
	AFTER_CR,
};

void smtp_reply_parser_init(struct smtp_reply_parser *parser)
{
	memset(parser, 0, sizeof(*parser));
}

void smtp_reply_parser_reset(struct smtp_reply_parser *parser)
{
	smtp_reply_line_fn *on_line = parser->on_line;
	void *context = parser->context;
	parser->state = 0;
	parser->line_len = 0;
	parser->line_code = 0;
	parser->continued = 0;
	parser->text_len = 0;
	memset(&parser->reply, 0, sizeof(parser->reply));
	parser->on_line = on_line;
	parser->context = context;
}

void smtp_reply_parser_on_line(struct smtp_reply_parser *parser, smtp_reply_line_fn *fn,
                               void *context)
{
	parser->on_line = fn;
	parser->context = context;
}

static void keep_text(struct smtp_reply *reply, char c)
{
	if (reply->text_len + 1 < sizeof(reply->text))
		reply->text[reply->text_len++] = c;
	reply->text[reply->text_len] = '\0';
}

/* RFC 3463: class.subject.detail, e.g. "5.1.1", at the start of the text. */
static void find_enhanced(struct smtp_reply *reply)
{
	const char *t = reply->text;
	size_t i = 0;
	if (!(t[0] >= '2' && t[0] <= '5') || t[1] != '.')
		return;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t digits = 0;
		while (t[i] >= '0' && t[i] <= '9' && digits < 3)
			i++, digits++;
		if (digits == 0 || (part == 0 && t[i] != '.'))
			return;
		if (part == 0)
			i++;
	}
	if (t[i] != '\0' && t[i] != ' ')
		return;
	memcpy(reply->enhanced, t, i);
	reply->enhanced[i] = '\0';
}

/* A line is complete: check it and decide whether the reply is.
 * Returns 1 when the reply ended, 0 to go on, -1 on error. */
static int end_line(struct smtp_reply_parser *p, const char **error_r)
{
	struct smtp_reply *r = &p->reply;
	if (r->lines == 0) {
		r->code = p->line_code;
	} else if (p->line_code != r->code) {
		*error_r = "reply code changes within a multi-line reply";
		return -1;
	}
	if (++r->lines > SMTP_REPLY_LINES_MAX) {
		*error_r = "too many lines in one reply";
		return -1;
	}
	if (p->on_line)
		p->on_line(p->context, r->lines - 1, p->text, p->text_len);
	p->state = AT_LINE_START;
	p->line_len = 0;
	p->text_len = 0;
	if (p->continued)
		return 0;
	find_enhanced(r);
	return 1;
}

int smtp_reply_feed(struct smtp_reply_parser *p, const char *in, size_t len,
                    const char **error_r)
{
	struct smtp_reply *r = &p->reply;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		int ended = 0;
		if (c == '\0') {
			*error_r = "NUL in reply";
			return -1;
		}
		if (++p->line_len > SMTP_REPLY_LINE_MAX) {
			*error_r = "reply line too long";
			return -1;
		}
		switch (p->state) {
		case AT_LINE_START:
			/* A line shorter than a code ("2") fails here or below. */
			if (c < '2' || c > '5') {
				*error_r =
				    "reply line does not start with a code 2xx-5xx";
				return -1;
			}
			p->line_code = c - '0';
			p->state = IN_CODE;
			continue;
		case IN_CODE:
			if (c < '0' || c > (p->line_len == 2 ? '5' : '9')) {
				*error_r = "malformed reply code";
				return -1;
			}
			p->line_code = p->line_code * 10 + (c - '0');
			if (p->line_len == 3)
				p->state = AFTER_CODE;
			continue;
		case AFTER_CODE:
			p->continued = c == '-';
			if (c == '-' || c == ' ') {
				if (r->lines > 0)
					for (const char *sep = " / "; *sep; sep++)
						keep_text(r, *sep);
				p->state = IN_TEXT;
				continue;
			}
			if (c == '\r') {
				p->state = AFTER_CR;
				continue;
			}
			if (c != '\n') {
				*error_r =
				    "reply code not followed by space, '-' or line end";
				return -1;
			}
			ended = end_line(p, error_r);
			break;
		case IN_TEXT:
			if (c == '\r') {
				p->state = AFTER_CR;
				continue;
			}
			if (c != '\n') {
				keep_text(r, c);
				/* Bounded: line_len is checked above. */
				p->text[p->text_len++] = c;
				continue;
			}
			ended = end_line(p, error_r);
			break;
		case AFTER_CR:
			if (c != '\n') {
				*error_r = "bare CR in reply";
				return -1;
			}
			ended = end_line(p, error_r);
			break;
		}
		if (ended < 0)
			return -1;
		if (ended > 0)
			return (int)(i + 1);
	}
	return 0;
}
