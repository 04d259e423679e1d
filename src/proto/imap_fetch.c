/*
 * imap_fetch.c — FETCH data items (see imap_fetch.h).
 */
#include "proto/imap_fetch.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct imap_fetch_item *add(struct imap_fetch *f, enum imap_fetch_type type,
                                   const char *name, const char **error_r)
{
	if (f->count >= IMAP_FETCH_ITEMS_MAX) {
		*error_r = "too many FETCH items";
		return NULL;
	}
	struct imap_fetch_item *it = &f->items[f->count++];
	memset(it, 0, sizeof(*it));
	it->type = type;
	it->name = name;
	return it;
}

/* A number of at most 19 digits; false if there is none. */
static bool number(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	int digits = 0;
	while (*p >= '0' && *p <= '9' && digits < 19) {
		v = v * 10 + (uint64_t)(*p++ - '0');
		digits++;
	}
	if (digits == 0 || (*p >= '0' && *p <= '9'))
		return false;
	*s = p;
	*out = v;
	return true;
}

/* "1.2.HEADER", "TEXT", "" ...: the inside of [ ], up to its end or the
 * start of a header list ("HEADER.FIELDS" then the list). */
static int parse_section(const char *s, size_t len, struct imap_fetch_item *it,
                         const char **error_r)
{
	const char *end = s + len;
	while (s < end && *s >= '1' && *s <= '9') {
		uint64_t n;
		if (!number(&s, &n) || n == 0 || n > UINT32_MAX ||
		    it->part_count >= IMAP_SECTION_PARTS_MAX) {
			*error_r = "invalid section part";
			return -1;
		}
		it->part[it->part_count++] = (uint32_t)n;
		if (s < end && *s == '.')
			s++;
		else
			break;
	}
	size_t rest = (size_t)(end - s);
	static const struct {
		const char *name;
		enum imap_section_text text;
		bool part_only; /* MIME: only after a part number */
	} texts[] = {
	    {"HEADER.FIELDS.NOT", IMAP_SECTION_HEADER_FIELDS_NOT, false},
	    {"HEADER.FIELDS", IMAP_SECTION_HEADER_FIELDS, false},
	    {"HEADER", IMAP_SECTION_HEADER, false},
	    {"TEXT", IMAP_SECTION_TEXT, false},
	    {"MIME", IMAP_SECTION_MIME, true},
	};
	if (rest == 0) {
		/* "[]" or "[1.2]"; "[1.]" is not */
		if (it->part_count > 0 && s[-1] == '.') {
			*error_r = "invalid section";
			return -1;
		}
		it->text = IMAP_SECTION_ALL;
		return 0;
	}
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (rest == strlen(texts[i].name) &&
		    strncasecmp(s, texts[i].name, rest) == 0) {
			if (texts[i].part_only && it->part_count == 0)
				break;
			it->text = texts[i].text;
			return 0;
		}
	*error_r = "invalid section";
	return -1;
}

/* "<0.100>" */
static int parse_partial(const char *s, struct imap_fetch_item *it, const char **error_r)
{
	if (*s == '\0')
		return 0;
	uint64_t offset, length;
	if (*s++ != '<' || !number(&s, &offset) || *s++ != '.' || !number(&s, &length) ||
	    length == 0 || *s++ != '>' || *s != '\0') {
		*error_r = "invalid partial <offset.length>";
		return -1;
	}
	it->partial = true;
	it->offset = offset;
	it->length = length;
	return 0;
}

/* BODY[...], BODY.PEEK[...], BINARY[...], BINARY.PEEK[...],
 * BINARY.SIZE[...] starting at *arg (an atom with "["); may take the
 * header list and the closing atom that follow. */
