/*
 * rfc5322_address.c — address lists (see rfc5322_address.h).
 *
 * A tokenizer (atoms, quoted strings, domain literals, specials; comments
 * and folding dropped, whitespace remembered so a display name keeps its
 * spaces) and a small state machine over the tokens.
 */
#include "proto/rfc5322_address.h"

#include <stdbool.h>
#include <string.h>

enum token_type { T_END, T_WORD, T_QUOTED, T_LITERAL, T_SPECIAL };

struct token {
	enum token_type type;
	char special;
	bool space_before;
	char text[RFC5322_PART_MAX + 1];
	size_t len;
};

struct field {
	char text[RFC5322_PART_MAX + 1];
	size_t len;
};

static void field_add(struct field *f, const char *s, size_t n)
{
	if (n > RFC5322_PART_MAX - f->len)
		n = RFC5322_PART_MAX - f->len;
	memcpy(f->text + f->len, s, n);
	f->len += n;
	f->text[f->len] = '\0';
}

static bool special(char c)
{
	return strchr("()<>[]:;@\\,.\"", c) != NULL && c != '\0';
}

/* NUL too: it would cut the strings handed over. */
static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

static void token_put(struct token *t, char c)
{
	if (t->len < RFC5322_PART_MAX)
		t->text[t->len++] = c;
}

/* The next token at *i; comments and whitespace before it skipped. */
static void next_token(const char *s, size_t len, size_t *i, struct token *t)
{
	t->len = 0;
	t->space_before = false;
	for (;;) {
		while (*i < len && space(s[*i])) {
			t->space_before = true;
			(*i)++;
		}
		if (*i >= len || s[*i] != '(')
			break;
		/* a comment, nested, with quoted-pairs */
		unsigned depth = 0;
		for (; *i < len; (*i)++) {
			if (s[*i] == '\\' && *i + 1 < len)
				(*i)++;
			else if (s[*i] == '(')
				depth++;
			else if (s[*i] == ')' && --depth == 0) {
				(*i)++;
				break;
			}
		}
		t->space_before = true;
	}
	if (*i >= len) {
		t->type = T_END;
		t->text[0] = '\0';
		return;
	}
	char c = s[*i];
	if (c == '"') {
		t->type = T_QUOTED;
		for ((*i)++; *i < len && s[*i] != '"'; (*i)++) {
			if (s[*i] == '\\' && *i + 1 < len)
				(*i)++;
			if (s[*i] != '\r' && s[*i] != '\n' && s[*i] != '\0')
				token_put(t, s[*i]);
		}
		if (*i < len)
			(*i)++;
	} else if (c == '[') {
		t->type = T_LITERAL;
		for (; *i < len; (*i)++) {
			if (!space(s[*i]))
				token_put(t, s[*i]);
			if (s[*i] == ']') {
				(*i)++;
				break;
			}
		}
	} else if (special(c)) {
		t->type = T_SPECIAL;
		t->special = c;
		token_put(t, c);
		(*i)++;
	} else {
		t->type = T_WORD;
		while (*i < len && !space(s[*i]) && !special(s[*i]))
			token_put(t, s[(*i)++]);
	}
	t->text[t->len] = '\0';
}

struct state {
	const char *s;
	size_t len, i;
	struct token tok;
	rfc5322_address_fn *fn;
	void *ctx;
	size_t reported, mailboxes;
};

static void advance(struct state *st)
{
	next_token(st->s, st->len, &st->i, &st->tok);
}

static bool is(const struct state *st, char c)
{
	return st->tok.type == T_SPECIAL && st->tok.special == c;
}

static void report(struct state *st, enum rfc5322_address_kind kind,
                   const struct field *name, const struct field *route,
                   const struct field *local, const struct field *domain)
{
	if (st->reported >= RFC5322_ADDRESSES_MAX)
		return;
	st->reported++;
	struct rfc5322_address a = {
	    .kind = kind,
	    .name = name && name->len ? name->text : NULL,
	    .route = route && route->len ? route->text : NULL,
	    .local = local && local->len ? local->text : NULL,
	    .domain = domain && domain->len ? domain->text : NULL,
	};
	if (kind == RFC5322_MAILBOX)
		st->mailboxes++;
	st->fn(st->ctx, &a);
}

