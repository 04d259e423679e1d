/*
 * cmd_select.c — SELECT and EXAMINE (RFC 9051 6.3.2, 6.3.3), with
 * CONDSTORE's HIGHESTMODSEQ and QRESYNC's resynchronisation (RFC 7162
 * 3.2.5): what a phone needs to catch up cheaply — the UIDs expunged
 * and the messages changed since the state it remembers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd/commands.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "proto/imap_seqset.h"
#include "proto/imap_utf7.h"

struct qresync {
	bool on;
	uint32_t uidvalidity;
	uint64_t modseq;
	const struct imap_arg *known_uids;
};

static bool number(const struct imap_arg *a, uint64_t max, uint64_t *out)
{
	if (a == NULL || a->type != IMAP_ARG_ATOM || a->str[0] == '\0')
		return false;
	char *end;
	unsigned long long v = strtoull(a->str, &end, 10);
	if (*end || v == 0 || v > max || a->str[0] == '0')
		return false;
	*out = v;
	return true;
}

/* (CONDSTORE) or (QRESYNC (uidvalidity modseq [known-uids ...])) */
static bool parameters(struct imap_client *c, const struct imap_arg *list,
                       struct qresync *q)
{
	for (const struct imap_arg *a = list->list; a; a = a->next) {
		if (a->type != IMAP_ARG_ATOM)
			return false;
		if (strcasecmp(a->str, "CONDSTORE") == 0) {
			c->enabled |= IMAP_ENABLED_CONDSTORE;
			continue;
		}
		if (strcasecmp(a->str, "QRESYNC") != 0 ||
		    !(c->enabled & IMAP_ENABLED_QRESYNC))
			return false;
		const struct imap_arg *p = a->next;
		uint64_t validity, modseq;
		if (p == NULL || p->type != IMAP_ARG_LIST ||
		    !number(p->list, UINT32_MAX, &validity) ||
		    !number(p->list->next, INT64_MAX, &modseq))
			return false;
		q->on = true;
		q->uidvalidity = (uint32_t)validity;
		q->modseq = modseq;
		q->known_uids = p->list->next->next;
		a = p;
	}
	return true;
}

/* VANISHED (EARLIER) and the changed messages' FETCH (RFC 7162 3.2.5.1). */
static void resync(struct imap_client *c, const struct qresync *q)
{
	if (q->uidvalidity != mailbox_uidvalidity(c->mailbox))
		return;
	uint32_t *uids;
	size_t n;
	const char *error;
	if (mailbox_vanished_since(c->mailbox, q->modseq, &uids, &n, &error) < 0) {
		log_msg(L_WARN, "event=mailbox-error session=%s error=%s", c->log_id,
		        LOG_Q(error));
		return;
	}
	struct imap_seq_range known[1024];
	size_t known_count = 0;
	const char *known_text = q->known_uids && q->known_uids->type == IMAP_ARG_ATOM
	                             ? q->known_uids->str
	                             : NULL;
	if (known_text && imap_seqset_parse(known_text, strlen(known_text), known, 1024,
	                                    &known_count, &error) == 0)
		known_count = imap_seqset_resolve(known, known_count, UINT32_MAX);
	else
		known_text = NULL;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (!known_text || imap_seqset_contains(known, known_count, uids[i]))
			uids[kept++] = uids[i];
	if (kept) {
		struct buf set = BUF_INIT;
		client_uid_set(&set, uids, kept);
		client_untagged(c, "VANISHED (EARLIER) %s", set.data);
		buf_free(&set);
	}
	free(uids);
	for (uint32_t seq = 1; seq <= mailbox_count(c->mailbox); seq++) {
		const struct mailbox_message *m = mailbox_get(c->mailbox, seq);
		if (m->modseq <= q->modseq)
			continue;
		conn_printf(c->conn, "* %u FETCH (UID %u ", seq, m->uid);
		client_write_flags(c, seq);
		conn_printf(c->conn, " MODSEQ (%llu))\r\n",
		            (unsigned long long)m->modseq);
	}
}

void imap_cmd_select(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	char name[IMAP_MAILBOX_NAME_MAX + 1];
	bool readonly = strcasecmp(c->command, "EXAMINE") == 0;
	struct qresync q = {0};
	if (count < 1 || count > 2 ||
	    (count == 2 &&
	     (args->next->type != IMAP_ARG_LIST || !parameters(c, args->next, &q)))) {
		client_tagged(c, "BAD", "%s mailbox [(CONDSTORE) | (QRESYNC (...))]",
		              c->command);
		return;
	}
	if (!client_mailbox_arg(c, args, name))
		return;
	/* The old folder closes whatever happens (RFC 9051 6.3.2). */
	if (c->mailbox) {
		client_close_mailbox(c);
		client_untagged(c, "OK [CLOSED] Previous mailbox closed");
	}
	const char *error;
	if (mailbox_open(c->store, name, readonly, &c->mailbox, &error) < 0) {
		client_tagged(c, "NO", "%s", client_store_error(errno, error));
		return;
	}
	c->state = IMAP_STATE_SELECTED;
	struct mailbox *mb = c->mailbox;
	client_write_flags_list(c);
	client_untagged(c, "%u EXISTS", mailbox_count(mb));
	if (!(c->enabled & IMAP_ENABLED_REV2)) {
		client_untagged(c, "%u RECENT", mailbox_recent_count(mb));
		for (uint32_t seq = 1; seq <= mailbox_count(mb); seq++)
			if (!(mailbox_get(mb, seq)->flags & MAIL_SEEN)) {
				client_untagged(c, "OK [UNSEEN %u] First unseen", seq);
				break;
			}
	}
	client_untagged(c, "OK [UIDVALIDITY %u] UIDs valid", mailbox_uidvalidity(mb));
	client_untagged(c, "OK [UIDNEXT %u] Predicted next UID", mailbox_uidnext(mb));
	client_untagged(c, "OK [HIGHESTMODSEQ %llu] Highest",
	                (unsigned long long)mailbox_highestmodseq(mb));
	if (c->enabled & IMAP_ENABLED_REV2) { /* RFC 9051 6.3.2: the name as stored */
		client_puts(c, "* LIST () \".\" ");
		client_write_mailbox(c, mailbox_name(mb));
		client_write(c, "\r\n", 2);
	}
	if (q.on)
		resync(c, &q);
	client_tagged(c, "OK", "[%s] %s completed", readonly ? "READ-ONLY" : "READ-WRITE",
	              c->command);
}
