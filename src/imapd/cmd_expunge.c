/*
 * cmd_expunge.c — EXPUNGE (RFC 9051 6.4.3) and UID EXPUNGE (RFC 4315
 * 2.1): messages marked \Deleted go, each announced (as VANISHED once
 * QRESYNC is on, RFC 7162 3.2.10).
 */
#include <errno.h>
#include <stdlib.h>

#include "imapd/commands.h"
#include "lib/xalloc.h"

static void on_expunge(void *ctx, uint32_t seq, uint32_t uid)
{
	struct imap_client *c = ctx;
	if (c->enabled & IMAP_ENABLED_QRESYNC)
		client_untagged(c, "VANISHED %u", uid);
	else
		client_untagged(c, "%u EXPUNGE", seq);
}

const struct mailbox_notify client_expunge_notify = {.expunge = on_expunge};

void imap_cmd_expunge(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	if (count != (c->uid ? 1u : 0u)) {
		client_tagged(c, "BAD",
		              c->uid ? "UID EXPUNGE set" : "EXPUNGE takes no arguments");
		return;
	}
	if (mailbox_readonly(c->mailbox)) {
		client_tagged(c, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	uint32_t *uids = NULL;
	size_t n = 0;
	if (c->uid) {
		uint32_t *seqs;
		if (!client_sequence_set(c, args, true, &seqs, &n))
			return;
		uids = xcalloc(n + 1, sizeof(*uids));
		for (size_t i = 0; i < n; i++)
			uids[i] = mailbox_get(c->mailbox, seqs[i])->uid;
		free(seqs);
	}
	const char *error;
	int r = mailbox_expunge(c->mailbox, c->uid ? uids : NULL, n,
	                        &client_expunge_notify, c, &error);
	free(uids);
	if (r < 0) {
		client_tagged(c, "NO", "%s", client_store_error(errno, error));
		return;
	}
	client_tagged(c, "OK", "Expunge completed");
}
