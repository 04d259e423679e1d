/*
 * cmd_id.c — ID (RFC 2971): the client says what it is (logged), the
 * server answers its name. No version: nothing to help an attacker.
 */
#include "imapd/commands.h"
#include "lib/log.h"

void imap_cmd_id(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	if (count != 1 || (args->type != IMAP_ARG_LIST && args->type != IMAP_ARG_NIL)) {
		client_tagged(c, "BAD", "ID takes a list of field-value pairs or NIL");
		return;
	}
	if (args->type == IMAP_ARG_LIST) {
		if (args->len > 60 || args->len % 2) {
			client_tagged(c, "BAD", "ID takes at most 30 field-value pairs");
			return;
		}
		for (const struct imap_arg *f = args->list; f && f->next;
		     f = f->next->next) {
			const char *name = imap_arg_string(f),
			           *value = imap_arg_string(f->next);
			if (name && value)
				log_msg(
				    L_DEBUG,
				    "event=imap-client-id session=%s field=%s value=%s",
				    c->log_id, LOG_Q(name), LOG_Q(value));
		}
	}
	client_untagged(c, "ID (\"name\" \"petrel\")");
	client_tagged(c, "OK", "ID completed");
}
