/*
 * cmd_sort.c — SORT (RFC 5256 3): the messages a search finds, ordered
 * by ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT or TO (each optionally
 * REVERSE); ties keep sequence order.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd/commands.h"
#include "imapd/sort_keys.h"
#include "lib/xalloc.h"

enum sort_key {
	SORT_ARRIVAL,
	SORT_CC,
	SORT_DATE,
	SORT_FROM,
	SORT_SIZE,
	SORT_SUBJECT,
	SORT_TO
};

struct criterion {
	enum sort_key key;
	bool reverse;
};

#define CRITERIA_MAX 16

/* qsort has no context argument: the criteria of the sort under way. */
static const struct criterion *current;
static size_t current_count;

static int compare_text(const char *a, const char *b)
{
	return strcasecmp(a ? a : "", b ? b : "");
}

static int compare_numbers(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int compare(const void *pa, const void *pb)
{
	const struct message_keys *a = pa, *b = pb;
	for (size_t i = 0; i < current_count; i++) {
		int r = 0;
		switch (current[i].key) {
		case SORT_ARRIVAL:
			r = compare_numbers(a->arrival, b->arrival);
			break;
		case SORT_DATE:
			r = compare_numbers(a->sent, b->sent);
			break;
		case SORT_SIZE:
			r = compare_numbers((int64_t)a->size, (int64_t)b->size);
			break;
		case SORT_SUBJECT:
			r = compare_text(a->subject, b->subject);
			break;
		case SORT_FROM:
			r = compare_text(a->from, b->from);
			break;
		case SORT_TO:
			r = compare_text(a->to, b->to);
			break;
		case SORT_CC:
			r = compare_text(a->cc, b->cc);
			break;
		}
		if (r)
			return current[i].reverse ? -r : r;
	}
	return compare_numbers(a->seq, b->seq); /* RFC 5256: sequence order */
}

static bool parse_criteria(const struct imap_arg *list, struct criterion *out,
                           size_t *count)
{
	static const char *const names[] = {"ARRIVAL", "CC",      "DATE", "FROM",
	                                    "SIZE",    "SUBJECT", "TO"};
	*count = 0;
	if (list == NULL || list->type != IMAP_ARG_LIST || list->list == NULL)
		return false;
	bool reverse = false;
	for (const struct imap_arg *a = list->list; a; a = a->next) {
		if (a->type != IMAP_ARG_ATOM)
			return false;
		if (strcasecmp(a->str, "REVERSE") == 0) {
			reverse = true;
			continue;
		}
		size_t i = 0;
		while (i < sizeof(names) / sizeof(*names) &&
		       strcasecmp(names[i], a->str) != 0)
			i++;
		if (i == sizeof(names) / sizeof(*names) || *count == CRITERIA_MAX)
			return false;
		out[(*count)++] = (struct criterion){(enum sort_key)i, reverse};
		reverse = false;
	}
	return *count > 0 && !reverse;
}

void imap_cmd_sort(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	struct criterion criteria[CRITERIA_MAX];
	size_t n;
	if (count < 3 || !parse_criteria(args, criteria, &n)) {
		client_tagged(c, "BAD", "SORT (criteria) charset keys");
		return;
	}
	size_t hits;
	struct message_keys *keys = sort_keys_search(c, args->next, &hits);
	if (keys == NULL)
		return;
	current = criteria;
	current_count = n;
	qsort(keys, hits, sizeof(*keys), compare);
	struct buf out = BUF_INIT;
	buf_append_str(&out, "SORT");
	for (size_t i = 0; i < hits; i++)
		buf_appendf(&out, " %u", c->uid ? keys[i].uid : keys[i].seq);
	client_untagged(c, "%s", out.data);
	buf_free(&out);
	sort_keys_free(keys, hits);
	client_tagged(c, "OK", "Sort completed");
}
