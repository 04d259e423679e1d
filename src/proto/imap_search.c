/*
 * imap_search.c — SEARCH criteria into a tree (see imap_search.h).
 */
#include "proto/imap_search.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/imap_seqset.h"

struct state {
	struct imap_search *out;
	size_t cap;
	const char *error;
};

/* Nodes are at most one per argument, plus the root. */
static size_t count_args(const struct imap_arg *a)
{
	size_t n = 0;
	for (; a; a = a->next)
		n += 1 + (a->type == IMAP_ARG_LIST ? count_args(a->list) : 0);
	return n;
}

static struct imap_search_key *node(struct state *st, enum imap_search_type type)
{
	if (st->out->count >= st->cap) {
		st->error = "search too long";
		return NULL;
	}
	struct imap_search_key *k = &st->out->keys[st->out->count++];
	memset(k, 0, sizeof(*k));
	k->type = type;
	return k;
}

static bool is_number(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 19)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int imap_date_parse(const char *text, int32_t *day)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	int d = 0, y = 0, i = 0;
	while (text[i] >= '0' && text[i] <= '9' && i < 2)
		d = d * 10 + (text[i++] - '0');
	if (i == 0 || d < 1 || d > 31 || text[i++] != '-')
		return -1;
	char mon[4] = {0};
	for (int j = 0; j < 3; j++) {
		char c = text[i++];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return -1;
		mon[j] = (char)(c | 0x20);
	}
	const char *at = strstr(months, mon);
	if (at == NULL || (at - months) % 3 != 0 || text[i++] != '-')
		return -1;
	int m = (int)(at - months) / 3 + 1;
	for (int j = 0; j < 4; j++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		y = y * 10 + (text[i++] - '0');
	}
	if (text[i] != '\0' || y < 1)
		return -1;
	static const int days_in[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > days_in[m - 1] + (m == 2 && leap))
		return -1;
	/* days from civil (Howard Hinnant's algorithm) */
	int yy = m <= 2 ? y - 1 : y;
	int era = (yy >= 0 ? yy : yy - 399) / 400;
	int yoe = yy - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*day = era * 146097 + doe - 719468;
	return 0;
}

int imap_datetime_parse(const char *text, int64_t *seconds_r)
{
	/* date-day-fixed: a leading space for one digit */
	char date[12];
	size_t len = strlen(text);
	if (len != 26 || text[11] != ' ' || text[20] != ' ')
		return -1;
	size_t start = text[0] == ' ' ? 1 : 0;
	memcpy(date, text + start, 11 - start);
	date[11 - start] = '\0';
	int32_t day;
	if (imap_date_parse(date, &day) < 0)
		return -1;
	const char *t = text + 12;
	int h, m, sec, zone;
	char sign;
	if (t[2] != ':' || t[5] != ':')
		return -1;
	for (int i = 0; i < 8; i++)
		if (i != 2 && i != 5 && (t[i] < '0' || t[i] > '9'))
			return -1;
	h = (t[0] - '0') * 10 + (t[1] - '0');
	m = (t[3] - '0') * 10 + (t[4] - '0');
	sec = (t[6] - '0') * 10 + (t[7] - '0');
	sign = text[21];
	const char *z = text + 22;
	for (int i = 0; i < 4; i++)
		if (z[i] < '0' || z[i] > '9')
			return -1;
	if ((sign != '+' && sign != '-') || h > 23 || m > 59 || sec > 60)
		return -1;
	int zh = (z[0] - '0') * 10 + (z[1] - '0'), zm = (z[2] - '0') * 10 + (z[3] - '0');
	if (zm > 59)
		return -1;
	zone = (zh * 60 + zm) * 60 * (sign == '-' ? -1 : 1);
	*seconds_r = (int64_t)day * 86400 + h * 3600 + m * 60 + sec - zone;
	return 0;
}

/* The argument a key takes: a string (not NIL, not a list). */
static const char *take_string(struct state *st, const struct imap_arg **arg)
{
	const char *s = imap_arg_astring(*arg);
	if (s == NULL) {
		st->error = *arg ? "a search key's argument is not a string"
		                 : "a search key without its argument";
		return NULL;
	}
	*arg = (*arg)->next;
	return s;
}

