/*
 * fuzz-imap_fetch.c — libFuzzer target: a command line through the IMAP
 * parser, its second argument on through the FETCH item parser. Whatever
 * comes in: counts stay within their bounds, header lists belong only to
 * HEADER.FIELDS sections, a partial has a length, and the rest pointer
 * is one of the command's arguments or NULL.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/imap_fetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser *p = imap_parser_new(
	    &(struct imap_parser_limits){.line_max = 8192, .literal_max = 256});
	size_t used;
	if (imap_parser_feed(p, (const char *)data, size, &used) == IMAP_PARSE_DONE &&
	    imap_parser_args(p)) {
		struct imap_fetch f = {0};
		const char *error;
		const struct imap_arg *items = imap_parser_args(p)->next;
		if (items && imap_fetch_parse(items, &f, &error) == 0) {
			if (f.count == 0 || f.count > IMAP_FETCH_ITEMS_MAX)
				abort();
			for (size_t i = 0; i < f.count; i++) {
				const struct imap_fetch_item *it = &f.items[i];
				if (it->part_count > IMAP_SECTION_PARTS_MAX ||
				    it->field_count > IMAP_HEADER_FIELDS_MAX ||
				    it->name == NULL)
					abort();
				if (it->field_count &&
				    it->text != IMAP_SECTION_HEADER_FIELDS &&
				    it->text != IMAP_SECTION_HEADER_FIELDS_NOT)
					abort();
				if (it->partial && it->length == 0)
					abort();
			}
			bool found = f.rest == NULL;
			for (const struct imap_arg *a = items; a && !found; a = a->next)
				found = a == f.rest;
			if (!found)
				abort();
		}
		imap_fetch_free(&f);
	}
	imap_parser_free(&p);
	return 0;
}
