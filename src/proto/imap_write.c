/*
 * imap_write.c — IMAP strings and ENVELOPE (see imap_write.h).
 */
#include "proto/imap_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/rfc5322.h"
#include "proto/rfc5322_address.h"
#include "proto/utf8.h"

/* Longer strings go as literals: easier on both sides. */
#define QUOTED_MAX 1024

void imap_write_raw(const struct imap_writer *w, const char *data, size_t len)
{
	if (len)
		w->write(w->ctx, data, len);
}

static void put(const struct imap_writer *w, const char *s)
{
	imap_write_raw(w, s, strlen(s));
}

static bool quotable(const struct imap_writer *w, const char *s, size_t len)
{
	if (len > QUOTED_MAX)
		return false;
	bool eight_bit = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n')
			return false;
		eight_bit |= c >= 0x80;
	}
	return !eight_bit || (w->utf8 && utf8_valid(s, len));
}

void imap_write_nstring(const struct imap_writer *w, const char *s, size_t len)
{
	if (s == NULL) {
		put(w, "NIL");
		return;
	}
	size_t nuls = 0;
	for (size_t i = 0; i < len; i++)
		nuls += s[i] == '\0';
	if (quotable(w, s, len)) {
		put(w, "\"");
		size_t start = 0;
		for (size_t i = 0; i < len; i++)
			if (s[i] == '"' || s[i] == '\\' || s[i] == '\0') {
				imap_write_raw(w, s + start, i - start);
				if (s[i] != '\0') {
					char escaped[2] = {'\\', s[i]};
					imap_write_raw(w, escaped, 2);
				}
				start = i + 1;
			}
		imap_write_raw(w, s + start, len - start);
		put(w, "\"");
		return;
	}
	char head[32];
	snprintf(head, sizeof(head), "{%zu}\r\n", len - nuls);
	put(w, head);
	size_t start = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0') {
			imap_write_raw(w, s + start, i - start);
			start = i + 1;
		}
	imap_write_raw(w, s + start, len - start);
}

enum {
	F_DATE,
	F_SUBJECT,
	F_FROM,
	F_SENDER,
	F_REPLY_TO,
	F_TO,
	F_CC,
	F_BCC,
	F_IN_REPLY_TO,
	F_MESSAGE_ID,
	F_COUNT
};

static const char *const names[F_COUNT] = {
    "Date", "Subject", "From", "Sender",      "Reply-To",
    "To",   "Cc",      "Bcc",  "In-Reply-To", "Message-ID",
};

/* The value unfolded (line ends removed) and trimmed; malloc'd. */
static char *unfold(const char *value, size_t len, size_t *out_len)
{
	char *out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (value[i] != '\r' && value[i] != '\n')
			out[n++] = value[i];
	size_t start = 0;
	while (start < n && (out[start] == ' ' || out[start] == '\t'))
		start++;
	while (n > start && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	memmove(out, out + start, n - start);
	*out_len = n - start;
	out[*out_len] = '\0';
	return out;
}

struct address_out {
	const struct imap_writer *w;
	size_t written;
};

static void write_part(const struct imap_writer *w, const char *s, const char *missing)
{
	const char *v = s ? s : missing;
	imap_write_nstring(w, v, v ? strlen(v) : 0);
}

static void write_address(void *ctx, const struct rfc5322_address *a)
{
	struct address_out *o = ctx;
	const struct imap_writer *w = o->w;
	if (o->written++ == 0)
		put(w, "(");
	put(w, "(");
	switch (a->kind) {
	case RFC5322_MAILBOX:
		write_part(w, a->name, NULL);
		put(w, " ");
		write_part(w, a->route, NULL);
		put(w, " ");
		/* a host of NIL would mean a group: say what is missing */
		write_part(w, a->local, "MISSING_MAILBOX");
		put(w, " ");
		write_part(w, a->domain, "MISSING_DOMAIN");
		break;
	case RFC5322_GROUP_START:
		put(w, "NIL NIL ");
		write_part(w, a->name, "");
		put(w, " NIL");
		break;
	case RFC5322_GROUP_END:
		put(w, "NIL NIL NIL NIL");
		break;
	}
	put(w, ")");
}

static void write_addresses(const struct imap_writer *w, const char *value, size_t len)
{
	struct address_out o = {.w = w};
	if (value)
		rfc5322_address_list(value, len, write_address, &o);
	put(w, o.written ? ")" : "NIL");
}

void imap_write_envelope(const struct imap_writer *w, const char *header, size_t len)
{
	char *values[F_COUNT] = {0};
	size_t lens[F_COUNT] = {0};
	size_t pos = 0;
	struct rfc5322_field f;
	while (rfc5322_next_field(header, len, &pos, &f) == 1)
		for (int i = 0; i < F_COUNT; i++)
			if (values[i] == NULL && f.name_len == strlen(names[i]) &&
			    strncasecmp(f.name, names[i], f.name_len) == 0)
				values[i] = unfold(f.value, f.value_len, &lens[i]);
	/* Sender and Reply-To: From's when absent or empty */
	int from_like[] = {F_SENDER, F_REPLY_TO};
	for (int i = 0; i < 2; i++) {
		int k = from_like[i];
		if (values[k] && lens[k] == 0) {
			free(values[k]);
			values[k] = NULL;
		}
	}
	put(w, "(");
	for (int i = 0; i < F_COUNT; i++) {
		if (i)
			put(w, " ");
		int k =
		    (i == F_SENDER || i == F_REPLY_TO) && values[i] == NULL ? F_FROM : i;
		if (k >= F_FROM && k <= F_BCC)
			write_addresses(w, values[k], lens[k]);
		else
			imap_write_nstring(w, values[k], lens[k]);
	}
	put(w, ")");
	for (int i = 0; i < F_COUNT; i++)
		free(values[i]);
}
