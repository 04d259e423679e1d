/*
 * dsn.c — building delivery status notifications (see dsn.h).
 */
#include "queue/dsn.h"

#include <stdbool.h>
#include <string.h>

#include "lib/date.h"
#include "proto/utf8.h"

/*
 * Appends "Name: value" folded so that no line passes 78 octets where a
 * space allows it, and none ever passes 998. Controls in value (it may
 * quote a remote server) become spaces.
 */
static void put_field(struct buf *out, const char *name, const char *value)
{
	buf_appendf(out, "%s:", name);
	size_t col = strlen(name) + 1;
	const char *p = value;
	while (*p) {
		const char *word_end = p;
		while (*word_end && *word_end != ' ')
			word_end++;
		size_t word = (size_t)(word_end - p);
		if (col + 1 + word > 78 && col > strlen(name) + 1) {
			buf_append_str(out, "\r\n");
			col = 0;
		}
		buf_append_char(out, ' ');
		col++;
		for (size_t i = 0; i < word; i++) {
			if (col >= 990) {
				buf_append_str(out, "\r\n ");
				col = 1;
			}
			unsigned char c = (unsigned char)p[i];
			buf_append_char(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
			col++;
		}
		p = word_end;
		while (*p == ' ')
			p++;
	}
	buf_append_str(out, "\r\n");
}

static const char *subject_of(enum dsn_kind kind)
{
	switch (kind) {
	case DSN_FAILURE:
		return "Undelivered Mail Returned to Sender";
	case DSN_DELAY:
		return "Delayed Mail (still being retried)";
	default:
		return "Successful Mail Delivery Report";
	}
}

static void put_human_text(struct buf *out, const struct dsn_input *in)
{
	const struct envelope *env = in->env;
	char date[64];
	date_rfc5322(env->arrival, date, sizeof(date));
	buf_appendf(out, "This is the mail system at host %s.\r\n\r\n", in->hostname);
	switch (in->kind) {
	case DSN_FAILURE:
		buf_append_str(out, "I'm sorry to have to inform you that your message "
		                    "could not\r\nbe delivered to one or more "
		                    "recipients. It's attached below.\r\n");
		break;
	case DSN_DELAY:
		date_rfc5322(in->retry_until, date, sizeof(date));
		buf_appendf(out,
		            "Your message could not be delivered yet. The mail system "
		            "will\r\nkeep trying until %s.\r\nYou do not have to "
		            "send it again.\r\n",
		            date);
		break;
	default:
		buf_append_str(out, "Your message was successfully delivered to the "
		                    "recipients\r\nlisted below.\r\n");
		break;
	}
	buf_appendf(out, "\r\nQueue ID: %s\r\n\r\n", env->id);
	for (size_t k = 0; k < in->rcpt_count; k++) {
		size_t i = in->rcpts[k];
		const struct rcpt_status *r = &in->status->rcpt[i];
		struct buf name = BUF_INIT;
		buf_appendf(&name, "<%s>", env->rcpts[i].address);
		put_field(out, name.data,
		          in->kind == DSN_SUCCESS ? "delivered"
		          : r->diagnostic         ? r->diagnostic
		                                  : r->dsn);
		buf_free(&name);
	}
}

static void put_recipient_fields(struct buf *out, const struct dsn_input *in, size_t k)
{
	size_t i = in->rcpts[k];
	const struct envelope_rcpt *rcpt = &in->env->rcpts[i];
	const struct rcpt_status *r = &in->status->rcpt[i];
	struct buf value = BUF_INIT;
	buf_append_str(out, "\r\n");
	if (rcpt->orcpt)
		put_field(out, "Original-Recipient", rcpt->orcpt);
	buf_appendf(&value, "%s; %s", utf8_is_ascii(rcpt->address) ? "rfc822" : "utf-8",
	            rcpt->address);
	put_field(out, "Final-Recipient", value.data);
	const char *action = in->kind == DSN_FAILURE         ? "failed"
	                     : in->kind == DSN_DELAY         ? "delayed"
	                     : in->relayed && in->relayed[k] ? "relayed"
	                                                     : "delivered";
	buf_appendf(out, "Action: %s\r\n", action);
	const char *status = in->kind == DSN_SUCCESS ? "2.0.0"
	                     : r->dsn[0]             ? r->dsn
	                                             : "4.0.0";
	buf_appendf(out, "Status: %s\r\n", status);
	if (in->kind != DSN_SUCCESS && r->remote) {
		/* "mx.example.net[192.0.2.1]:25" -> "dns; mx.example.net" */
		buf_reset(&value);
		size_t host_len = strcspn(r->remote, "[");
		buf_appendf(&value, "dns; %.*s", (int)host_len, r->remote);
		put_field(out, "Remote-MTA", value.data);
	}
	if (in->kind != DSN_SUCCESS && r->diagnostic)
		put_field(out, "Diagnostic-Code", r->diagnostic);
	if (in->kind == DSN_DELAY) {
		char date[64];
		date_rfc5322(in->retry_until, date, sizeof(date));
		put_field(out, "Will-Retry-Until", date);
	}
	buf_free(&value);
}

/* Length of the original's header section, through the empty line. */
static size_t header_length(const char *message, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (message[i] == '\n' &&
		    (message[i + 1] == '\n' ||
		     (message[i + 1] == '\r' && i + 2 < len && message[i + 2] == '\n')))
			return i + 1;
	}
	return len;
}

