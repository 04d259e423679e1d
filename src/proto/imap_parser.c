/*
 * imap_parser.c — IMAP commands, one octet at a time (see imap_parser.h).
 *
 * A state machine over octets, so that a command may arrive in any
 * pieces. Arguments are collected as nodes with indices (the arrays grow
 * while the command is read) and turned into linked imap_args once it is
 * complete.
 */
#include "proto/imap_parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Memory kept between commands; a larger command's is given back. */
#define KEEP_ARENA 4096
#define KEEP_NODES 64

enum state {
	S_TAG,
	S_COMMAND,
	S_ARGS, /* between arguments */
	S_ATOM,
	S_QUOTED,
	S_QUOTED_ESCAPE,
	S_LITERAL8,     /* after '~': '{' must follow */
	S_LITERAL_SIZE, /* inside {...} */
	S_LITERAL_CR,   /* after '}' */
	S_LITERAL_LF,
	S_LITERAL_DATA,
	S_STREAM_WAIT,  /* the caller reads a streamed literal */
	S_END_LF,       /* after the command's CR */
	S_SKIP,         /* after an error: to the end of the command */
	S_SKIP_LITERAL, /* ... through a non-synchronising literal in it */
	S_FINISHED,     /* DONE or ERROR returned: results kept until the next feed */
};

struct node {
	enum imap_arg_type type;
	bool literal8;
	uint32_t len;
	uint64_t stream_size;
	size_t str_off;
	long first, last; /* a list's items */
	long next;
};

struct imap_parser {
	struct imap_parser_limits limits;
	enum state state;
	char tag[IMAP_TAG_MAX + 1];
	size_t tag_len;
	char command[IMAP_COMMAND_MAX + 1];
	size_t command_len;

	char *arena; /* argument strings, each NUL-terminated */
	size_t arena_len, arena_cap;
	struct node *nodes;
	size_t node_count, node_cap;
	struct imap_arg *args; /* built at the end, node for node */
	size_t args_cap;
	long open[IMAP_DEPTH_MAX]; /* the lists being read */
	unsigned depth;
	long first, last; /* top-level arguments */
	unsigned top_count;
	long token; /* the node whose string is being read */

	size_t line_octets;    /* outside literals */
	size_t literal_octets; /* inline literals so far */
	uint64_t literal_size, literal_left;
	unsigned literal_digits;
	bool literal_nonsync, literal8, literal_nul;

	const char *error;
	bool too_big;
	bool fatal; /* the command's end cannot be found */
	bool stream_refused;
	/* skipping: a "{n+}" just before the line end means n octets follow */
	int skip_brace; /* 0 none, 1 inside {, 2 after } */
	bool skip_plus;
	uint64_t skip_size;
};

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->limits = *limits;
	p->first = p->last = p->token = -1;
	return p;
}

void imap_parser_free(struct imap_parser **parser)
{
	struct imap_parser *p = *parser;
	if (p == NULL)
		return;
	free(p->arena);
	free(p->nodes);
	free(p->args);
	free(p);
	*parser = NULL;
}

void imap_parser_set_limits(struct imap_parser *p,
                            const struct imap_parser_limits *limits)
{
	p->limits = *limits;
}

/* Ready for the next command; memory a large one needed goes back. */
static void reset(struct imap_parser *p)
{
	if (p->arena_cap > KEEP_ARENA) {
		free(p->arena);
		p->arena = NULL;
		p->arena_cap = 0;
	}
	if (p->node_cap > KEEP_NODES) {
		free(p->nodes);
		free(p->args);
		p->nodes = NULL;
		p->args = NULL;
		p->node_cap = p->args_cap = 0;
	}
	p->state = S_TAG;
	p->tag_len = p->command_len = 0;
	p->tag[0] = p->command[0] = '\0';
	p->arena_len = p->node_count = 0;
	p->depth = p->top_count = 0;
	p->first = p->last = p->token = -1;
	p->line_octets = p->literal_octets = 0;
	p->literal_size = p->literal_left = 0;
	p->literal_digits = 0;
	p->literal_nonsync = p->literal8 = p->literal_nul = false;
	p->error = NULL;
	p->too_big = p->fatal = p->stream_refused = false;
	p->skip_brace = 0;
	p->skip_plus = false;
	p->skip_size = 0;
}

/* ATOM-CHAR of RFC 3501, widened as servers do: "\" (flags), "%" and
 * "*" (patterns, sequence sets), "[" and "]" (BODY[...]) are taken. */
static bool atom_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

