/*
 * fuzz-dovecot_uidlist.c — libFuzzer target: a dovecot-uidlist file, a
 * line at a time (header first), each line also read as a dovecot-keywords
 * line. Whatever comes in: UIDs are never 0, names lie inside their line
 * and hold no "/" nor start with ".", keyword numbers stay within 0-25.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/dovecot_uidlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size;
	struct dovecot_uidlist_header h;
	const char *error;
	const char *lf = memchr(text, '\n', size);
	size_t len = (size_t)((lf ? lf : end) - text);
	if (dovecot_uidlist_header(text, len, &h, &error) < 0)
		return 0;
	if (h.version != 1 && h.version != 3)
		abort();
	while (lf) {
		text = lf + 1;
		lf = memchr(text, '\n', (size_t)(end - text));
		len = (size_t)((lf ? lf : end) - text);
		unsigned index;
		const char *keyword;
		size_t keyword_len;
		if (dovecot_keywords_line(text, len, &index, &keyword, &keyword_len,
		                          &error) == 0 &&
		    (index > 25 || keyword_len == 0 ||
		     keyword + keyword_len != text + len))
			abort();
		struct dovecot_uidlist_entry e;
		if (dovecot_uidlist_entry(text, len, h.version, &e, &error) < 0)
			continue;
		if (e.uid == 0 || e.name < text || e.name + e.name_len > text + len ||
		    e.name_len == 0 || memchr(e.name, '/', e.name_len) ||
		    e.name[0] == '.')
			abort();
	}
	return 0;
}
