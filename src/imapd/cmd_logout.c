/*
 * cmd_logout.c — LOGOUT (RFC 9051 6.1.3): BYE, the tagged OK, then the
 * connection closes once both have left.
 */
#include "imapd/commands.h"

void imap_cmd_logout(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	(void)args;
	if (count) {
		client_tagged(c, "BAD", "LOGOUT takes no arguments");
		return;
	}
	client_untagged(c, "BYE Logging out");
	client_close_mailbox(c);
	client_tagged(c, "OK", "Logout completed");
	c->state = IMAP_STATE_LOGOUT;
	c->closing = true;
	conn_close_after_flush(c->conn);
	conn_set_idle_timeout(c->conn, 30);
}
