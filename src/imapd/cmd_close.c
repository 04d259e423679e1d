/*
 * cmd_close.c — CLOSE (RFC 9051 6.4.1: messages marked \Deleted go,
 * silently, unless the folder is read-only) and UNSELECT (RFC 3691:
 * nothing goes).
 */
#include <strings.h>

#include "imapd/commands.h"
#include "lib/log.h"

void imap_cmd_close(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	(void)args;
	if (count) {
		client_tagged(c, "BAD", "%s takes no arguments", c->command);
		return;
	}
	const char *error;
	if (strcasecmp(c->command, "CLOSE") == 0 && !mailbox_readonly(c->mailbox) &&
	    mailbox_expunge(c->mailbox, NULL, 0, NULL, NULL, &error) < 0)
		log_msg(L_WARN, "event=mailbox-error session=%s user=%s error=%s",
		        c->log_id, LOG_Q(c->user), LOG_Q(error));
	client_close_mailbox(c);
	client_tagged(c, "OK", "%s completed", c->command);
}