/* A domain: words, dots and literals up to the address's end. */
static void read_domain(struct state *st, struct field *domain, const char *stops)
{
	while (st->tok.type != T_END &&
	       !(st->tok.type == T_SPECIAL && strchr(stops, st->tok.special))) {
		if (st->tok.type != T_SPECIAL || st->tok.special == '.')
			field_add(domain, st->tok.text, st->tok.len);
		advance(st);
	}
}

/* "<[route:]local@domain>", the "<" read. */
static void read_angle(struct state *st, const struct field *name)
{
	struct field route = {0}, local = {0}, domain = {0};
	advance(st);
	if (is(st, '@')) {
		/* obsolete route "@a,@b:" */
		while (st->tok.type != T_END && !is(st, ':') && !is(st, '>')) {
			field_add(&route, st->tok.text, st->tok.len);
			advance(st);
		}
		if (is(st, ':'))
			advance(st);
	}
	while (st->tok.type != T_END && !is(st, '@') && !is(st, '>')) {
		if (st->tok.type != T_SPECIAL || st->tok.special == '.')
			field_add(&local, st->tok.text, st->tok.len);
		advance(st);
	}
	if (is(st, '@')) {
		advance(st);
		read_domain(st, &domain, ">,;");
	}
	if (is(st, '>'))
		advance(st);
	report(st, RFC5322_MAILBOX, name, &route, &local, &domain);
	/* anything else up to the address's end (a comment-less trailer) */
	while (st->tok.type != T_END && !is(st, ',') && !is(st, ';'))
		advance(st);
}

size_t rfc5322_address_list(const char *value, size_t len, rfc5322_address_fn *fn,
                            void *ctx)
{
	struct state st = {.s = value, .len = len, .fn = fn, .ctx = ctx};
	bool in_group = false;
	advance(&st);
	while (st.tok.type != T_END && st.reported < RFC5322_ADDRESSES_MAX) {
		if (is(&st, ',')) {
			advance(&st);
			continue;
		}
		if (is(&st, ';')) {
			if (in_group)
				report(&st, RFC5322_GROUP_END, NULL, NULL, NULL, NULL);
			in_group = false;
			advance(&st);
			continue;
		}
		/* A phrase: a display name, a group's name or a local part. */
		struct field phrase = {0}, local = {0};
		bool words = false;
		while (st.tok.type == T_WORD || st.tok.type == T_QUOTED || is(&st, '.')) {
			if (words && st.tok.space_before)
				field_add(&phrase, " ", 1);
			field_add(&phrase, st.tok.text, st.tok.len);
			field_add(&local, st.tok.text, st.tok.len);
			words = true;
			advance(&st);
		}
		if (is(&st, '<')) {
			read_angle(&st, &phrase);
		} else if (is(&st, ':') && !in_group) {
			report(&st, RFC5322_GROUP_START, &phrase, NULL, NULL, NULL);
			in_group = true;
			advance(&st);
		} else if (is(&st, '@')) {
			struct field domain = {0};
			advance(&st);
			read_domain(&st, &domain, ",;<>");
			report(&st, RFC5322_MAILBOX, NULL, NULL, &local, &domain);
		} else if (words) {
			/* a local part alone, or a phrase with nothing after it */
			report(&st, RFC5322_MAILBOX, NULL, NULL, &local, NULL);
		} else {
			advance(&st); /* a stray special: skipped */
		}
	}
	if (in_group && st.reported < RFC5322_ADDRESSES_MAX)
		report(&st, RFC5322_GROUP_END, NULL, NULL, NULL, NULL);
	return st.mailboxes;
}
