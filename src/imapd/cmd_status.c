/*
 * cmd_status.c — STATUS (RFC 9051 6.3.11; SIZE of RFC 8438,
 * HIGHESTMODSEQ of RFC 7162), also written for LIST-STATUS (RFC 5819).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "imapd/commands.h"
#include "proto/imap_utf7.h"

static const char *const item_names[] = {
    "MESSAGES", "RECENT",        "UIDNEXT", "UIDVALIDITY", "UNSEEN",
    "SIZE",     "HIGHESTMODSEQ", "DELETED", NULL,
};

bool client_status_items(const struct imap_arg *list, unsigned *items_r)
{
	*items_r = 0;
	if (list == NULL || list->type != IMAP_ARG_LIST || list->list == NULL)
		return false;
	for (const struct imap_arg *a = list->list; a; a = a->next) {
		if (a->type != IMAP_ARG_ATOM)
			return false;
		size_t i = 0;
		while (item_names[i] && strcasecmp(item_names[i], a->str) != 0)
			i++;
		if (item_names[i] == NULL)
			return false;
		*items_r |= 1u << i;
	}
	return true;
}

int client_write_status(struct imap_client *c, const char *name, unsigned items,
                        const char **error_r)
{
	struct mail_folder_status st;
	/* The selected folder's own view is what the client knows. */
	if (mail_store_status(c->store, name, &st, error_r) < 0)
		return -1;
	uint64_t values[] = {st.messages, st.recent, st.uidnext,       st.uidvalidity,
	                     st.unseen,   st.size,   st.highestmodseq, 0};
	struct buf out = BUF_INIT;
	for (size_t i = 0; item_names[i]; i++) {
		if (!(items & (1u << i)))
			continue;
		if (i == 7) { /* DELETED: messages marked \Deleted (RFC 9051) */
			continue;
		}
		buf_appendf(&out, "%s%s %llu", out.len ? " " : "", item_names[i],
		            (unsigned long long)values[i]);
	}
	client_puts(c, "* STATUS ");
	client_write_mailbox(c, name);
	conn_printf(c->conn, " (%s)\r\n", out.data ? out.data : "");
	buf_free(&out);
	return 0;
}

void imap_cmd_status(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	char name[IMAP_MAILBOX_NAME_MAX + 1];
	unsigned items;
	if (count != 2 || !client_status_items(args->next, &items)) {
		client_tagged(c, "BAD", "STATUS mailbox (items)");
		return;
	}
	if (!client_mailbox_arg(c, args, name))
		return;
	const char *error;
	if (client_write_status(c, name, items, &error) < 0) {
		client_tagged(c, "NO", "%s", client_store_error(errno, error));
		return;
	}
	client_tagged(c, "OK", "Status completed");
}
