/*
 * sort_keys.c — what SORT and THREAD (RFC 5256) compare, per message:
 * arrival and sent dates, size, the base subject, the first address of
 * From, To and Cc, and the Message-ID, References and In-Reply-To that
 * threads follow. Read once from each message's header.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd/commands.h"
#include "imapd/sort_keys.h"
#include "lib/xalloc.h"
#include "proto/imap_subject.h"
#include "proto/rfc5322.h"
#include "proto/rfc5322_address.h"
#include "proto/rfc5322_date.h"

struct first_address {
	char *mailbox;
};

static void take_first(void *ctx, const struct rfc5322_address *a)
{
	struct first_address *f = ctx;
	if (f->mailbox == NULL && a->kind == RFC5322_MAILBOX)
		f->mailbox = xstrdup(a->local ? a->local : "");
}

static char *unfold(const char *value, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (value[i] != '\r' && value[i] != '\n')
			out[n++] = value[i];
	out[n] = '\0';
	return out;
}

/* The keys from the cached header fields (mailbox/cursor.c). */
static void read_fields(struct message_keys *k, const char *header, size_t n)
{
	size_t pos = 0;
	struct rfc5322_field field;
	while (n > 0 && rfc5322_next_field(header, n, &pos, &field) == 1) {
#define IS(wanted)                                                                       \
	(field.name_len == strlen(wanted) &&                                             \
	 strncasecmp(field.name, wanted, field.name_len) == 0)
		if (IS("Date") && !k->has_sent) {
			int zone;
			k->has_sent = rfc5322_date_parse(field.value, field.value_len,
			                                 &k->sent, &zone) == 0;
		} else if (IS("Subject") && k->subject == NULL) {
			char *raw = unfold(field.value, field.value_len);
			char base[1024];
			imap_base_subject(raw, strlen(raw), base, sizeof(base),
			                  &k->subject_reply);
			k->subject = xstrdup(base);
			free(raw);
		} else if ((IS("From") || IS("To") || IS("Cc"))) {
			char **slot = IS("From") ? &k->from : IS("To") ? &k->to : &k->cc;
			if (*slot == NULL) {
				struct first_address first = {0};
				rfc5322_address_list(field.value, field.value_len,
				                     take_first, &first);
				*slot = first.mailbox ? first.mailbox : xstrdup("");
			}
		} else if (IS("Message-ID") && k->message_id == NULL) {
			k->message_id = unfold(field.value, field.value_len);
		} else if (IS("References") && k->references == NULL) {
			k->references = unfold(field.value, field.value_len);
		} else if (IS("In-Reply-To") && k->in_reply_to == NULL) {
			k->in_reply_to = unfold(field.value, field.value_len);
		}
#undef IS
	}
}

struct message_keys *sort_keys_search(struct imap_client *c, const struct imap_arg *args,
                                      size_t *count_r)
{
	if (!client_search_charset(c, args))
		return NULL;
	uint32_t *seqs;
	size_t hits;
	struct search_result result;
	if (!client_search(c, args->next, &seqs, &hits, &result))
		return NULL;
	struct message_keys *keys = sort_keys_load(c, seqs, hits);
	free(seqs);
	*count_r = hits;
	return keys;
}

struct message_keys *sort_keys_load(struct imap_client *c, const uint32_t *seqs,
                                    size_t count)
{
	struct message_keys *keys = xcalloc(count + 1, sizeof(*keys));
	uint32_t *uids = xcalloc(count + 1, sizeof(*uids));
	for (size_t i = 0; i < count; i++)
		uids[i] = mailbox_get(c->mailbox, seqs[i])->uid;
	struct mailbox_cursor *cursor = mailbox_cursor_open(
	    c->mailbox, uids, count,
	    MAILBOX_WANT_SIZE | MAILBOX_WANT_DATE | MAILBOX_WANT_HEADERS);
	const char *error;
	for (size_t i = 0; i < count; i++) {
		struct message_keys *k = &keys[i];
		struct mailbox_record rec;
		k->seq = seqs[i];
		k->uid = uids[i];
		if (mailbox_cursor_next(cursor, &rec, &error) <= 0 || rec.expunged)
			continue;
		k->arrival = rec.internaldate;
		k->size = rec.size;
		read_fields(k, rec.headers ? rec.headers : "", rec.headers_len);
		/* RFC 5256 2.2: no usable Date: the internal date */
		if (!k->has_sent)
			k->sent = k->arrival;
	}
	mailbox_cursor_close(&cursor);
	free(uids);
	return keys;
}

void sort_keys_free(struct message_keys *keys, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(keys[i].subject);
		free(keys[i].from);
		free(keys[i].to);
		free(keys[i].cc);
		free(keys[i].message_id);
		free(keys[i].references);
		free(keys[i].in_reply_to);
	}
	free(keys);
}
