/*
 * cmd_search.c — SEARCH (RFC 9051 6.4.4) with ESEARCH's RETURN options
 * (RFC 4731) and CONDSTORE's MODSEQ key (RFC 7162 3.1.5).
 *
 * The criteria come parsed as a tree (proto/imap_search.h, bounded
 * depth); each message is tested against it, loading only what the keys
 * need: flags from the view, size and date from the index, the header
 * or the text from the file, once per message. Strings match as
 * case-insensitive substrings (ASCII case), in the raw header values
 * (unfolded) and the raw body.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd/commands.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailbox/message_file.h"
#include "proto/imap_search.h"
#include "proto/imap_seqset.h"
#include "proto/rfc5322.h"
#include "proto/rfc5322_date.h"

#define HEADER_READ_MAX (256 * 1024)
#define TEXT_PIECE      (64 * 1024)

enum {
	RETURN_MIN = 1 << 0,
	RETURN_MAX = 1 << 1,
	RETURN_ALL = 1 << 2,
	RETURN_COUNT = 1 << 3,
};

/* What one message has loaded so far. */
struct candidate {
	uint32_t seq;
	const struct mailbox_message *m;
	const struct mailbox_record *rec;
	bool header_loaded, header_failed;
	struct buf header;
};

struct search_run {
	struct imap_client *c;
	uint64_t highest_modseq; /* of the matches, for (MODSEQ n) */
	bool modseq_key;
};

static bool ci_contains(const char *hay, size_t hay_len, const char *needle, size_t len)
{
	if (len == 0)
		return true;
	for (size_t i = 0; i + len <= hay_len; i++)
		if (strncasecmp(hay + i, needle, len) == 0)
			return true;
	return false;
}

static bool load_header(struct candidate *cand)
{
	if (cand->header_loaded)
		return !cand->header_failed;
	cand->header_loaded = true;
	struct message_file f;
	const char *error;
	uint64_t len;
	if (cand->rec->expunged ||
	    message_file_open(&f, cand->rec->path, cand->rec->size, &error) < 0) {
		cand->header_failed = true;
		return false;
	}
	if (message_file_header_size(&f, &len, &error) == 0) {
		if (len > HEADER_READ_MAX)
			len = HEADER_READ_MAX;
		buf_reserve(&cand->header, (size_t)len);
		ssize_t n = message_file_read(&f, 0, cand->header.data, (size_t)len);
		cand->header.len = n > 0 ? (size_t)n : 0;
		cand->header.data[cand->header.len] = '\0';
	} else {
		cand->header_failed = true;
	}
	message_file_close(&f);
	return !cand->header_failed;
}

/* A header field's value contains str (RFC 9051: HEADER "" matches any
 * message that has the field). */
static bool header_matches(struct candidate *cand, const char *field, const char *str)
{
	if (!load_header(cand))
		return false;
	size_t pos = 0;
	struct rfc5322_field f;
	while (rfc5322_next_field(cand->header.data, cand->header.len, &pos, &f) == 1) {
		if (field && (strlen(field) != f.name_len ||
		              strncasecmp(field, f.name, f.name_len)))
			continue;
		/* unfolded: CRLF before white space is not part of the value */
		char *value = xmalloc(f.value_len + 1);
		size_t n = 0;
		for (size_t i = 0; i < f.value_len; i++)
			if (f.value[i] != '\r' && f.value[i] != '\n')
				value[n++] = f.value[i];
		bool hit = ci_contains(value, n, str, strlen(str));
		free(value);
		if (hit)
			return true;
	}
	return false;
}

/* The text after the header (or all of it) contains str: read in pieces
 * that overlap by the string's length, so memory stays bounded. */
static bool text_matches(struct candidate *cand, const char *str, bool with_header)
{
	if (cand->rec->expunged)
		return false;
	if (with_header && header_matches(cand, NULL, str))
		return true;
	struct message_file f;
	const char *error;
	if (message_file_open(&f, cand->rec->path, cand->rec->size, &error) < 0)
		return false;
	uint64_t pos;
	if (message_file_header_size(&f, &pos, &error) < 0) {
		message_file_close(&f);
		return false;
	}
	size_t len = strlen(str), keep = len ? len - 1 : 0;
	char *piece = xmalloc(TEXT_PIECE + keep);
	size_t have = 0;
	bool hit = false;
	ssize_t n;
	while (!hit && (n = message_file_read(&f, pos, piece + have, TEXT_PIECE)) > 0) {
		pos += (uint64_t)n;
		have += (size_t)n;
		hit = ci_contains(piece, have, str, len);
		size_t tail = have < keep ? have : keep;
		memmove(piece, piece + have - tail, tail);
		have = tail;
	}
	free(piece);
	message_file_close(&f);
	return hit;
}

