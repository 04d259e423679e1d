/*
 * imap_search.h — IMAP SEARCH criteria (RFC 9051 6.4.4, RFC 3501 6.4.4,
 * MODSEQ of RFC 7162) from the parsed arguments into a tree of keys,
 * ready to be evaluated against a mailbox.
 *
 * Keys side by side are ANDed (an IMAP_SEARCH_AND node); OR takes two
 * keys, NOT one; a parenthesised list is an AND. Bounded: nesting deeper
 * than IMAP_SEARCH_DEPTH_MAX (say, thousands of nested ORs) is refused,
 * not recursed into. Strings point into the parsed command: the tree is
 * valid as long as its arguments are.
 */
#ifndef PETREL_IMAP_SEARCH_H
#define PETREL_IMAP_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/imap_parser.h"

#define IMAP_SEARCH_DEPTH_MAX 64

enum imap_search_type {
	IMAP_SEARCH_AND, /* children: every one matches */
	IMAP_SEARCH_OR,  /* two children */
	IMAP_SEARCH_NOT, /* one child */
	IMAP_SEARCH_ALL,
	IMAP_SEARCH_FLAG,   /* str: "\Seen", "\Answered", ... or a keyword */
	IMAP_SEARCH_UNFLAG, /* str: without that flag */
	IMAP_SEARCH_NEW,    /* \Recent and not \Seen */
	IMAP_SEARCH_OLD,    /* not \Recent */
	IMAP_SEARCH_HEADER, /* field (NULL for the kinds below), str */
	IMAP_SEARCH_BODY,   /* str in the body */
	IMAP_SEARCH_TEXT,   /* str in the header or the body */
	IMAP_SEARCH_BEFORE, /* internal date; day: days since 1970-01-01 */
	IMAP_SEARCH_ON,
	IMAP_SEARCH_SINCE,
	IMAP_SEARCH_SENTBEFORE, /* the Date: header */
	IMAP_SEARCH_SENTON,
	IMAP_SEARCH_SENTSINCE,
	IMAP_SEARCH_LARGER, /* number: RFC822.SIZE */
	IMAP_SEARCH_SMALLER,
	IMAP_SEARCH_SEQSET, /* str: a sequence set of sequence numbers */
	IMAP_SEARCH_UIDSET, /* str: a sequence set of UIDs */
	IMAP_SEARCH_MODSEQ, /* number: mod-sequence at least this */
	IMAP_SEARCH_SAVED,  /* "$": the result SEARCHRES saved */
};

struct imap_search_key {
	enum imap_search_type type;
	const char *field; /* IMAP_SEARCH_HEADER: the field's name */
	const char *str;
	uint64_t number;
	int32_t day;
	struct imap_search_key *child; /* AND, OR, NOT: the first operand */
	struct imap_search_key *next;  /* the next operand of the parent */
};

struct imap_search {
	struct imap_search_key *root; /* an AND of the keys given */
	struct imap_search_key *keys; /* every node (freed together) */
	size_t count;
};

/* Keys from args (after any CHARSET the command took); 0, or -1 with
 * *error_r. Free with imap_search_free even after an error. */
int imap_search_parse(const struct imap_arg *args, struct imap_search *out,
                      const char **error_r);
void imap_search_free(struct imap_search *search);

/* "1-Feb-1994" (RFC 3501 date) to days since 1970-01-01; -1 if bad. */
int imap_date_parse(const char *text, int32_t *day);

/* "17-Jul-1996 02:44:25 -0700" (date-time of RFC 9051 9, the day
 * space-padded or two digits) to seconds since the epoch; -1 if bad. */
int imap_datetime_parse(const char *text, int64_t *seconds_r);

#endif
