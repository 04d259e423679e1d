/*
 * cmd_subscribe.c — SUBSCRIBE and UNSUBSCRIBE (RFC 9051 6.3.7, 6.3.8).
 */
#include <errno.h>
#include <strings.h>

#include "imapd/commands.h"
#include "proto/imap_utf7.h"

void imap_cmd_subscribe(struct imap_client *c, const struct imap_arg *args,
                        unsigned count)
{
	char name[IMAP_MAILBOX_NAME_MAX + 1];
	if (count != 1) {
		client_tagged(c, "BAD", "%s mailbox", c->command);
		return;
	}
	if (!client_mailbox_arg(c, args, name))
		return;
	bool subscribe = strcasecmp(c->command, "SUBSCRIBE") == 0;
	const char *error;
	if (mail_store_subscribe(c->store, name, subscribe, &error) < 0) {
		client_tagged(c, "NO", "%s", client_store_error(errno, error));
		return;
	}
	client_tagged(c, "OK", "%s completed", subscribe ? "Subscribe" : "Unsubscribe");
}