static bool flag_matches(struct imap_client *c, const struct candidate *cand,
                         const char *name)
{
	const struct mailbox_message *m = cand->m;
	uint16_t own =
	    m->flags | (mailbox_is_recent(c->mailbox, cand->seq) ? MAIL_RECENT : 0);
	static const struct {
		const char *name;
		uint16_t flag;
	} flags[] = {{"\\Seen", MAIL_SEEN},       {"\\Answered", MAIL_ANSWERED},
	             {"\\Flagged", MAIL_FLAGGED}, {"\\Deleted", MAIL_DELETED},
	             {"\\Draft", MAIL_DRAFT},     {"\\Recent", MAIL_RECENT}};
	for (size_t i = 0; i < sizeof(flags) / sizeof(*flags); i++)
		if (strcasecmp(flags[i].name, name) == 0)
			return own & flags[i].flag;
	unsigned id;
	const char *error;
	return mailbox_keyword(c->mailbox, name, false, &id, &error) > 0 &&
	       (m->keywords & (1ull << id));
}

static int32_t day_of(int64_t t)
{
	return (int32_t)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
}

/* The Date: field's day in its own zone (RFC 9051: disregarding time
 * and timezone), or INT32_MIN. */
static int32_t sent_day(struct candidate *cand)
{
	if (!load_header(cand))
		return INT32_MIN;
	size_t pos = 0;
	struct rfc5322_field f;
	while (rfc5322_next_field(cand->header.data, cand->header.len, &pos, &f) == 1)
		if (f.name_len == 4 && strncasecmp(f.name, "Date", 4) == 0) {
			int64_t t;
			int zone;
			if (rfc5322_date_parse(f.value, f.value_len, &t, &zone) == 0)
				return day_of(t + zone);
			return INT32_MIN;
		}
	return INT32_MIN;
}

static bool matches(struct search_run *run, const struct imap_search_key *k,
                    struct candidate *cand);

static bool set_matches(struct search_run *run, const char *text, bool uid,
                        struct candidate *cand)
{
	struct imap_seq_range ranges[256];
	size_t n;
	const char *error;
	if (imap_seqset_parse(text, strlen(text), ranges, 256, &n, &error) < 0)
		return false;
	uint32_t count = mailbox_count(run->c->mailbox);
	const struct mailbox_message *last = mailbox_get(run->c->mailbox, count);
	n = imap_seqset_resolve(ranges, n, uid ? (last ? last->uid : 0) : count);
	return imap_seqset_contains(ranges, n, uid ? cand->m->uid : cand->seq);
}

static bool matches(struct search_run *run, const struct imap_search_key *k,
                    struct candidate *cand)
{
	const struct mailbox_message *m = cand->m;
	switch (k->type) {
	case IMAP_SEARCH_AND:
		for (const struct imap_search_key *sub = k->child; sub; sub = sub->next)
			if (!matches(run, sub, cand))
				return false;
		return true;
	case IMAP_SEARCH_OR:
		return matches(run, k->child, cand) ||
		       (k->child->next && matches(run, k->child->next, cand));
	case IMAP_SEARCH_NOT:
		return !matches(run, k->child, cand);
	case IMAP_SEARCH_ALL:
		return true;
	case IMAP_SEARCH_FLAG:
		return flag_matches(run->c, cand, k->str);
	case IMAP_SEARCH_UNFLAG:
		return !flag_matches(run->c, cand, k->str);
	case IMAP_SEARCH_NEW:
		return mailbox_is_recent(run->c->mailbox, cand->seq) &&
		       !(m->flags & MAIL_SEEN);
	case IMAP_SEARCH_OLD:
		return !mailbox_is_recent(run->c->mailbox, cand->seq);
	case IMAP_SEARCH_HEADER:
		return header_matches(cand, k->field, k->str);
	case IMAP_SEARCH_BODY:
		return text_matches(cand, k->str, false);
	case IMAP_SEARCH_TEXT:
		return text_matches(cand, k->str, true);
	case IMAP_SEARCH_BEFORE:
		return !cand->rec->expunged && day_of(cand->rec->internaldate) < k->day;
	case IMAP_SEARCH_ON:
		return !cand->rec->expunged && day_of(cand->rec->internaldate) == k->day;
	case IMAP_SEARCH_SINCE:
		return !cand->rec->expunged && day_of(cand->rec->internaldate) >= k->day;
	case IMAP_SEARCH_SENTBEFORE: {
		int32_t d = sent_day(cand);
		return d != INT32_MIN && d < k->day;
	}
	case IMAP_SEARCH_SENTON:
		return sent_day(cand) == k->day;
	case IMAP_SEARCH_SENTSINCE: {
		int32_t d = sent_day(cand);
		return d != INT32_MIN && d >= k->day;
	}
	case IMAP_SEARCH_LARGER:
		return !cand->rec->expunged && cand->rec->size > k->number;
	case IMAP_SEARCH_SMALLER:
		return !cand->rec->expunged && cand->rec->size < k->number;
	case IMAP_SEARCH_SEQSET:
		return set_matches(run, k->str, false, cand);
	case IMAP_SEARCH_UIDSET:
		return set_matches(run, k->str, true, cand);
	case IMAP_SEARCH_MODSEQ:
		run->modseq_key = true;
		return m->modseq >= k->number;
	case IMAP_SEARCH_SAVED:
		return false;
	}
	return false;
}

