/*
 * imap_parser.h — IMAP commands as clients send them (RFC 3501 and RFC
 * 9051 section 9): a tag, a command name, then arguments — atoms, quoted
 * strings, literals (synchronising {n}, non-synchronising {n+} of RFC
 * 7888, literal8 ~{n} of RFC 3516), NIL and parenthesised lists.
 *
 * Pure and resumable: the caller feeds whatever octets it has; the parser
 * copies what it keeps and says what it needs next. It never touches a
 * socket: where the protocol needs the server to speak in the middle of
 * a command (a synchronising literal wants "+ ..." first), it returns
 * IMAP_PARSE_CONTINUE and the caller answers. A literal too large to
 * hold (an APPEND's message) is handed over as IMAP_PARSE_STREAM: the
 * caller reads its octets itself and says when it has.
 *
 * Errors end the command: the parser then skips what is left of it (the
 * rest of the line, and the octets of any non-synchronising literal in
 * it, which are never taken as commands) before it reads the next one.
 * Memory is bounded by the limits; a parser that held a large command
 * gives the memory back before the next one.
 */
#ifndef PETREL_IMAP_PARSER_H
#define PETREL_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_TAG_MAX     64
#define IMAP_COMMAND_MAX 32
#define IMAP_ARGS_MAX    20000 /* arguments in one command, lists included */
#define IMAP_DEPTH_MAX   32    /* nested parentheses */

enum imap_arg_type {
	IMAP_ARG_ATOM,     /* also \Flags, BODY[HEADER.FIELDS, sequence sets */
	IMAP_ARG_QUOTED,   /* "string", unescaped */
	IMAP_ARG_LITERAL,  /* {n} held inline */
	IMAP_ARG_NIL,      /* the atom NIL, any case */
	IMAP_ARG_LIST,     /* ( ... ) */
	IMAP_ARG_STREAMED, /* a literal the caller read itself: len octets */
};

struct imap_arg {
	enum imap_arg_type type;
	bool literal8;         /* ~{n}: may hold any octet (RFC 3516) */
	uint32_t len;          /* a string's octets; a list's items */
	uint64_t stream_size;  /* IMAP_ARG_STREAMED */
	const char *str;       /* NUL-terminated (a literal8 may hold NULs) */
	struct imap_arg *list; /* a list's first item */
	struct imap_arg *next; /* the next argument at this level */
};

struct imap_parser_limits {
	size_t line_max;     /* octets of a command outside its literals */
	size_t literal_max;  /* octets of literals held inline, per command */
	uint64_t stream_max; /* largest literal offered as a stream; 0: none */
};

enum imap_parse {
	IMAP_PARSE_MORE,     /* every octet fed was taken: feed more */
	IMAP_PARSE_DONE,     /* a whole command: tag, command, args */
	IMAP_PARSE_CONTINUE, /* a synchronising literal was accepted: send
	                        "+ ..." and go on feeding */
	IMAP_PARSE_STREAM,   /* stream_size octets follow (after a "+ ..." if
	                        stream_sync): read them, then
	                        imap_parser_stream_done() or _refuse() */
	IMAP_PARSE_ERROR,    /* error (and tag when it was read): answer BAD;
	                        the rest of the command is skipped */
};

struct imap_parser;

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits);
void imap_parser_free(struct imap_parser **parser);
/* The limits can change between commands (more after a login). */
void imap_parser_set_limits(struct imap_parser *parser,
                            const struct imap_parser_limits *limits);

/*
 * Takes octets from data (up to len); *consumed says how many. Call
 * again with the rest after acting on the result. After DONE or ERROR
 * the result's fields stay valid until the next call.
 */
enum imap_parse imap_parser_feed(struct imap_parser *parser, const char *data, size_t len,
                                 size_t *consumed);

/* After IMAP_PARSE_STREAM: the caller has read the literal's octets. */
void imap_parser_stream_done(struct imap_parser *parser);
/* ... or will not: the command is an error (the octets of a
 * non-synchronising literal are skipped; a synchronising one was never
 * sent). The next feed reports IMAP_PARSE_ERROR with why. */
void imap_parser_stream_refuse(struct imap_parser *parser, const char *why);

/* What the last result was about. After IMAP_PARSE_STREAM the arguments
 * are those so far, the streamed literal last (valid until the next
 * feed). */
const char *imap_parser_tag(const struct imap_parser *parser);     /* "" if none */
const char *imap_parser_command(const struct imap_parser *parser); /* upper case */
const struct imap_arg *imap_parser_args(const struct imap_parser *parser);
unsigned imap_parser_arg_count(const struct imap_parser *parser); /* top level */
const char *imap_parser_error(const struct imap_parser *parser);
/* IMAP_PARSE_STREAM and CONTINUE: the literal's size, and whether the
 * client waits for "+" (a synchronising literal). */
uint64_t imap_parser_literal_size(const struct imap_parser *parser);
bool imap_parser_literal_sync(const struct imap_parser *parser);
/* True when the error was a literal over the limits ([TOOBIG]). */
bool imap_parser_error_too_big(const struct imap_parser *parser);
/* True when the command's end cannot be found (a literal size past any
 * count): answer BAD and close the connection. */
bool imap_parser_error_fatal(const struct imap_parser *parser);

/* A string argument (atom, quoted or literal) as text; NULL otherwise. */
const char *imap_arg_string(const struct imap_arg *arg);
/* astring (RFC 3501): an atom or a string, not NIL. */
const char *imap_arg_astring(const struct imap_arg *arg);

#endif
