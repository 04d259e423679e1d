/*
 * cmd_namespace.c — NAMESPACE (RFC 2342): one personal namespace, no
 * prefix, "." between levels (Maildir++).
 */
#include "imapd/commands.h"

void imap_cmd_namespace(struct imap_client *c, const struct imap_arg *args,
                        unsigned count)
{
	(void)args;
	if (count) {
		client_tagged(c, "BAD", "NAMESPACE takes no arguments");
		return;
	}
	client_untagged(c, "NAMESPACE ((\"\" \".\")) NIL NIL");
	client_tagged(c, "OK", "Namespace completed");
}
