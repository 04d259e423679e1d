/*
 * cmd_noop.c — NOOP and CHECK (RFC 9051 6.1.2; CHECK of RFC 3501
 * 6.4.1): nothing but the folder's news, which precede every tagged
 * reply anyway (client_tagged).
 */
#include "imapd/commands.h"

void imap_cmd_noop(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	(void)args;
	if (count) {
		client_tagged(c, "BAD", "%s takes no arguments", c->command);
		return;
	}
	client_tagged(c, "OK", "%s completed", c->command);
}