static bool valid_seqset(const char *text)
{
	size_t len = strlen(text), count;
	struct imap_seq_range *ranges = malloc((len / 2 + 1) * sizeof(*ranges));
	const char *error;
	bool ok = ranges &&
	          imap_seqset_parse(text, len, ranges, len / 2 + 1, &count, &error) == 0;
	free(ranges);
	return ok;
}

static struct imap_search_key *parse_key(struct state *st, const struct imap_arg **arg,
                                         unsigned depth);

/* Keys up to the end of the list, under an AND node. */
static struct imap_search_key *parse_list(struct state *st, const struct imap_arg *arg,
                                          unsigned depth)
{
	struct imap_search_key *and = node(st, IMAP_SEARCH_AND);
	if (and == NULL)
		return NULL;
	if (arg == NULL) {
		st->error = "empty search";
		return NULL;
	}
	struct imap_search_key **tail = &and->child;
	while (arg) {
		struct imap_search_key *k = parse_key(st, &arg, depth);
		if (k == NULL)
			return NULL;
		*tail = k;
		tail = &k->next;
	}
	return and;
}

static const struct {
	const char *name;
	enum imap_search_type type;
	const char *flag; /* FLAG / UNFLAG */
} flag_keys[] = {
    {"ANSWERED", IMAP_SEARCH_FLAG, "\\Answered"},
    {"DELETED", IMAP_SEARCH_FLAG, "\\Deleted"},
    {"DRAFT", IMAP_SEARCH_FLAG, "\\Draft"},
    {"FLAGGED", IMAP_SEARCH_FLAG, "\\Flagged"},
    {"SEEN", IMAP_SEARCH_FLAG, "\\Seen"},
    {"RECENT", IMAP_SEARCH_FLAG, "\\Recent"},
    {"UNANSWERED", IMAP_SEARCH_UNFLAG, "\\Answered"},
    {"UNDELETED", IMAP_SEARCH_UNFLAG, "\\Deleted"},
    {"UNDRAFT", IMAP_SEARCH_UNFLAG, "\\Draft"},
    {"UNFLAGGED", IMAP_SEARCH_UNFLAG, "\\Flagged"},
    {"UNSEEN", IMAP_SEARCH_UNFLAG, "\\Seen"},
    {"ALL", IMAP_SEARCH_ALL, NULL},
    {"NEW", IMAP_SEARCH_NEW, NULL},
    {"OLD", IMAP_SEARCH_OLD, NULL},
};

static const struct {
	const char *name;
	enum imap_search_type type;
	const char *field;
} string_keys[] = {
    {"BCC", IMAP_SEARCH_HEADER, "Bcc"},         {"CC", IMAP_SEARCH_HEADER, "Cc"},
    {"FROM", IMAP_SEARCH_HEADER, "From"},       {"TO", IMAP_SEARCH_HEADER, "To"},
    {"SUBJECT", IMAP_SEARCH_HEADER, "Subject"}, {"BODY", IMAP_SEARCH_BODY, NULL},
    {"TEXT", IMAP_SEARCH_TEXT, NULL},           {"KEYWORD", IMAP_SEARCH_FLAG, NULL},
    {"UNKEYWORD", IMAP_SEARCH_UNFLAG, NULL},
};

static const struct {
	const char *name;
	enum imap_search_type type;
} date_keys[] = {
    {"BEFORE", IMAP_SEARCH_BEFORE}, {"ON", IMAP_SEARCH_ON},
    {"SINCE", IMAP_SEARCH_SINCE},   {"SENTBEFORE", IMAP_SEARCH_SENTBEFORE},
    {"SENTON", IMAP_SEARCH_SENTON}, {"SENTSINCE", IMAP_SEARCH_SENTSINCE},
};