static unsigned wants(const struct imap_search_key *k)
{
	unsigned want = 0;
	for (; k; k = k->next) {
		switch (k->type) {
		case IMAP_SEARCH_BEFORE:
		case IMAP_SEARCH_ON:
		case IMAP_SEARCH_SINCE:
			want |= MAILBOX_WANT_DATE;
			break;
		case IMAP_SEARCH_LARGER:
		case IMAP_SEARCH_SMALLER:
		case IMAP_SEARCH_HEADER:
		case IMAP_SEARCH_BODY:
		case IMAP_SEARCH_TEXT:
		case IMAP_SEARCH_SENTBEFORE:
		case IMAP_SEARCH_SENTON:
		case IMAP_SEARCH_SENTSINCE:
			want |= MAILBOX_WANT_SIZE;
			break;
		default:
			break;
		}
		want |= wants(k->child);
	}
	return want;
}

static bool uses_saved(const struct imap_search_key *k)
{
	for (; k; k = k->next)
		if (k->type == IMAP_SEARCH_SAVED || uses_saved(k->child))
			return true;
	return false;
}

/* [RETURN (options)] [CHARSET name]; the keys follow. */
static const struct imap_arg *options(struct imap_client *c, const struct imap_arg *a,
                                      unsigned *ret, bool *esearch, bool *bad_charset)
{
	*ret = 0;
	*esearch = false;
	*bad_charset = false;
	if (a && a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "RETURN") == 0 &&
	    a->next && a->next->type == IMAP_ARG_LIST) {
		*esearch = true;
		for (const struct imap_arg *o = a->next->list; o; o = o->next) {
			const char *name = o->type == IMAP_ARG_ATOM ? o->str : "";
			if (strcasecmp(name, "MIN") == 0)
				*ret |= RETURN_MIN;
			else if (strcasecmp(name, "MAX") == 0)
				*ret |= RETURN_MAX;
			else if (strcasecmp(name, "ALL") == 0)
				*ret |= RETURN_ALL;
			else if (strcasecmp(name, "COUNT") == 0)
				*ret |= RETURN_COUNT;
			else
				return NULL;
		}
		if (*ret == 0)
			*ret = RETURN_ALL; /* RFC 4731 3.1: () means ALL */
		a = a->next->next;
	}
	if (a && a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "CHARSET") == 0) {
		const char *cs = a->next ? imap_arg_astring(a->next) : NULL;
		if (cs == NULL)
			return NULL;
		*bad_charset =
		    strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "US-ASCII") != 0;
		a = a->next->next;
	}
	/* IMAP4rev2 answers ESEARCH always (RFC 9051 6.4.4). */
	if ((c->enabled & IMAP_ENABLED_REV2) && !*esearch) {
		*esearch = true;
		*ret = RETURN_ALL;
	}
	return a;
}

