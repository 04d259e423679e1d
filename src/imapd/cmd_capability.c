/*
 * cmd_capability.c — CAPABILITY (RFC 9051 6.1.1): what this state of
 * the session offers.
 */
#include "imapd/commands.h"

void imap_cmd_capability(struct imap_client *c, const struct imap_arg *args,
                         unsigned count)
{
	(void)args;
	if (count) {
		client_tagged(c, "BAD", "CAPABILITY takes no arguments");
		return;
	}
	struct buf caps = BUF_INIT;
	client_capabilities(c, &caps);
	client_untagged(c, "CAPABILITY %s", caps.data);
	buf_free(&caps);
	client_tagged(c, "OK", "Capability completed");
}
