/*
 * cmd_store.c — STORE (RFC 9051 6.4.6) with CONDSTORE's UNCHANGEDSINCE
 * (RFC 7162 3.1.3): flags and keywords set, added or removed; each
 * message's new flags announced unless .SILENT; messages changed by
 * someone else since the client's modseq are left alone and named in
 * [MODIFIED].
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd/commands.h"
#include "lib/xalloc.h"

struct store_run {
	struct imap_client *c;
	uint32_t *refused;
	size_t refused_count, refused_cap;
};

static void on_refused(void *ctx, uint32_t seq)
{
	struct store_run *run = ctx;
	xgrow((void **)&run->refused, &run->refused_cap, run->refused_count + 1,
	      sizeof(*run->refused));
	run->refused[run->refused_count++] = seq;
}

static bool refused(const struct store_run *run, uint32_t seq)
{
	for (size_t i = 0; i < run->refused_count; i++)
		if (run->refused[i] == seq)
			return true;
	return false;
}

void imap_cmd_store(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	const struct imap_arg *set = args, *a = args ? args->next : NULL;
	uint64_t unchanged_since = 0;
	if (a && a->type == IMAP_ARG_LIST) { /* (UNCHANGEDSINCE n) */
		const struct imap_arg *k = a->list;
		char *end = NULL;
		if (k && k->type == IMAP_ARG_ATOM &&
		    strcasecmp(k->str, "UNCHANGEDSINCE") == 0 && k->next &&
		    k->next->type == IMAP_ARG_ATOM && !k->next->next)
			unchanged_since = strtoull(k->next->str, &end, 10);
		if (end == NULL || *end || unchanged_since == 0) {
			client_tagged(c, "BAD", "Invalid STORE modifier");
			return;
		}
		c->enabled |= IMAP_ENABLED_CONDSTORE;
		a = a->next;
	}
	const char *item = a && a->type == IMAP_ARG_ATOM ? a->str : NULL;
	if (count < 3 || item == NULL || a->next == NULL || a->next->next) {
		client_tagged(
		    c, "BAD",
		    "STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] (flags)");
		return;
	}
	struct mailbox_flags_change change = {.op = MAILBOX_FLAGS_SET,
	                                      .unchanged_since = unchanged_since};
	if (item[0] == '+' || item[0] == '-')
		change.op = *item++ == '+' ? MAILBOX_FLAGS_ADD : MAILBOX_FLAGS_REMOVE;
	bool silent = strcasecmp(item, "FLAGS.SILENT") == 0;
	if (!silent && strcasecmp(item, "FLAGS") != 0) {
		client_tagged(c, "BAD", "Unknown STORE item");
		return;
	}
	const char *names[MAIL_KEYWORDS_MAX];
	size_t name_count;
	if (!client_parse_flags(c, a->next, &change.flags, names, &name_count))
		return;
	if (mailbox_readonly(c->mailbox)) {
		client_tagged(c, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	const char *error;
	for (size_t i = 0; i < name_count; i++) {
		unsigned id;
		int found = mailbox_keyword(
		    c->mailbox, names[i], change.op != MAILBOX_FLAGS_REMOVE, &id, &error);
		if (found < 0) {
			client_tagged(c, "NO", "%s", client_store_error(errno, error));
			return;
		}
		if (found > 0)
			change.keywords |= 1ull << id;
	}
	uint32_t *seqs;
	size_t n;
	if (!client_sequence_set(c, set, c->uid, &seqs, &n))
		return;
	struct store_run run = {.c = c};
	if (mailbox_change_flags(c->mailbox, seqs, n, &change, NULL, on_refused, &run,
	                         &error) < 0) {
		client_tagged(c, "NO", "%s", client_store_error(errno, error));
		free(seqs);
		free(run.refused);
		return;
	}
	bool condstore = c->enabled & IMAP_ENABLED_CONDSTORE;
	for (size_t i = 0; i < n; i++) {
		const struct mailbox_message *m = mailbox_get(c->mailbox, seqs[i]);
		if (m->expunged || refused(&run, seqs[i]) || (silent && !condstore))
			continue;
		conn_printf(c->conn, "* %u FETCH (", seqs[i]);
		if (!silent)
			client_write_flags(c, seqs[i]);
		if (c->uid)
			conn_printf(c->conn, "%sUID %u", silent ? "" : " ", m->uid);
		if (condstore)
			conn_printf(c->conn, "%sMODSEQ (%llu)",
			            silent && !c->uid ? "" : " ",
			            (unsigned long long)m->modseq);
		client_puts(c, ")\r\n");
	}
	if (run.refused_count) {
		struct buf list = BUF_INIT;
		uint32_t *numbers = xcalloc(run.refused_count, sizeof(*numbers));
		for (size_t i = 0; i < run.refused_count; i++)
			numbers[i] = c->uid ? mailbox_get(c->mailbox, run.refused[i])->uid
			                    : run.refused[i];
		client_uid_set(&list, numbers, run.refused_count);
		client_tagged(c, "OK", "[MODIFIED %s] Conditional store failed",
		              list.data);
		free(numbers);
		buf_free(&list);
	} else {
		client_tagged(c, "OK", "Store completed");
	}
	free(seqs);
	free(run.refused);
}
