/*
 * dovecot_uidlist.c — Dovecot's dovecot-uidlist (see dovecot_uidlist.h).
 */
#include "proto/dovecot_uidlist.h"

#include <string.h>

/* A decimal number at *i, at most max; false if none or too big. */
static bool number(const char *s, size_t len, size_t *i, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t start = *i;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (uint64_t)(s[*i] - '0');
		if (v > max)
			return false;
		(*i)++;
	}
	*out = v;
	return *i > start;
}

static void skip_spaces(const char *s, size_t len, size_t *i)
{
	while (*i < len && s[*i] == ' ')
		(*i)++;
}

int dovecot_uidlist_header(const char *line, size_t len,
                           struct dovecot_uidlist_header *out, const char **error_r)
{
	memset(out, 0, sizeof(*out));
	size_t i = 0;
	uint64_t v;
	if (!number(line, len, &i, 10, &v) || (v != 1 && v != 3)) {
		*error_r = "unsupported dovecot-uidlist version";
		return -1;
	}
	out->version = (unsigned)v;
	skip_spaces(line, len, &i);
	if (out->version == 1) {
		uint64_t validity, next;
		if (!number(line, len, &i, UINT32_MAX, &validity)) {
			*error_r = "invalid dovecot-uidlist header";
			return -1;
		}
		skip_spaces(line, len, &i);
		if (!number(line, len, &i, UINT32_MAX, &next)) {
			*error_r = "invalid dovecot-uidlist header";
			return -1;
		}
		out->uidvalidity = (uint32_t)validity;
		out->next_uid = (uint32_t)next;
	} else {
		/* fields: a letter and its value, space-separated */
		while (i < len) {
			char key = line[i++];
			size_t start = i;
			while (i < len && line[i] != ' ')
				i++;
			size_t j = start;
			if (key == 'V' || key == 'N') {
				if (!number(line, i, &j, UINT32_MAX, &v) || j != i) {
					*error_r = "invalid dovecot-uidlist header";
					return -1;
				}
				if (key == 'V')
					out->uidvalidity = (uint32_t)v;
				else
					out->next_uid = (uint32_t)v;
			}
			skip_spaces(line, len, &i);
		}
	}
	if (out->uidvalidity == 0 || out->next_uid == 0) {
		*error_r = "dovecot-uidlist header without UIDVALIDITY or next UID";
		return -1;
	}
	return 0;
}

int dovecot_uidlist_entry(const char *line, size_t len, unsigned version,
                          struct dovecot_uidlist_entry *out, const char **error_r)
{
	memset(out, 0, sizeof(*out));
	size_t i = 0;
	uint64_t v;
	if (!number(line, len, &i, UINT32_MAX, &v) || v == 0 || i >= len ||
	    line[i] != ' ') {
		*error_r = "invalid dovecot-uidlist line";
		return -1;
	}
	out->uid = (uint32_t)v;
	skip_spaces(line, len, &i);
	if (version == 3) {
		/* extension fields up to ":" */
		while (i < len && line[i] != ':') {
			char key = line[i++];
			size_t start = i;
			while (i < len && line[i] != ' ')
				i++;
			size_t j = start;
			if (key == 'W' && number(line, i, &j, UINT64_MAX / 10, &v) &&
			    j == i) {
				out->has_vsize = true;
				out->vsize = v;
			}
			skip_spaces(line, len, &i);
		}
		if (i >= len) {
			*error_r = "dovecot-uidlist line without a file name";
			return -1;
		}
		i++; /* the ":" */
	}
	size_t end = len;
	for (size_t k = i; k + 2 < len; k++)
		if (line[k] == ':' && line[k + 1] == '2' && line[k + 2] == ',') {
			end = k;
			break;
		}
	if (end == i || memchr(line + i, '/', end - i) ||
	    memchr(line + i, '\0', end - i) || memchr(line + i, ' ', end - i) ||
	    line[i] == '.') {
		*error_r = "invalid file name in dovecot-uidlist";
		return -1;
	}
	out->name = line + i;
	out->name_len = end - i;
	return 0;
}

int dovecot_keywords_line(const char *line, size_t len, unsigned *index,
                          const char **name_r, size_t *name_len_r, const char **error_r)
{
	size_t i = 0;
	uint64_t v;
	if (!number(line, len, &i, 25, &v) || i >= len || line[i] != ' ') {
		*error_r = "invalid dovecot-keywords line";
		return -1;
	}
	i++;
	if (i == len) {
		*error_r = "invalid dovecot-keywords line";
		return -1;
	}
	for (size_t k = i; k < len; k++) {
		unsigned char c = (unsigned char)line[k];
		if (c <= ' ' || c >= 0x7f || strchr("(){\"%*\\]", c)) {
			*error_r = "a keyword that is not an IMAP atom";
			return -1;
		}
	}
	*index = (unsigned)v;
	*name_r = line + i;
	*name_len_r = len - i;
	return 0;
}
