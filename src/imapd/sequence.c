/*
 * sequence.c — a sequence set argument (proto/imap_seqset.h) applied to
 * the selected folder: the sequence numbers it names.
 */
#include <stdlib.h>

#include "imapd/commands.h"
#include "lib/xalloc.h"
#include "proto/imap_seqset.h"

#define RANGES_MAX 100000

bool client_sequence_set(struct imap_client *c, const struct imap_arg *arg, bool uid,
                         uint32_t **seqs_r, size_t *count_r)
{
	*seqs_r = NULL;
	*count_r = 0;
	const char *text = arg && arg->type == IMAP_ARG_ATOM ? arg->str : NULL;
	if (text == NULL) {
		client_tagged(c, "BAD", "Missing sequence set");
		return false;
	}
	size_t max = 1;
	for (const char *p = text; *p; p++)
		max += *p == ',';
	if (max > RANGES_MAX) {
		client_tagged(c, "BAD", "Sequence set too long");
		return false;
	}
	struct imap_seq_range *ranges = xcalloc(max, sizeof(*ranges));
	size_t n;
	const char *error;
	if (imap_seqset_parse(text, arg->len, ranges, max, &n, &error) < 0) {
		client_tagged(c, "BAD", "Invalid sequence set: %s", error);
		free(ranges);
		return false;
	}
	uint32_t count = mailbox_count(c->mailbox);
	if (!uid && count == 0) { /* no sequence number exists, "*" included */
		client_tagged(c, "BAD",
		              "Invalid message sequence number: the mailbox is empty");
		free(ranges);
		return false;
	}
	const struct mailbox_message *last = mailbox_get(c->mailbox, count);
	uint32_t star = uid ? (last ? last->uid : 0) : count;
	n = imap_seqset_resolve(ranges, n, star);
	uint32_t *seqs = NULL;
	size_t found = 0, cap = 0;
	for (size_t i = 0; i < n; i++) {
		if (!uid) {
			/* Sequence numbers must exist (RFC 9051 9, seq-number). */
			if (ranges[i].hi > count) {
				client_tagged(c, "BAD",
				              "Invalid message sequence number");
				free(ranges);
				free(seqs);
				return false;
			}
			xgrow((void **)&seqs, &cap,
			      found + (ranges[i].hi - ranges[i].lo) + 1, sizeof(*seqs));
			for (uint64_t s = ranges[i].lo; s <= ranges[i].hi; s++)
				seqs[found++] = (uint32_t)s;
			continue;
		}
		/* UIDs need not exist: those that do, found by binary search. */
		uint32_t from;
		mailbox_seq_of_uid(c->mailbox, ranges[i].lo, &from);
		for (uint32_t s = from; s <= count; s++) {
			const struct mailbox_message *m = mailbox_get(c->mailbox, s);
			if (m->uid > ranges[i].hi)
				break;
			xgrow((void **)&seqs, &cap, found + 1, sizeof(*seqs));
			seqs[found++] = s;
		}
	}
	free(ranges);
	*seqs_r = seqs;
	*count_r = found;
	return true;
}

void client_uid_set(struct buf *out, const uint32_t *uids, size_t count)
{
	for (size_t i = 0; i < count;) {
		size_t j = i;
		while (j + 1 < count && uids[j + 1] == uids[j] + 1)
			j++;
		if (j > i)
			buf_appendf(out, "%s%u:%u", out->len ? "," : "", uids[i],
			            uids[j]);
		else
			buf_appendf(out, "%s%u", out->len ? "," : "", uids[i]);
		i = j + 1;
	}
}
