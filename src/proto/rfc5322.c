/*
 * rfc5322.c — header section parser (see rfc5322.h).
 */
#include "proto/rfc5322.h"

#include <string.h>

enum line_kind { LINE_FIELD, LINE_CONTINUATION, LINE_EMPTY, LINE_BODY, LINE_UNDECIDED };

static bool name_char(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

bool rfc5322_name_valid(const char *name, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char((unsigned char)name[i]))
			return false;
	return true;
}

/* What line[0..avail) is, as far as can be told; complete: the whole
 * line is there (its LF included, or the message ended). A line still
 * undecided after `budget` octets (a "name" longer than the section may
 * be) starts the body: the answer must not depend on how much of the
 * line has arrived. */
static enum line_kind classify(const char *line, size_t avail, bool complete,
                               bool in_field, size_t budget)
{
	if (avail > budget) {
		avail = budget;
		complete = true;
	}
	if (avail == 0)
		return complete ? LINE_EMPTY : LINE_UNDECIDED;
	if (line[0] == '\n')
		return LINE_EMPTY;
	if (line[0] == '\r') {
		if (avail < 2)
			return complete ? LINE_BODY : LINE_UNDECIDED;
		return line[1] == '\n' ? LINE_EMPTY : LINE_BODY;
	}
	if (line[0] == ' ' || line[0] == '\t')
		return in_field ? LINE_CONTINUATION : LINE_BODY;
	size_t i = 0;
	while (i < avail && name_char((unsigned char)line[i]))
		i++;
	/* RFC 5322 4.5.2 (obsolete syntax): blanks before the colon. */
	size_t name_end = i;
	while (i < avail && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < avail)
		return line[i] == ':' && name_end > 0 ? LINE_FIELD : LINE_BODY;
	return complete ? LINE_BODY : LINE_UNDECIDED;
}

void rfc5322_scan_init(struct rfc5322_scan *scan, size_t size_max, unsigned count_max)
{
	memset(scan, 0, sizeof(*scan));
	scan->size_max = size_max;
	scan->count_max = count_max;
}

/* One pass over the lines not yet examined; at_end: data is the whole
 * message. */
static int scan_lines(struct rfc5322_scan *scan, const char *data, size_t len,
                      bool at_end, size_t *end_r, const char **error_r)
{
	for (;;) {
		size_t p = scan->pos;
		const char *lf = p < len ? memchr(data + p, '\n', len - p) : NULL;
		size_t line_end = lf ? (size_t)(lf - data) + 1 : len;
		bool complete = lf != NULL || at_end;
		size_t budget = scan->size_max > p ? scan->size_max - p : 0;
		enum line_kind kind =
		    classify(data + p, line_end - p, complete, scan->in_field, budget);
		if (kind == LINE_EMPTY || kind == LINE_BODY) {
			*end_r = p;
			return 1;
		}
		if (kind == LINE_UNDECIDED || !complete)
			break;
		if (kind == LINE_FIELD && ++scan->fields > scan->count_max) {
			*error_r = "too many header fields";
			return -1;
		}
		scan->in_field = true;
		scan->pos = line_end;
		if (line_end > scan->size_max) {
			*error_r = "header section too large";
			return -1;
		}
		if (line_end == len) {
			if (at_end) {
				*end_r = len;
				return 1;
			}
			break;
		}
	}
	if (len > scan->size_max) {
		*error_r = "header section too large";
		return -1;
	}
	return 0;
}

int rfc5322_scan(struct rfc5322_scan *scan, const char *data, size_t len, size_t *end_r,
                 const char **error_r)
{
	return scan_lines(scan, data, len, false, end_r, error_r);
}

int rfc5322_scan_finish(struct rfc5322_scan *scan, const char *data, size_t len,
                        size_t *end_r, const char **error_r)
{
	return scan_lines(scan, data, len, true, end_r, error_r);
}

int rfc5322_next_field(const char *section, size_t len, size_t *pos,
                       struct rfc5322_field *field)
{
	size_t p = *pos;
	if (p >= len)
		return 0;
	const char *line = section + p;
	size_t avail = len - p;
	const char *lf = memchr(line, '\n', avail);
	size_t first = lf ? (size_t)(lf - line) + 1 : avail;
	if (classify(line, first, true, false, first) != LINE_FIELD)
		return 0;
	size_t name_len = 0;
	while (name_char((unsigned char)line[name_len]))
		name_len++;
	const char *colon = memchr(line, ':', first);
	/* The field goes on over folded lines. */
	size_t end = first;
	while (end < avail && (line[end] == ' ' || line[end] == '\t')) {
		const char *next = memchr(line + end, '\n', avail - end);
		end = next ? (size_t)(next - line) + 1 : avail;
	}
	size_t value_end = end;
	if (value_end > 0 && line[value_end - 1] == '\n') {
		value_end--;
		if (value_end > 0 && line[value_end - 1] == '\r')
			value_end--;
	}
	field->name = line;
	field->name_len = name_len;
	field->value = colon + 1;
	field->value_len = (size_t)(line + value_end - (colon + 1));
	field->raw = line;
	field->raw_len = end;
	*pos = p + end;
	return 1;
}
