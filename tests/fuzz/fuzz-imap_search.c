/*
 * fuzz-imap_search.c — libFuzzer target: a command line through the IMAP
 * parser, its arguments through the SEARCH parser. Whatever comes in:
 * the tree is well formed (OR has two operands, NOT one, AND at least
 * one), no deeper than IMAP_SEARCH_DEPTH_MAX and no larger than the
 * nodes it was given, and strings a key needs are there.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const struct imap_search_key *k, unsigned depth)
{
	if (depth > IMAP_SEARCH_DEPTH_MAX + 2)
		abort();
	size_t operands = 0, nodes = 1;
	for (const struct imap_search_key *c = k->child; c; c = c->next) {
		operands++;
		nodes += walk(c, depth + 1);
	}
	switch (k->type) {
	case IMAP_SEARCH_OR:
		if (operands != 2)
			abort();
		break;
	case IMAP_SEARCH_NOT:
		if (operands != 1)
			abort();
		break;
	case IMAP_SEARCH_AND:
		if (operands < 1)
			abort();
		break;
	case IMAP_SEARCH_HEADER:
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_TEXT:
	case IMAP_SEARCH_SEQSET:
	case IMAP_SEARCH_UIDSET:
		if (k->str == NULL || operands != 0)
			abort();
		break;
	default:
		if (operands != 0)
			abort();
	}
	return nodes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser *p = imap_parser_new(
	    &(struct imap_parser_limits){.line_max = 8192, .literal_max = 256});
	size_t used;
	if (imap_parser_feed(p, (const char *)data, size, &used) == IMAP_PARSE_DONE) {
		struct imap_search s;
		const char *error;
		if (imap_search_parse(imap_parser_args(p), &s, &error) == 0) {
			if (walk(s.root, 0) != s.count)
				abort();
		} else if (error == NULL || error[0] == '\0') {
			abort();
		}
		imap_search_free(&s);
	}
	imap_parser_free(&p);
	return 0;
}
