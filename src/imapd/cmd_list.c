/*
 * cmd_list.c — LIST and LSUB (RFC 9051 6.3.9, RFC 3501 6.3.9), with
 * LIST-EXTENDED's selection and return options (RFC 5258), CHILDREN
 * (RFC 3348), SPECIAL-USE (RFC 6154) and LIST-STATUS (RFC 5819).
 * Patterns are matched in linear time (proto/imap_match.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd/commands.h"
#include "lib/log.h"
#include "proto/imap_match.h"
#include "proto/imap_utf7.h"

#define PATTERNS_MAX 32

struct list_request {
	bool lsub;
	bool select_subscribed, select_special_use, recursive_match;
	bool return_subscribed, return_special_use, return_status;
	unsigned status_items;
	char *patterns[PATTERNS_MAX];
	size_t pattern_count;
};

static bool option_list(const struct imap_arg *arg, struct list_request *r,
                        bool selection)
{
	for (const struct imap_arg *a = arg->list; a; a = a->next) {
		const char *name = a->type == IMAP_ARG_ATOM ? a->str : "";
		if (selection && strcasecmp(name, "SUBSCRIBED") == 0)
			r->select_subscribed = r->return_subscribed = true;
		else if (selection && strcasecmp(name, "SPECIAL-USE") == 0)
			r->select_special_use = r->return_special_use = true;
		else if (selection && strcasecmp(name, "RECURSIVEMATCH") == 0)
			r->recursive_match = true;
		else if (selection && strcasecmp(name, "REMOTE") == 0)
			continue; /* no remote mailboxes here */
		else if (!selection && strcasecmp(name, "SUBSCRIBED") == 0)
			r->return_subscribed = true;
		else if (!selection && strcasecmp(name, "CHILDREN") == 0)
			continue; /* always given */
		else if (!selection && strcasecmp(name, "SPECIAL-USE") == 0)
			r->return_special_use = true;
		else if (!selection && strcasecmp(name, "STATUS") == 0) {
			if (!client_status_items(a->next, &r->status_items))
				return false;
			r->return_status = true;
			a = a->next;
		} else
			return false;
	}
	/* RFC 5258 3: RECURSIVEMATCH needs another selection option. */
	return !r->recursive_match || r->select_subscribed || r->select_special_use;
}

static bool add_pattern(struct imap_client *c, struct list_request *r, const char *ref,
                        const struct imap_arg *arg)
{
	const char *pattern = imap_arg_astring(arg);
	if (pattern == NULL || strlen(pattern) != arg->len ||
	    r->pattern_count == PATTERNS_MAX)
		return false;
	struct buf joined = BUF_INIT;
	buf_appendf(&joined, "%s%s", ref, pattern);
	char *decoded = malloc(IMAP_MAILBOX_NAME_MAX + 1);
	const char *error;
	if (c->enabled & IMAP_ENABLED_UTF8) {
		snprintf(decoded, IMAP_MAILBOX_NAME_MAX + 1, "%s",
		         joined.data ? joined.data : "");
	} else if (imap_utf7_decode(joined.data ? joined.data : "", joined.len, decoded,
	                            &error) < 0) {
		/* A pattern no name can match (no error: RFC 9051 6.3.9). */
		decoded[0] = '\x01';
		decoded[1] = '\0';
	}
	buf_free(&joined);
	r->patterns[r->pattern_count++] = decoded;
	return true;
}

static bool matches(const struct list_request *r, const char *name)
{
	for (size_t i = 0; i < r->pattern_count; i++)
		if (imap_match(r->patterns[i], name, MAIL_STORE_SEPARATOR))
			return true;
	return false;
}

