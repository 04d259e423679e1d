/*
 * cmd_idle.c — IDLE (RFC 2177): the client waits; changes to its folder
 * (a delivery, another session's flags) reach it as they happen, woken
 * by inotify on the folder's new/ and cur/ (imapd.c), until DONE.
 */
#include <string.h>
#include <strings.h>

#include "imapd/commands.h"

void imap_cmd_idle(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	(void)args;
	if (count) {
		client_tagged(c, "BAD", "IDLE takes no arguments");
		return;
	}
	client_puts(c, "+ idling\r\n");
	c->idling = true;
	if (c->mailbox) {
		imapd_watch_add(c->server, c, mailbox_path(c->mailbox));
		client_refresh(c, true);
	}
}

void client_idle_line(struct imap_client *c, const char *line, size_t len)
{
	c->idling = false;
	imapd_watch_remove(c->server, c);
	if (line && len == 4 && strncasecmp(line, "DONE", 4) == 0)
		client_tagged(c, "OK", "Idle completed");
	else
		client_tagged(c, "BAD", "Expected DONE");
}