void dsn_build(const struct dsn_input *in, struct buf *out)
{
	const struct envelope *env = in->env;
	bool utf8 = env->smtputf8 || !utf8_is_ascii(env->sender);
	for (size_t k = 0; k < in->rcpt_count; k++)
		utf8 = utf8 || !utf8_is_ascii(env->rcpts[in->rcpts[k]].address);
	char date[64], boundary[96];
	date_rfc5322(in->now, date, sizeof(date));
	snprintf(boundary, sizeof(boundary), "%s/%s", in->dsn_id, in->hostname);

	buf_appendf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n",
	            in->hostname);
	buf_appendf(out, "To: <%s>\r\n", env->sender);
	buf_appendf(out, "Subject: %s\r\n", subject_of(in->kind));
	buf_appendf(out, "Date: %s\r\n", date);
	buf_appendf(out, "Message-ID: <%s@%s>\r\n", in->dsn_id, in->hostname);
	/* RFC 3834: no auto-responder should answer this. */
	buf_append_str(out, "Auto-Submitted: auto-replied\r\n");
	buf_append_str(out, "MIME-Version: 1.0\r\n");
	buf_appendf(out,
	            "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	            "\tboundary=\"%s\"\r\n\r\n",
	            boundary);
	buf_append_str(out, "This is a MIME-encapsulated message.\r\n\r\n");

	buf_appendf(out, "--%s\r\n", boundary);
	buf_append_str(out, "Content-Description: Notification\r\n");
	buf_appendf(out, "Content-Type: text/plain; charset=%s\r\n\r\n",
	            utf8 ? "utf-8" : "us-ascii");
	put_human_text(out, in);

	buf_appendf(out, "\r\n--%s\r\n", boundary);
	buf_append_str(out, "Content-Description: Delivery report\r\n");
	buf_appendf(out, "Content-Type: message/%sdelivery-status\r\n\r\n",
	            utf8 ? "global-" : "");
	buf_appendf(out, "Reporting-MTA: dns; %s\r\n", in->hostname);
	buf_appendf(out, "X-Petrel-Queue-ID: %s\r\n", env->id);
	if (env->envid)
		put_field(out, "Original-Envelope-Id", env->envid);
	if (env->sender[0]) {
		struct buf sender = BUF_INIT;
		buf_appendf(&sender, "rfc822; %s", env->sender);
		put_field(out, "X-Petrel-Sender", sender.data);
		buf_free(&sender);
	}
	date_rfc5322(env->arrival, date, sizeof(date));
	buf_appendf(out, "Arrival-Date: %s\r\n", date);
	for (size_t k = 0; k < in->rcpt_count; k++)
		put_recipient_fields(out, in, k);

	/* RET=HDRS, and delay or success notices, return the header only;
	 * RET=FULL or none returns a failed message whole when not huge. */
	uint64_t size = in->message_size ? in->message_size : in->message_len;
	bool hdrs = in->kind != DSN_FAILURE ||
	            (env->ret && strcmp(env->ret, "HDRS") == 0) ||
	            size > DSN_ORIGINAL_MAX || in->message_len < size;
	size_t len = hdrs ? header_length(in->message, in->message_len) : in->message_len;
	buf_appendf(out, "\r\n--%s\r\n", boundary);
	buf_appendf(out, "Content-Description: %s\r\n",
	            hdrs ? "Undelivered Message Headers" : "Undelivered Message");
	if (hdrs)
		buf_appendf(out, "Content-Type: %s\r\n\r\n",
		            utf8 ? "message/global-headers" : "text/rfc822-headers");
	else
		buf_appendf(out, "Content-Type: message/%s\r\n%s\r\n",
		            utf8 ? "global" : "rfc822",
		            env->body && strcmp(env->body, "8BITMIME") == 0
		                ? "Content-Transfer-Encoding: 8bit\r\n"
		                : "");
	buf_append(out, in->message, len);
	if (len > 0 && in->message[len - 1] != '\n')
		buf_append_str(out, "\r\n");
	buf_appendf(out, "\r\n--%s--\r\n", boundary);
}