static void write_entry(struct imap_client *c, const struct list_request *r,
                        const struct mail_folder *f, bool childinfo)
{
	struct buf attrs = BUF_INIT;
#define ATTR(s) buf_appendf(&attrs, "%s%s", attrs.len ? " " : "", (s))
	if (!f->exists)
		ATTR(r->lsub || r->select_subscribed ? "\\NonExistent" : "\\Noselect");
	if (!r->lsub)
		ATTR(f->has_children ? "\\HasChildren" : "\\HasNoChildren");
	if (f->subscribed && r->return_subscribed)
		ATTR("\\Subscribed");
	if (f->exists && f->special_use != MAIL_SPECIAL_NONE && !r->lsub)
		ATTR(mail_special_use_name(f->special_use));
#undef ATTR
	conn_printf(c->conn, "* %s (%s) \".\" ", r->lsub ? "LSUB" : "LIST",
	            attrs.data ? attrs.data : "");
	client_write_mailbox(c, f->name);
	/* RFC 5258 4: listed for a subscribed child, it says so */
	if (childinfo)
		client_puts(c, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	client_write(c, "\r\n", 2);
	buf_free(&attrs);
	const char *error;
	if (r->return_status && f->exists &&
	    client_write_status(c, f->name, r->status_items, &error) < 0)
		log_msg(L_WARN, "event=mailbox-error session=%s user=%s error=%s",
		        c->log_id, LOG_Q(c->user), LOG_Q(error));
}

/* A folder below name is subscribed (RECURSIVEMATCH). */
static bool subscribed_below(const struct mail_folder *folders, size_t n,
                             const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (folders[i].subscribed && strncmp(folders[i].name, name, len) == 0 &&
		    folders[i].name[len] == MAIL_STORE_SEPARATOR)
			return true;
	return false;
}

static bool parse(struct imap_client *c, const struct imap_arg *args, unsigned count,
                  struct list_request *r)
{
	const struct imap_arg *a = args;
	if (!r->lsub && a && a->type == IMAP_ARG_LIST) {
		if (!option_list(a, r, true))
			return false;
		a = a->next;
	}
	const char *ref = a ? imap_arg_astring(a) : NULL;
	if (ref == NULL || a->next == NULL)
		return false;
	a = a->next;
	if (a->type == IMAP_ARG_LIST && !r->lsub) {
		for (const struct imap_arg *p = a->list; p; p = p->next)
			if (!add_pattern(c, r, ref, p))
				return false;
	} else if (!add_pattern(c, r, ref, a)) {
		return false;
	}
	a = a->next;
	if (a && !r->lsub && a->type == IMAP_ARG_ATOM &&
	    strcasecmp(a->str, "RETURN") == 0 && a->next &&
	    a->next->type == IMAP_ARG_LIST) {
		if (!option_list(a->next, r, false))
			return false;
		a = a->next->next;
	}
	(void)count;
	return a == NULL && r->pattern_count > 0;
}

void imap_cmd_list(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	struct list_request r = {.lsub = strcasecmp(c->command, "LSUB") == 0};
	r.return_special_use = true;
	if (!parse(c, args, count, &r)) {
		client_tagged(c, "BAD",
		              "%s [(options)] reference pattern [RETURN (options)]",
		              c->command);
		goto out;
	}
	if (r.lsub)
		r.return_subscribed = false;
	/* LIST "" "": the separator and the root (RFC 9051 6.3.9). */
	if (r.pattern_count == 1 && r.patterns[0][0] == '\0') {
		client_untagged(c, "%s (\\Noselect) \".\" \"\"",
		                r.lsub ? "LSUB" : "LIST");
		client_tagged(c, "OK", "%s completed", c->command);
		goto out;
	}
	struct mail_folder *folders;
	size_t n;
	const char *error;
	if (mail_store_list(c->store, &folders, &n, &error) < 0) {
		client_tagged(c, "NO", "%s", client_store_error(errno, error));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mail_folder *f = &folders[i];
		bool subscribed_only = r.lsub || r.select_subscribed;
		bool childinfo = false;
		if (r.select_subscribed && r.recursive_match && !f->subscribed)
			childinfo = subscribed_below(folders, n, f->name);
		if (subscribed_only ? !f->subscribed && !childinfo
		                    : (!f->exists && !f->has_children))
			continue;
		if (r.select_special_use && f->special_use == MAIL_SPECIAL_NONE)
			continue;
		if (matches(&r, f->name))
			write_entry(c, &r, f, childinfo);
	}
	mail_folder_list_free(folders, n);
	client_tagged(c, "OK", "%s completed", c->command);
out:
	for (size_t i = 0; i < r.pattern_count; i++)
		free(r.patterns[i]);
}