static struct imap_search_key *parse_key(struct state *st, const struct imap_arg **arg,
                                         unsigned depth)
{
	if (depth > IMAP_SEARCH_DEPTH_MAX) {
		st->error = "search nested too deeply";
		return NULL;
	}
	const struct imap_arg *a = *arg;
	if (a == NULL) {
		st->error = "a search key is missing";
		return NULL;
	}
	*arg = a->next;
	if (a->type == IMAP_ARG_LIST)
		return parse_list(st, a->list, depth + 1);
	if (a->type != IMAP_ARG_ATOM) {
		st->error = "a search key is not an atom";
		return NULL;
	}
	const char *name = a->str;
	struct imap_search_key *k;
	for (size_t i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++)
		if (strcasecmp(name, flag_keys[i].name) == 0) {
			if ((k = node(st, flag_keys[i].type)) != NULL)
				k->str = flag_keys[i].flag;
			return k;
		}
	for (size_t i = 0; i < sizeof(string_keys) / sizeof(string_keys[0]); i++)
		if (strcasecmp(name, string_keys[i].name) == 0) {
			if ((k = node(st, string_keys[i].type)) == NULL)
				return NULL;
			k->field = string_keys[i].field;
			k->str = take_string(st, arg);
			return k->str ? k : NULL;
		}
	for (size_t i = 0; i < sizeof(date_keys) / sizeof(date_keys[0]); i++)
		if (strcasecmp(name, date_keys[i].name) == 0) {
			if ((k = node(st, date_keys[i].type)) == NULL)
				return NULL;
			const char *date = take_string(st, arg);
			if (date == NULL || imap_date_parse(date, &k->day) < 0) {
				st->error = st->error ? st->error
				                      : "invalid date (like 1-Feb-2026)";
				return NULL;
			}
			return k;
		}
	if (strcasecmp(name, "HEADER") == 0) {
		if ((k = node(st, IMAP_SEARCH_HEADER)) == NULL ||
		    (k->field = take_string(st, arg)) == NULL ||
		    (k->str = take_string(st, arg)) == NULL)
			return NULL;
		return k;
	}
	if (strcasecmp(name, "LARGER") == 0 || strcasecmp(name, "SMALLER") == 0 ||
	    strcasecmp(name, "MODSEQ") == 0) {
		bool modseq = strcasecmp(name, "MODSEQ") == 0;
		k = node(st, modseq                            ? IMAP_SEARCH_MODSEQ
		             : strcasecmp(name, "LARGER") == 0 ? IMAP_SEARCH_LARGER
		                                               : IMAP_SEARCH_SMALLER);
		if (k == NULL)
			return NULL;
		/* MODSEQ [entry-name entry-type] number (RFC 7162 3.1.5) */
		if (modseq && *arg && !is_number(imap_arg_string(*arg)) && (*arg)->next)
			*arg = (*arg)->next->next;
		const char *number = *arg ? imap_arg_string(*arg) : NULL;
		if (!is_number(number)) {
			st->error = "a search key's number is missing or invalid";
			return NULL;
		}
		k->number = strtoull(number, NULL, 10);
		*arg = (*arg)->next;
		return k;
	}
	if (strcasecmp(name, "NOT") == 0 || strcasecmp(name, "OR") == 0) {
		bool or = name[0] == 'O' || name[0] == 'o';
		if ((k = node(st, or ? IMAP_SEARCH_OR : IMAP_SEARCH_NOT)) == NULL ||
		    (k->child = parse_key(st, arg, depth + 1)) == NULL)
			return NULL;
		if (or &&(k->child->next = parse_key(st, arg, depth + 1)) == NULL)
			return NULL;
		return k;
	}
	if (strcasecmp(name, "UID") == 0) {
		if ((k = node(st, IMAP_SEARCH_UIDSET)) == NULL ||
		    (k->str = take_string(st, arg)) == NULL)
			return NULL;
		if (strcmp(k->str, "$") == 0) {
			k->type = IMAP_SEARCH_SAVED;
			return k;
		}
		if (!valid_seqset(k->str)) {
			st->error = "invalid UID set";
			return NULL;
		}
		return k;
	}
	if (strcmp(name, "$") == 0)
		return node(st, IMAP_SEARCH_SAVED);
	if ((name[0] >= '1' && name[0] <= '9') || name[0] == '*') {
		if (!valid_seqset(name)) {
			st->error = "invalid sequence set";
			return NULL;
		}
		if ((k = node(st, IMAP_SEARCH_SEQSET)) != NULL)
			k->str = name;
		return k;
	}
	st->error = "unknown search key";
	return NULL;
}

int imap_search_parse(const struct imap_arg *args, struct imap_search *out,
                      const char **error_r)
{
	memset(out, 0, sizeof(*out));
	struct state st = {.out = out, .cap = count_args(args) + 1};
	out->keys = malloc(st.cap * sizeof(*out->keys));
	if (out->keys == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	out->root = parse_list(&st, args, 0);
	if (out->root == NULL) {
		*error_r = st.error ? st.error : "invalid search";
		return -1;
	}
	return 0;
}

void imap_search_free(struct imap_search *search)
{
	free(search->keys);
	memset(search, 0, sizeof(*search));
}