static int parse_body_section(struct imap_fetch *f, const struct imap_arg **arg,
                              const char **error_r)
{
	const char *atom = (*arg)->str;
	const char *open = strchr(atom, '[');
	size_t prefix = (size_t)(open - atom);
	static const struct {
		const char *name;
		enum imap_fetch_type type;
		bool peek;
	} kinds[] = {
	    {"BODY", IMAP_FETCH_SECTION, false},
	    {"BODY.PEEK", IMAP_FETCH_SECTION, true},
	    {"BINARY", IMAP_FETCH_BINARY, false},
	    {"BINARY.PEEK", IMAP_FETCH_BINARY, true},
	    {"BINARY.SIZE", IMAP_FETCH_BINARY_SIZE, true},
	};
	struct imap_fetch_item *it = NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (prefix == strlen(kinds[i].name) &&
		    strncasecmp(atom, kinds[i].name, prefix) == 0) {
			if ((it = add(f, kinds[i].type,
			              kinds[i].type == IMAP_FETCH_BINARY_SIZE
			                  ? "BINARY.SIZE"
			              : kinds[i].type == IMAP_FETCH_BINARY ? "BINARY"
			                                                   : "BODY",
			              error_r)) == NULL)
				return -1;
			it->peek = kinds[i].peek;
			break;
		}
	if (it == NULL) {
		*error_r = "unknown FETCH item";
		return -1;
	}
	const char *close = strchr(open, ']');
	const char *after;
	if (close) {
		if (parse_section(open + 1, (size_t)(close - open - 1), it, error_r) < 0)
			return -1;
		if (it->text == IMAP_SECTION_HEADER_FIELDS ||
		    it->text == IMAP_SECTION_HEADER_FIELDS_NOT) {
			*error_r = "HEADER.FIELDS without its list";
			return -1;
		}
		after = close + 1;
		*arg = (*arg)->next;
	} else {
		/* "BODY[HEADER.FIELDS" (list) "]<...>" */
		if (parse_section(open + 1, strlen(open + 1), it, error_r) < 0)
			return -1;
		const struct imap_arg *list = (*arg)->next;
		if ((it->text != IMAP_SECTION_HEADER_FIELDS &&
		     it->text != IMAP_SECTION_HEADER_FIELDS_NOT) ||
		    list == NULL || list->type != IMAP_ARG_LIST || list->len == 0) {
			*error_r = "invalid section";
			return -1;
		}
		for (const struct imap_arg *a = list->list; a; a = a->next) {
			const char *field = imap_arg_astring(a);
			if (field == NULL || field[0] == '\0' ||
			    it->field_count >= IMAP_HEADER_FIELDS_MAX) {
				*error_r = "invalid header field list";
				return -1;
			}
			it->fields[it->field_count++] = field;
		}
		const struct imap_arg *closing = list->next;
		if (closing == NULL || closing->type != IMAP_ARG_ATOM ||
		    closing->str[0] != ']') {
			*error_r = "section without ]";
			return -1;
		}
		after = closing->str + 1;
		*arg = closing->next;
	}
	if (it->type == IMAP_FETCH_BINARY || it->type == IMAP_FETCH_BINARY_SIZE) {
		/* BINARY takes a part path only (RFC 3516) */
		if (it->text != IMAP_SECTION_ALL) {
			*error_r = "BINARY takes a part number only";
			return -1;
		}
	}
	if (it->type == IMAP_FETCH_BINARY_SIZE && *after) {
		*error_r = "BINARY.SIZE takes no partial";
		return -1;
	}
	if (!it->peek && it->type != IMAP_FETCH_BINARY_SIZE)
		f->sets_seen = true;
	return parse_partial(after, it, error_r);
}

