/*
 * cmd_getquota.c — GETQUOTA and GETQUOTAROOT (RFC 9208): one quota root
 * "" for all of a user's folders, in STORAGE (KiB), the one resource a
 * user's quota limits. SETQUOTA is refused (no QUOTASET): the
 * administrator sets quotas (petrel user quota).
 */
#include <errno.h>
#include <strings.h>

#include "imapd/commands.h"
#include "mailbox/quota.h"
#include "proto/imap_utf7.h"

static bool write_quota(struct imap_client *c)
{
	uint64_t limit = mail_store_quota(c->store), bytes, messages;
	const char *error;
	if (mail_quota_usage(mail_store_root(c->store), limit, &bytes, &messages,
	                     &error) < 0) {
		client_tagged(c, "NO", "[SERVERBUG] %s", error);
		return false;
	}
	if (limit)
		client_untagged(c, "QUOTA \"\" (STORAGE %llu %llu)",
		                (unsigned long long)((bytes + 1023) / 1024),
		                (unsigned long long)(limit / 1024));
	else
		client_untagged(c, "QUOTA \"\" ()");
	return true;
}

void imap_cmd_getquota(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	bool root = strcasecmp(c->command, "GETQUOTAROOT") == 0;
	if (count != 1) {
		client_tagged(c, "BAD", "%s %s", c->command, root ? "mailbox" : "root");
		return;
	}
	if (root) {
		char name[IMAP_MAILBOX_NAME_MAX + 1];
		if (!client_mailbox_arg(c, args, name))
			return;
		client_puts(c, "* QUOTAROOT ");
		client_write_mailbox(c, name);
		client_puts(c, " \"\"\r\n");
	} else {
		const char *r = imap_arg_astring(args);
		if (r == NULL || r[0] != '\0') {
			client_tagged(c, "NO", "[NONEXISTENT] No such quota root");
			return;
		}
	}
	if (write_quota(c))
		client_tagged(c, "OK", "%s completed", c->command);
}

void imap_cmd_setquota(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	(void)args;
	if (count != 2) {
		client_tagged(c, "BAD", "SETQUOTA root (resource limit ...)");
		return;
	}
	client_tagged(c, "NO", "[NOPERM] Quotas are set by the administrator");
}
