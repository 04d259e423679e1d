/*
 * cmd_create.c — CREATE (RFC 9051 6.3.4), with CREATE-SPECIAL-USE's
 * (USE (\Sent)) of RFC 6154. A trailing separator only says children
 * will follow: "Work." creates "Work".
 */
#include <string.h>
#include <strings.h>

#include <errno.h>

#include "imapd/commands.h"
#include "proto/imap_utf7.h"

void imap_cmd_create(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	char name[IMAP_MAILBOX_NAME_MAX + 1];
	if (count < 1 || count > 2) {
		client_tagged(c, "BAD", "CREATE mailbox [(USE (attributes))]");
		return;
	}
	if (!client_mailbox_arg(c, args, name))
		return;
	size_t len = strlen(name);
	if (len > 1 && name[len - 1] == MAIL_STORE_SEPARATOR)
		name[len - 1] = '\0';
	enum mail_special_use use = MAIL_SPECIAL_NONE;
	if (count == 2) {
		const struct imap_arg *p = args->next;
		const struct imap_arg *kw = p->type == IMAP_ARG_LIST ? p->list : NULL;
		const struct imap_arg *list = kw ? kw->next : NULL;
		if (kw == NULL || kw->type != IMAP_ARG_ATOM ||
		    strcasecmp(kw->str, "USE") != 0 || list == NULL ||
		    list->type != IMAP_ARG_LIST || list->next) {
			client_tagged(c, "BAD", "Unknown CREATE parameter");
			return;
		}
		for (const struct imap_arg *a = list->list; a; a = a->next) {
			enum mail_special_use u =
			    a->type == IMAP_ARG_ATOM
			        ? mail_special_use_parse(a->str, a->len)
			        : MAIL_SPECIAL_NONE;
			if (u == MAIL_SPECIAL_NONE ||
			    (use != MAIL_SPECIAL_NONE && use != u)) {
				client_tagged(c, "NO",
				              "[USEATTR] Unsupported special use");
				return;
			}
			use = u;
		}
	}
	const char *error;
	if (mail_store_create(c->store, name, use, &error) < 0) {
		client_tagged(c, "NO", "%s", client_store_error(errno, error));
		return;
	}
	client_tagged(c, "OK", "Create completed");
}