static int parse_item(struct imap_fetch *f, const struct imap_arg **arg,
                      const char **error_r)
{
	const struct imap_arg *a = *arg;
	if (a->type != IMAP_ARG_ATOM) {
		*error_r = "a FETCH item is not an atom";
		return -1;
	}
	if (strchr(a->str, '['))
		return parse_body_section(f, arg, error_r);
	*arg = a->next;
	static const struct {
		const char *name;
		enum imap_fetch_type type;
	} simple[] = {
	    {"UID", IMAP_FETCH_UID},
	    {"FLAGS", IMAP_FETCH_FLAGS},
	    {"INTERNALDATE", IMAP_FETCH_INTERNALDATE},
	    {"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE},
	    {"ENVELOPE", IMAP_FETCH_ENVELOPE},
	    {"BODY", IMAP_FETCH_BODY},
	    {"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE},
	    {"MODSEQ", IMAP_FETCH_MODSEQ},
	};
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (strcasecmp(a->str, simple[i].name) == 0)
			return add(f, simple[i].type, simple[i].name, error_r) ? 0 : -1;
	/* RFC822 = BODY[], RFC822.HEADER = BODY.PEEK[HEADER], RFC822.TEXT =
	 * BODY[TEXT], answered under their own names. */
	static const struct {
		const char *name;
		enum imap_section_text text;
		bool peek;
	} rfc822[] = {
	    {"RFC822", IMAP_SECTION_ALL, false},
	    {"RFC822.HEADER", IMAP_SECTION_HEADER, true},
	    {"RFC822.TEXT", IMAP_SECTION_TEXT, false},
	};
	for (size_t i = 0; i < sizeof(rfc822) / sizeof(rfc822[0]); i++)
		if (strcasecmp(a->str, rfc822[i].name) == 0) {
			struct imap_fetch_item *it =
			    add(f, IMAP_FETCH_SECTION, rfc822[i].name, error_r);
			if (it == NULL)
				return -1;
			it->text = rfc822[i].text;
			it->peek = rfc822[i].peek;
			f->sets_seen |= !it->peek;
			return 0;
		}
	*error_r = "unknown FETCH item";
	return -1;
}

/* ALL, FAST and FULL (RFC 9051 6.4.5). */
static int add_macro(struct imap_fetch *f, const char *name, const char **error_r)
{
	static const enum imap_fetch_type fast[] = {
	    IMAP_FETCH_FLAGS, IMAP_FETCH_INTERNALDATE, IMAP_FETCH_RFC822_SIZE};
	static const char *const fast_names[] = {"FLAGS", "INTERNALDATE", "RFC822.SIZE"};
	for (size_t i = 0; i < 3; i++)
		if (add(f, fast[i], fast_names[i], error_r) == NULL)
			return -1;
	if (strcasecmp(name, "FAST") == 0)
		return 0;
	if (add(f, IMAP_FETCH_ENVELOPE, "ENVELOPE", error_r) == NULL)
		return -1;
	if (strcasecmp(name, "FULL") == 0 &&
	    add(f, IMAP_FETCH_BODY, "BODY", error_r) == NULL)
		return -1;
	return 0;
}

int imap_fetch_parse(const struct imap_arg *arg, struct imap_fetch *out,
                     const char **error_r)
{
	memset(out, 0, sizeof(*out));
	out->items = malloc(IMAP_FETCH_ITEMS_MAX * sizeof(*out->items));
	if (out->items == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (arg == NULL) {
		*error_r = "FETCH without items";
		return -1;
	}
	if (arg->type == IMAP_ARG_ATOM &&
	    (strcasecmp(arg->str, "ALL") == 0 || strcasecmp(arg->str, "FAST") == 0 ||
	     strcasecmp(arg->str, "FULL") == 0)) {
		out->rest = arg->next;
		return add_macro(out, arg->str, error_r);
	}
	if (arg->type == IMAP_ARG_LIST) {
		if (arg->list == NULL) {
			*error_r = "FETCH without items";
			return -1;
		}
		for (const struct imap_arg *a = arg->list; a;)
			if (parse_item(out, &a, error_r) < 0)
				return -1;
		out->rest = arg->next;
		return 0;
	}
	/* a single item, possibly spread over several arguments */
	const struct imap_arg *a = arg;
	if (parse_item(out, &a, error_r) < 0)
		return -1;
	out->rest = a;
	return 0;
}

void imap_fetch_free(struct imap_fetch *fetch)
{
	free(fetch->items);
	memset(fetch, 0, sizeof(*fetch));
}
