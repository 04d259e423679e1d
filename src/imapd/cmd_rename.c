/*
 * cmd_rename.c — RENAME (RFC 9051 6.3.6): the folder and those below it;
 * renaming INBOX moves its messages into the new folder.
 */
#include <errno.h>
#include <string.h>

#include "imapd/commands.h"
#include "proto/imap_utf7.h"

void imap_cmd_rename(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	char from[IMAP_MAILBOX_NAME_MAX + 1], to[IMAP_MAILBOX_NAME_MAX + 1];
	if (count != 2) {
		client_tagged(c, "BAD", "RENAME from to");
		return;
	}
	if (!client_mailbox_arg(c, args, from) || !client_mailbox_arg(c, args->next, to))
		return;
	const char *error;
	if (mail_store_rename(c->store, from, to, &error) < 0) {
		client_tagged(c, "NO", "%s", client_store_error(errno, error));
		return;
	}
	client_tagged(c, "OK", "Rename completed");
}
