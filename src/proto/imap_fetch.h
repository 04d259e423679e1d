/*
 * imap_fetch.h — FETCH data items (RFC 9051 6.4.5, RFC 3501 6.4.5,
 * BINARY of RFC 3516, MODSEQ of RFC 7162) from the parsed arguments:
 * the macros ALL, FAST and FULL expanded, BODY[section]<partial> taken
 * apart. Pure; field names point into the parsed command.
 *
 * The IMAP parser splits BODY[HEADER.FIELDS (From To)]<0.10> at its
 * parentheses (an atom, a list, an atom); this puts it back together.
 */
#ifndef PETREL_IMAP_FETCH_H
#define PETREL_IMAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/imap_parser.h"

#define IMAP_FETCH_ITEMS_MAX   32
#define IMAP_SECTION_PARTS_MAX 100 /* as deep as MIME nests (proto/mime.h) */
#define IMAP_HEADER_FIELDS_MAX 64

enum imap_fetch_type {
	IMAP_FETCH_UID,
	IMAP_FETCH_FLAGS,
	IMAP_FETCH_INTERNALDATE,
	IMAP_FETCH_RFC822_SIZE,
	IMAP_FETCH_ENVELOPE,
	IMAP_FETCH_BODY, /* BODY alone: the structure without extensions */
	IMAP_FETCH_BODYSTRUCTURE,
	IMAP_FETCH_MODSEQ,
	IMAP_FETCH_SECTION,     /* BODY[...] and BODY.PEEK[...], RFC822.* */
	IMAP_FETCH_BINARY,      /* BINARY[...] and BINARY.PEEK[...] */
	IMAP_FETCH_BINARY_SIZE, /* BINARY.SIZE[...] */
};

enum imap_section_text {
	IMAP_SECTION_ALL, /* [] or [1.2]: the whole message or part */
	IMAP_SECTION_HEADER,
	IMAP_SECTION_HEADER_FIELDS,
	IMAP_SECTION_HEADER_FIELDS_NOT,
	IMAP_SECTION_TEXT,
	IMAP_SECTION_MIME,
};

struct imap_fetch_item {
	enum imap_fetch_type type;
	bool peek;        /* .PEEK: \Seen is not set */
	const char *name; /* how the reply names it: "RFC822.HEADER", "BODY" ... */
	uint32_t part[IMAP_SECTION_PARTS_MAX];
	size_t part_count; /* 0: the message itself */
	enum imap_section_text text;
	const char *fields[IMAP_HEADER_FIELDS_MAX];
	size_t field_count;
	bool partial;
	uint64_t offset, length; /* <offset.length> */
};

struct imap_fetch {
	struct imap_fetch_item *items;
	size_t count;
	bool sets_seen;              /* a non-PEEK body section (or RFC822/RFC822.TEXT) */
	const struct imap_arg *rest; /* the argument after the items (modifiers) */
};

/* Items from the FETCH command's item argument (an atom or a list). 0,
 * or -1 with *error_r. Free with imap_fetch_free even after an error. */
int imap_fetch_parse(const struct imap_arg *arg, struct imap_fetch *out,
                     const char **error_r);
void imap_fetch_free(struct imap_fetch *fetch);

#endif