bool client_search(struct imap_client *c, const struct imap_arg *keys, uint32_t **seqs_r,
                   size_t *count_r, struct search_result *result)
{
	struct imap_search search;
	const char *error;
	*seqs_r = NULL;
	*count_r = 0;
	if (imap_search_parse(keys, &search, &error) < 0) {
		client_tagged(c, "BAD", "%s", error);
		imap_search_free(&search);
		return false;
	}
	if (uses_saved(search.root)) {
		client_tagged(c, "BAD", "[NOTSAVED] No saved search result");
		imap_search_free(&search);
		return false;
	}
	uint32_t n = mailbox_count(c->mailbox);
	uint32_t *uids = xcalloc(n + 1, sizeof(*uids)),
	         *found = xcalloc(n + 1, sizeof(*found));
	for (uint32_t i = 0; i < n; i++)
		uids[i] = mailbox_get(c->mailbox, i + 1)->uid;
	struct mailbox_cursor *cursor =
	    mailbox_cursor_open(c->mailbox, uids, n, wants(search.root));
	struct search_run run = {.c = c};
	size_t hits = 0;
	int r = 0;
	for (uint32_t seq = 1; seq <= n; seq++) {
		struct mailbox_record rec;
		r = mailbox_cursor_next(cursor, &rec, &error);
		if (r <= 0)
			break;
		struct candidate cand = {
		    .seq = seq, .m = mailbox_get(c->mailbox, seq), .rec = &rec};
		if (!cand.m->expunged && matches(&run, search.root, &cand)) {
			found[hits++] = seq;
			if (cand.m->modseq > run.highest_modseq)
				run.highest_modseq = cand.m->modseq;
		}
		buf_free(&cand.header);
	}
	mailbox_cursor_close(&cursor);
	imap_search_free(&search);
	free(uids);
	if (r < 0) {
		free(found);
		client_tagged(c, "NO", "[SERVERBUG] %s", error);
		return false;
	}
	*seqs_r = found;
	*count_r = hits;
	result->highest_modseq = run.highest_modseq;
	result->modseq_key = run.modseq_key;
	return true;
}

void imap_cmd_search(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	(void)count;
	unsigned ret;
	bool esearch, bad_charset;
	const struct imap_arg *keys = options(c, args, &ret, &esearch, &bad_charset);
	if (keys == NULL) {
		client_tagged(c, "BAD", "SEARCH [RETURN (options)] [CHARSET name] keys");
		return;
	}
	if (bad_charset) {
		client_tagged(c, "NO",
		              "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return;
	}
	uint32_t *found;
	size_t hits;
	struct search_result result;
	if (!client_search(c, keys, &found, &hits, &result))
		return;
	struct search_run run = {.c = c,
	                         .highest_modseq = result.highest_modseq,
	                         .modseq_key = result.modseq_key};
	if (c->uid)
		for (size_t i = 0; i < hits; i++)
			found[i] = mailbox_get(c->mailbox, found[i])->uid;
	struct buf out = BUF_INIT;
	if (esearch) {
		buf_appendf(&out, "ESEARCH (TAG \"%s\")%s", c->tag, c->uid ? " UID" : "");
		if ((ret & RETURN_MIN) && hits)
			buf_appendf(&out, " MIN %u", found[0]);
		if ((ret & RETURN_MAX) && hits)
			buf_appendf(&out, " MAX %u", found[hits - 1]);
		if ((ret & RETURN_ALL) && hits) {
			buf_append_str(&out, " ALL ");
			struct buf set = BUF_INIT;
			client_uid_set(&set, found, hits);
			buf_append(&out, set.data, set.len);
			buf_free(&set);
		}
		if (ret & RETURN_COUNT)
			buf_appendf(&out, " COUNT %zu", hits);
		if (run.modseq_key && hits)
			buf_appendf(&out, " MODSEQ %llu",
			            (unsigned long long)run.highest_modseq);
	} else {
		buf_append_str(&out, "SEARCH");
		for (size_t i = 0; i < hits; i++)
			buf_appendf(&out, " %u", found[i]);
		if (run.modseq_key && hits)
			buf_appendf(&out, " (MODSEQ %llu)",
			            (unsigned long long)run.highest_modseq);
	}
	client_untagged(c, "%s", out.data);
	buf_free(&out);
	free(found);
	client_tagged(c, "OK", "Search completed");
}

bool client_search_charset(struct imap_client *c, const struct imap_arg *arg)
{
	const char *cs = arg ? imap_arg_astring(arg) : NULL;
	if (cs == NULL) {
		client_tagged(c, "BAD", "Missing charset");
		return false;
	}
	if (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "US-ASCII") != 0) {
		client_tagged(c, "NO",
		              "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return false;
	}
	return true;
}
