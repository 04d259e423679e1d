/*
 * flags.c — system flags and keywords as IMAP writes and reads them
 * (RFC 9051 2.3.2): "\Seen", "$Junk"...
 */
#include <string.h>
#include <strings.h>

#include "imapd/client.h"

static const struct {
	const char *name;
	uint16_t flag;
} system_flags[] = {
    {"\\Seen", MAIL_SEEN},       {"\\Answered", MAIL_ANSWERED},
    {"\\Flagged", MAIL_FLAGGED}, {"\\Deleted", MAIL_DELETED},
    {"\\Draft", MAIL_DRAFT},     {"\\Recent", MAIL_RECENT},
};

void client_write_flags(struct imap_client *c, uint32_t seq)
{
	const struct mailbox_message *m = mailbox_get(c->mailbox, seq);
	uint16_t flags =
	    m->flags | (mailbox_is_recent(c->mailbox, seq) ? MAIL_RECENT : 0);
	struct buf out = BUF_INIT;
	buf_append_str(&out, "FLAGS (");
	bool first = true;
	for (size_t i = 0; i < sizeof(system_flags) / sizeof(*system_flags); i++) {
		if (!(flags & system_flags[i].flag))
			continue;
		/* IMAP4rev2 has no \Recent (RFC 9051 appendix E). */
		if (system_flags[i].flag == MAIL_RECENT &&
		    (c->enabled & IMAP_ENABLED_REV2))
			continue;
		buf_appendf(&out, "%s%s", first ? "" : " ", system_flags[i].name);
		first = false;
	}
	const struct mail_keywords *kw = mailbox_keywords(c->mailbox);
	for (int i = 0; i < MAIL_KEYWORDS_MAX; i++)
		if ((m->keywords & (1ull << i)) && kw->names[i]) {
			buf_appendf(&out, "%s%s", first ? "" : " ", kw->names[i]);
			first = false;
		}
	buf_append_char(&out, ')');
	client_write(c, out.data, out.len);
	buf_free(&out);
}

void client_write_flags_list(struct imap_client *c)
{
	struct buf names = BUF_INIT;
	const struct mail_keywords *kw = mailbox_keywords(c->mailbox);
	for (int i = 0; i < MAIL_KEYWORDS_MAX; i++)
		if (kw->names[i])
			buf_appendf(&names, " %s", kw->names[i]);
	const char *more = names.data ? names.data : "";
	client_untagged(c, "FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s)",
	                more);
	if (mailbox_readonly(c->mailbox))
		client_untagged(c, "OK [PERMANENTFLAGS ()] Read-only mailbox");
	else
		client_untagged(
		    c,
		    "OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
		    "\\Draft%s \\*)] Flags permitted",
		    more);
	buf_free(&names);
}

/* A keyword is an atom without the characters RFC 9051 excludes. */
static bool valid_keyword(const char *s)
{
	if (*s == '\0' || strlen(s) > MAIL_KEYWORD_MAX_LEN)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("(){%*\"\\]", *s))
			return false;
	return true;
}

bool client_parse_flags(struct imap_client *c, const struct imap_arg *arg,
                        uint16_t *flags_r, const char *names[MAIL_KEYWORDS_MAX],
                        size_t *name_count_r)
{
	*flags_r = 0;
	*name_count_r = 0;
	const struct imap_arg *item = arg->type == IMAP_ARG_LIST ? arg->list : arg;
	for (; item; item = arg->type == IMAP_ARG_LIST ? item->next : NULL) {
		if (item->type != IMAP_ARG_ATOM) {
			client_tagged(c, "BAD", "Flags are atoms");
			return false;
		}
		const char *name = item->str;
		if (name[0] == '\\') {
			size_t i = 0;
			while (i < sizeof(system_flags) / sizeof(*system_flags) &&
			       strcasecmp(system_flags[i].name, name) != 0)
				i++;
			/* \Recent cannot be set (RFC 3501 2.3.2). */
			if (i == sizeof(system_flags) / sizeof(*system_flags) ||
			    system_flags[i].flag == MAIL_RECENT) {
				client_tagged(c, "BAD", "Invalid system flag %s", name);
				return false;
			}
			*flags_r |= system_flags[i].flag;
			continue;
		}
		if (!valid_keyword(name)) {
			client_tagged(c, "BAD", "Invalid keyword");
			return false;
		}
		bool again = false;
		for (size_t i = 0; i < *name_count_r; i++)
			again |= strcasecmp(names[i], name) == 0;
		if (again)
			continue;
		if (*name_count_r == MAIL_KEYWORDS_MAX) {
			client_tagged(c, "NO", "[LIMIT] Too many keywords");
			return false;
		}
		names[(*name_count_r)++] = name;
	}
	return true;
}
