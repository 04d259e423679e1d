/*
 * cmd_enable.c — ENABLE (RFC 5161): CONDSTORE, QRESYNC (which brings
 * CONDSTORE, RFC 7162 3.2.3), UTF8=ACCEPT (RFC 6855) and IMAP4rev2.
 */
#include <strings.h>

#include "imapd/commands.h"

static const struct {
	const char *name;
	unsigned bits;
} extensions[] = {
    {"CONDSTORE", IMAP_ENABLED_CONDSTORE},
    {"QRESYNC", IMAP_ENABLED_QRESYNC | IMAP_ENABLED_CONDSTORE},
    {"UTF8=ACCEPT", IMAP_ENABLED_UTF8},
    {"IMAP4rev2", IMAP_ENABLED_REV2},
};

void imap_cmd_enable(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	if (count == 0) {
		client_tagged(c, "BAD", "ENABLE needs a capability");
		return;
	}
	struct buf enabled = BUF_INIT;
	for (const struct imap_arg *a = args; a; a = a->next) {
		const char *name = a->type == IMAP_ARG_ATOM ? a->str : NULL;
		if (name == NULL) {
			client_tagged(c, "BAD", "ENABLE takes capability names");
			buf_free(&enabled);
			return;
		}
		for (size_t i = 0; i < sizeof(extensions) / sizeof(*extensions); i++)
			if (strcasecmp(extensions[i].name, name) == 0 &&
			    (c->enabled & extensions[i].bits) != extensions[i].bits) {
				c->enabled |= extensions[i].bits;
				buf_appendf(&enabled, " %s", extensions[i].name);
			}
	}
	/* RFC 6855 3: UTF-8 may now travel in quoted strings, not only as
	 * literals */
	c->writer.utf8 = (c->enabled & IMAP_ENABLED_UTF8) != 0;
	client_untagged(c, "ENABLED%s", enabled.data ? enabled.data : "");
	buf_free(&enabled);
	client_tagged(c, "OK", "Enabled");
}
