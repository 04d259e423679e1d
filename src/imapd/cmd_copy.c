/*
 * cmd_copy.c — COPY (RFC 9051 6.4.7) and MOVE (RFC 6851), with
 * UIDPLUS's COPYUID (RFC 4315): the client learns the new UIDs without
 * searching for its messages again.
 */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "imapd/commands.h"
#include "proto/imap_utf7.h"

extern const struct mailbox_notify client_expunge_notify; /* cmd_expunge.c */

void imap_cmd_copy(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	bool move = strcasecmp(c->command, "MOVE") == 0;
	char dest[IMAP_MAILBOX_NAME_MAX + 1];
	if (count != 2) {
		client_tagged(c, "BAD", "%s set mailbox", c->command);
		return;
	}
	if (!client_mailbox_arg(c, args->next, dest))
		return;
	if (move && mailbox_readonly(c->mailbox)) {
		client_tagged(c, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	uint32_t *seqs;
	size_t n;
	if (!client_sequence_set(c, args, c->uid, &seqs, &n))
		return;
	struct mailbox_copy_result result;
	const char *error;
	int r = mailbox_copy(c->mailbox, seqs, n, dest, move, &result, &error);
	free(seqs);
	if (r < 0) {
		if (errno == ENOENT)
			client_tagged(c, "NO", "[TRYCREATE] No such mailbox");
		else
			client_tagged(c, "NO", "%s", client_store_error(errno, error));
		return;
	}
	struct buf code = BUF_INIT;
	if (result.count) {
		struct buf from = BUF_INIT, to = BUF_INIT;
		client_uid_set(&from, result.source_uids, result.count);
		client_uid_set(&to, result.dest_uids, result.count);
		buf_appendf(&code, "[COPYUID %u %s %s] ", result.uidvalidity, from.data,
		            to.data);
		buf_free(&from);
		buf_free(&to);
	}
	if (move) {
		/* RFC 6851 4.3: COPYUID comes untagged, before the expunges. */
		if (result.count)
			client_untagged(c, "OK %sMoved", code.data);
		mailbox_announce_expunged(c->mailbox, &client_expunge_notify, c);
		client_tagged(c, "OK", "Move completed");
	} else {
		client_tagged(c, "OK", "%sCopy completed", code.data ? code.data : "");
	}
	mailbox_copy_result_clear(&result);
	buf_free(&code);
}