static bool tag_char(unsigned char c)
{
	return atom_char(c) && c != '+' && c != '%' && c != '*' && c != '\\';
}

static bool arena_put(struct imap_parser *p, char c)
{
	if (p->arena_len == p->arena_cap) {
		size_t cap = p->arena_cap ? p->arena_cap * 2 : 256;
		char *grown = realloc(p->arena, cap);
		if (grown == NULL)
			return false;
		p->arena = grown;
		p->arena_cap = cap;
	}
	p->arena[p->arena_len++] = c;
	return true;
}

static long add_node(struct imap_parser *p, enum imap_arg_type type)
{
	if (p->node_count >= IMAP_ARGS_MAX)
		return -1;
	if (p->node_count == p->node_cap) {
		size_t cap = p->node_cap ? p->node_cap * 2 : 16;
		struct node *grown = realloc(p->nodes, cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		p->nodes = grown;
		p->node_cap = cap;
	}
	long i = (long)p->node_count++;
	struct node *n = &p->nodes[i];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->first = n->last = n->next = -1;
	n->str_off = p->arena_len;
	if (p->depth > 0) {
		struct node *list = &p->nodes[p->open[p->depth - 1]];
		if (list->last >= 0)
			p->nodes[list->last].next = i;
		else
			list->first = i;
		list->last = i;
		list->len++;
	} else {
		if (p->last >= 0)
			p->nodes[p->last].next = i;
		else
			p->first = i;
		p->last = i;
		p->top_count++;
	}
	return i;
}

/* An error in the middle of a line: the rest of the command is skipped. */
static enum imap_parse fail(struct imap_parser *p, const char *why)
{
	p->error = why;
	p->state = S_SKIP;
	return IMAP_PARSE_ERROR;
}

/* An error at the line's end: the next octet starts a new command. */
static enum imap_parse fail_at_end(struct imap_parser *p, const char *why)
{
	p->error = why;
	p->state = S_FINISHED;
	return IMAP_PARSE_ERROR;
}

/* After the string's terminating NUL is in the arena. */
static void end_string(struct imap_parser *p)
{
	struct node *n = &p->nodes[p->token];
	n->len = (uint32_t)(p->arena_len - n->str_off - 1);
	p->token = -1;
}

static bool start_token(struct imap_parser *p, enum imap_arg_type type)
{
	p->token = add_node(p, type);
	return p->token >= 0;
}

/* The links between nodes become pointers, now that nothing moves. */
static bool build_args(struct imap_parser *p)
{
	if (p->node_count > p->args_cap) {
		struct imap_arg *grown = realloc(p->args, p->node_count * sizeof(*grown));
		if (grown == NULL)
			return false;
		p->args = grown;
		p->args_cap = p->node_count;
	}
	for (size_t i = 0; i < p->node_count; i++) {
		const struct node *n = &p->nodes[i];
		struct imap_arg *a = &p->args[i];
		a->type = n->type;
		a->literal8 = n->literal8;
		a->len = n->len;
		a->stream_size = n->stream_size;
		a->str = n->type == IMAP_ARG_LIST || n->type == IMAP_ARG_STREAMED
		             ? NULL
		             : p->arena + n->str_off;
		a->list = n->first >= 0 ? &p->args[n->first] : NULL;
		a->next = n->next >= 0 ? &p->args[n->next] : NULL;
	}
	return true;
}

static enum imap_parse finish_command(struct imap_parser *p)
{
	if (p->depth > 0)
		return fail_at_end(p, "unclosed list");
	if (!build_args(p))
		return fail_at_end(p, "out of memory");
	p->state = S_FINISHED;
	return IMAP_PARSE_DONE;
}

/* The literal's header "{n}" CRLF is complete: take it, stream it or
 * refuse it. */
static enum imap_parse literal_announced(struct imap_parser *p)
{
	uint64_t size = p->literal_size;
	bool inline_fits = p->literal_octets <= p->limits.literal_max &&
	                   size <= p->limits.literal_max - p->literal_octets;
	if (!inline_fits && (p->limits.stream_max == 0 || size > p->limits.stream_max)) {
		p->too_big = true;
		if (p->literal_nonsync) {
			/* Its octets are on their way: skipped, never read as
			 * commands. */
			p->error = "literal too big";
			p->state = S_SKIP_LITERAL;
			p->skip_size = size;
			return IMAP_PARSE_ERROR;
		}
		return fail_at_end(p, "literal too big"); /* never sent */
	}
	if (!inline_fits) {
		long i = add_node(p, IMAP_ARG_STREAMED);
		if (i < 0)
			return fail(p, "too many arguments");
		p->nodes[i].stream_size = size;
		p->nodes[i].literal8 = p->literal8;
		/* The arguments so far, for the caller to decide on them
		 * (APPEND's folder) before the octets come. */
		if (!build_args(p))
			return fail(p, "out of memory");
		p->state = S_STREAM_WAIT;
		return IMAP_PARSE_STREAM;
	}
	if (!start_token(p, IMAP_ARG_LITERAL))
		return fail(p, "too many arguments");
	p->nodes[p->token].literal8 = p->literal8;
	p->literal_left = size;
	p->literal_nul = false;
	p->literal_octets += (size_t)size;
	p->state = S_LITERAL_DATA;
	if (size == 0 && p->literal_nonsync) {
		if (!arena_put(p, '\0'))
			return fail(p, "out of memory");
		end_string(p);
		p->state = S_ARGS;
	}
	return p->literal_nonsync ? IMAP_PARSE_MORE : IMAP_PARSE_CONTINUE;
}

/* Octets of an inline literal: as many as are there. */
static enum imap_parse literal_data(struct imap_parser *p, const char *data, size_t len,
                                    size_t *used)
{
	size_t take = p->literal_left < len ? (size_t)p->literal_left : len;
	for (size_t i = 0; i < take; i++) {
		if (data[i] == '\0' && !p->nodes[p->token].literal8)
			p->literal_nul = true;
		if (!arena_put(p, data[i]))
			return fail(p, "out of memory");
	}
	*used = take;
	p->literal_left -= take;
	if (p->literal_left > 0)
		return IMAP_PARSE_MORE;
	if (!arena_put(p, '\0'))
		return fail(p, "out of memory");
	end_string(p);
	p->state = S_ARGS;
	if (p->literal_nul)
		return fail(p, "NUL in a literal");
	return IMAP_PARSE_MORE;
}

/* Skipping a failed command: to its line end, through any {n+} literal
 * announced at the end of a line. Returns true at the command's end. */
static bool skip_octet(struct imap_parser *p, unsigned char c)
{
	if (c == '\n') {
		if (p->skip_brace == 2 && p->skip_plus) {
			p->state = S_SKIP_LITERAL;
			p->skip_brace = 0;
			return false;
		}
		return true;
	}
	if (c == '\r')
		return false;
	if (c == '{') {
		p->skip_brace = 1;
		p->skip_plus = false;
		p->skip_size = 0;
	} else if (p->skip_brace == 1 && c >= '0' && c <= '9' && !p->skip_plus) {
		if (p->skip_size < UINT64_MAX / 10 - 10)
			p->skip_size = p->skip_size * 10 + (uint64_t)(c - '0');
	} else if (p->skip_brace == 1 && c == '+' && !p->skip_plus) {
		p->skip_plus = true;
	} else if (p->skip_brace == 1 && c == '}') {
		p->skip_brace = 2;
	} else {
		p->skip_brace = 0;
	}
	return false;
}

/* One octet of the command line (outside literals). */
static enum imap_parse line_octet(struct imap_parser *p, unsigned char c)
{
	if (c == '\0')
		return fail(p, "NUL in a command");
	if (++p->line_octets > p->limits.line_max && c != '\n')
		return fail(p, "command line too long");
	switch (p->state) {
	case S_TAG:
		if (c == ' ' && p->tag_len > 0) {
			p->state = S_COMMAND;
			return IMAP_PARSE_MORE;
		}
		if (c == '\n')
			return fail_at_end(p,
			                   p->tag_len ? "missing command" : "empty line");
		if (c == '\r')
			return IMAP_PARSE_MORE; /* the LF decides */
		if (!tag_char(c) || p->tag_len >= IMAP_TAG_MAX)
			return fail(p, "invalid tag");
		p->tag[p->tag_len++] = (char)c;
		p->tag[p->tag_len] = '\0';
		return IMAP_PARSE_MORE;
	case S_COMMAND:
		if ((c == ' ' || c == '\r' || c == '\n') && p->command_len > 0) {
			if (c == '\n')
				return finish_command(p);
			p->state = c == ' ' ? S_ARGS : S_END_LF;
			return IMAP_PARSE_MORE;
		}
		if (c == '\n')
			return fail_at_end(p, "missing command");
		if (!atom_char(c) || p->command_len >= IMAP_COMMAND_MAX)
			return fail(p, "invalid command name");
		p->command[p->command_len++] =
		    (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
		p->command[p->command_len] = '\0';
		return IMAP_PARSE_MORE;
	case S_ATOM:
		if (atom_char(c)) {
			if (!arena_put(p, (char)c))
				return fail(p, "out of memory");
			return IMAP_PARSE_MORE;
		}
		if (c == '{' || c == '"' || c >= 0x80)
			return fail(p, c >= 0x80 ? "8-bit octet in an atom"
			                         : "invalid atom");
		if (!arena_put(p, '\0'))
			return fail(p, "out of memory");
		long atom = p->token;
		end_string(p);
		struct node *n = &p->nodes[atom];
		if (n->len == 3 && strncasecmp(p->arena + n->str_off, "NIL", 3) == 0)
			n->type = IMAP_ARG_NIL;
		p->state = S_ARGS;
		/* The octet that ended it is read as such. */
		__attribute__((fallthrough));
	case S_ARGS:
		switch (c) {
		case ' ':
			return IMAP_PARSE_MORE;
		case '\r':
			p->state = S_END_LF;
			return IMAP_PARSE_MORE;
		case '\n':
			return finish_command(p);
		case '(': {
			if (p->depth >= IMAP_DEPTH_MAX)
				return fail(p, "lists nested too deeply");
			long i = add_node(p, IMAP_ARG_LIST);
			if (i < 0)
				return fail(p, "too many arguments");
			p->open[p->depth++] = i;
			return IMAP_PARSE_MORE;
		}
		case ')':
			if (p->depth == 0)
				return fail(p, "unexpected )");
			p->depth--;
			return IMAP_PARSE_MORE;
		case '"':
			if (!start_token(p, IMAP_ARG_QUOTED))
				return fail(p, "too many arguments");
			p->state = S_QUOTED;
			return IMAP_PARSE_MORE;
		case '~':
			p->state = S_LITERAL8;
			return IMAP_PARSE_MORE;
		case '{':
			p->literal8 = false;
			goto literal_start;
		default:
			if (!atom_char(c))
				return fail(p, c >= 0x80 ? "8-bit octet in an atom"
				                         : "invalid atom");
			if (!start_token(p, IMAP_ARG_ATOM) || !arena_put(p, (char)c))
				return fail(p, "too many arguments");
			p->state = S_ATOM;
			return IMAP_PARSE_MORE;
		}
	case S_LITERAL8:
		if (c != '{') {
			/* "~" starts an atom too ("~peter/mail"): read on as one */
			if (!start_token(p, IMAP_ARG_ATOM) || !arena_put(p, '~'))
				return fail(p, "too many arguments");
			p->state = S_ATOM;
			p->line_octets--; /* c is counted again */
			return line_octet(p, c);
		}
		p->literal8 = true;
	literal_start:
		p->literal_size = 0;
		p->literal_digits = 0;
		p->literal_nonsync = false;
		p->state = S_LITERAL_SIZE;
		return IMAP_PARSE_MORE;
	case S_LITERAL_SIZE:
		if (c >= '0' && c <= '9' && !p->literal_nonsync) {
			if (++p->literal_digits > 19) {
				/* No octet count could be skipped: the caller must
				 * close the connection. */
				p->fatal = p->too_big = true;
				return fail(p, "literal size too large");
			}
			p->literal_size = p->literal_size * 10 + (uint64_t)(c - '0');
			return IMAP_PARSE_MORE;
		}
		if (c == '+' && p->literal_digits > 0 && !p->literal_nonsync) {
			p->literal_nonsync = true;
			return IMAP_PARSE_MORE;
		}
		if (c == '}' && p->literal_digits > 0) {
			p->state = S_LITERAL_CR;
			return IMAP_PARSE_MORE;
		}
		return fail(p, "invalid literal size");
	case S_LITERAL_CR:
		if (c == '\r') {
			p->state = S_LITERAL_LF;
			return IMAP_PARSE_MORE;
		}
		/* A bare LF is taken too. */
		__attribute__((fallthrough));
	case S_LITERAL_LF:
		if (c != '\n')
			return fail(p, "literal size not at the end of the line");
		return literal_announced(p);
	case S_QUOTED:
		if (c == '"') {
			if (!arena_put(p, '\0'))
				return fail(p, "out of memory");
			end_string(p);
			p->state = S_ARGS;
			return IMAP_PARSE_MORE;
		}
		if (c == '\\') {
			p->state = S_QUOTED_ESCAPE;
			return IMAP_PARSE_MORE;
		}
		if (c == '\r' || c == '\n')
			return c == '\n' ? fail_at_end(p, "line break in a quoted string")
			                 : fail(p, "line break in a quoted string");
		if (!arena_put(p, (char)c))
			return fail(p, "out of memory");
		return IMAP_PARSE_MORE;
	case S_QUOTED_ESCAPE:
		if (c != '"' && c != '\\')
			return c == '\n'
			           ? fail_at_end(p, "invalid escape in a quoted string")
			           : fail(p, "invalid escape in a quoted string");
		if (!arena_put(p, (char)c))
			return fail(p, "out of memory");
		p->state = S_QUOTED;
		return IMAP_PARSE_MORE;
	case S_END_LF:
		if (c != '\n')
			return fail(p, "CR without LF");
		return finish_command(p);
	default:
		return fail(p, "internal parser state");
	}
}

enum imap_parse imap_parser_feed(struct imap_parser *p, const char *data, size_t len,
                                 size_t *consumed)
{
	size_t i = 0;
	enum imap_parse r = IMAP_PARSE_MORE;
	if (p->stream_refused) {
		/* the error of imap_parser_stream_refuse(), said now */
		p->stream_refused = false;
		p->state = p->literal_nonsync ? S_SKIP_LITERAL : S_FINISHED;
		p->skip_size = p->literal_size;
		*consumed = 0;
		return IMAP_PARSE_ERROR;
	}
	if (p->state == S_FINISHED)
		reset(p);
	if (p->state == S_STREAM_WAIT) {
		*consumed = 0;
		p->error = "the streamed literal was not read";
		p->state = S_FINISHED;
		return IMAP_PARSE_ERROR;
	}
	while (i < len && r == IMAP_PARSE_MORE) {
		unsigned char c = (unsigned char)data[i];
		size_t used = 1;
		switch (p->state) {
		case S_LITERAL_DATA:
			r = literal_data(p, data + i, len - i, &used);
			break;
		case S_SKIP:
			if (skip_octet(p, c))
				p->state = S_FINISHED;
			break;
		case S_SKIP_LITERAL:
			used = p->skip_size < len - i ? (size_t)p->skip_size : len - i;
			p->skip_size -= used;
			if (p->skip_size == 0)
				p->state = S_SKIP;
			break;
		default: {
			enum state before = p->state;
			r = line_octet(p, c);
			if (r == IMAP_PARSE_ERROR && p->state == S_SKIP) {
				if (c == '\n')
					p->state =
					    S_FINISHED; /* the line ended with it */
				else if (before == S_LITERAL_SIZE ||
				         before == S_LITERAL8) {
					/* inside "{...": what follows may still
					 * announce octets to skip */
					p->skip_brace = 1;
					p->skip_size = p->literal_size;
					p->skip_plus = p->literal_nonsync;
				}
			}
			break;
		}
		}
		i += used;
		/* A skipped command ends quietly: its error was said. */
		if (p->state == S_FINISHED && r == IMAP_PARSE_MORE) {
			reset(p);
			if (i < len)
				continue;
		}
	}
	*consumed = i;
	return r;
}

void imap_parser_stream_done(struct imap_parser *p)
{
	if (p->state == S_STREAM_WAIT)
		p->state = S_ARGS;
}

void imap_parser_stream_refuse(struct imap_parser *p, const char *why)
{
	if (p->state != S_STREAM_WAIT)
		return;
	p->error = why;
	p->stream_refused = true;
}

const char *imap_parser_tag(const struct imap_parser *p)
{
	return p->tag;
}

const char *imap_parser_command(const struct imap_parser *p)
{
	return p->command;
}

const struct imap_arg *imap_parser_args(const struct imap_parser *p)
{
	return p->first >= 0 && p->args ? &p->args[p->first] : NULL;
}

unsigned imap_parser_arg_count(const struct imap_parser *p)
{
	return p->top_count;
}

const char *imap_parser_error(const struct imap_parser *p)
{
	return p->error ? p->error : "";
}

uint64_t imap_parser_literal_size(const struct imap_parser *p)
{
	return p->literal_size;
}

bool imap_parser_literal_sync(const struct imap_parser *p)
{
	return !p->literal_nonsync;
}

bool imap_parser_error_too_big(const struct imap_parser *p)
{
	return p->too_big;
}

bool imap_parser_error_fatal(const struct imap_parser *p)
{
	return p->fatal;
}

const char *imap_arg_string(const struct imap_arg *arg)
{
	if (arg == NULL)
		return NULL;
	switch (arg->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_QUOTED:
	case IMAP_ARG_LITERAL:
		return arg->str;
	default:
		return NULL;
	}
}

const char *imap_arg_astring(const struct imap_arg *arg)
{
	return imap_arg_string(arg);
}
