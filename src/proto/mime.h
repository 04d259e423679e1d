/*
 * mime.h — the MIME structure of a message (RFC 2045, 2046), read as a
 * stream: where each part's header and body are, what it is, and how
 * many octets and lines its body has — what IMAP's BODYSTRUCTURE and
 * BODY[section] need, without holding the message.
 *
 * Pure and resumable: the caller feeds the message in pieces of any
 * size; only part records and a few header values are kept. Bounded:
 * at most MIME_PARTS_MAX parts and MIME_DEPTH_MAX levels (multiparts and
 * message/rfc822 both nest); what lies beyond is body of the last part
 * read, as Dovecot does. Header values kept are cut at MIME_VALUE_MAX.
 */
#ifndef PETREL_MIME_H
#define PETREL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIME_PARTS_MAX    10000
#define MIME_DEPTH_MAX    100
#define MIME_VALUE_MAX    1024 /* octets of one kept header value */
#define MIME_BOUNDARY_MAX 200  /* RFC 2046 says 70; some mailers use more */

/* The header fields a part's structure needs (IMAP body-fields). */
enum mime_field {
	MIME_CONTENT_TYPE,
	MIME_CONTENT_TRANSFER_ENCODING,
	MIME_CONTENT_ID,
	MIME_CONTENT_DESCRIPTION,
	MIME_CONTENT_DISPOSITION,
	MIME_CONTENT_LANGUAGE,
	MIME_CONTENT_LOCATION,
	MIME_CONTENT_MD5,
	MIME_FIELD_COUNT,
};

enum mime_kind {
	MIME_LEAF,      /* any single part: text, image, application... */
	MIME_MULTIPART, /* children are its parts */
	MIME_MESSAGE,   /* message/rfc822 (or global): one child, the message */
};

struct mime_part {
	int32_t parent; /* index, -1 for the message itself */
	uint16_t depth;
	enum mime_kind kind;
	char type[32], subtype[64]; /* lower case; text/plain by default */
	uint64_t header_offset;     /* where its header starts */
	uint64_t body_offset;       /* after the blank line */
	uint64_t end_offset;        /* the body's end (a delimiter's CRLF excluded) */
	uint64_t header_lines, body_lines;
	uint32_t children;
	/* values (unfolded, without the name) in the parser's text; 0 length
	 * when absent */
	uint32_t value_offset[MIME_FIELD_COUNT];
	uint16_t value_len[MIME_FIELD_COUNT];
};

struct mime_parser;

struct mime_parser *mime_parser_new(void);
void mime_parser_free(struct mime_parser **parser);

/* The message's next octets. */
void mime_parser_feed(struct mime_parser *parser, const char *data, size_t len);
/* The message has ended: every open part ends here. */
void mime_parser_finish(struct mime_parser *parser);

/* After finish: the parts in order of appearance (part 0 is the message). */
size_t mime_part_count(const struct mime_parser *parser);
const struct mime_part *mime_part_get(const struct mime_parser *parser, size_t index);
/* A kept value of a part's header: *len_r octets, or NULL when absent. */
const char *mime_part_value(const struct mime_parser *parser,
                            const struct mime_part *part, enum mime_field field,
                            size_t *len_r);
/* True when limits cut the structure (parts or depth). */
bool mime_parser_truncated(const struct mime_parser *parser);

/*
 * Parameters of a Content-Type or Content-Disposition value, one at a
 * time: *cursor starts at 0. Returns false at the end. Names come back
 * lower case; quoted values unquoted; both cut to their buffer's size.
 */
bool mime_param_next(const char *value, size_t len, size_t *cursor, char *name,
                     size_t name_size, char *out, size_t out_size);

#endif
