/*
 * cmd_delete.c — DELETE (RFC 9051 6.3.5): the folder and its messages
 * go; folders below it stay (their parent then lists as \Noselect).
 */
#include <errno.h>

#include <string.h>

#include "imapd/commands.h"
#include "proto/imap_utf7.h"

void imap_cmd_delete(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	char name[IMAP_MAILBOX_NAME_MAX + 1];
	if (count != 1) {
		client_tagged(c, "BAD", "DELETE mailbox");
		return;
	}
	if (!client_mailbox_arg(c, args, name))
		return;
	if (c->mailbox && strcmp(mailbox_name(c->mailbox), name) == 0) {
		client_tagged(c, "NO", "[INUSE] The mailbox is selected: close it first");
		return;
	}
	const char *error;
	if (mail_store_delete(c->store, name, &error) < 0) {
		client_tagged(c, "NO", "%s", client_store_error(errno, error));
		return;
	}
	client_tagged(c, "OK", "Delete completed");
}
