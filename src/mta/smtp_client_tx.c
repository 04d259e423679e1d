/*
 * smtp_client_tx.c — one mail transaction on an established session:
 * what the server cannot take is refused before any command (SMTPUTF8,
 * 8BITMIME, SIZE); MAIL, RCPT and DATA go as one group with PIPELINING
 * (RFC 2920), one by one without; the message is sent dot-stuffed
 * (mta/wire_data.h) as the output drains; each recipient's outcome comes
 * from its own reply, or from the final one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

#include "lib/buf.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mta/smtp_client_internal.h"

/* Octets of message handed to the connection at a time. */
#define BODY_CHUNK (256 * 1024)

static const char *reply_dsn(const struct smtp_reply *r, char *buf, size_t size)
{
	if (r->enhanced[0] && r->enhanced[0] == '0' + r->code / 100)
		return r->enhanced;
	snprintf(buf, size, "%d.0.0", r->code / 100);
	return buf;
}

static double elapsed_since(const struct timeval *start)
{
	struct timeval now;
	gettimeofday(&now, NULL);
	return (double)(now.tv_sec - start->tv_sec) +
	       (double)(now.tv_usec - start->tv_usec) / 1e6;
}

static void log_outcome(const struct smtp_conn *c, const struct mta_job *job, size_t i)
{
	const struct rcpt_result *r = &job->results[i];
	const char *status = r->outcome == OUTCOME_DELIVERED ? "sent"
	                     : r->outcome == OUTCOME_PERM    ? "bounced"
	                                                     : "deferred";
	char delay[24];
	snprintf(delay, sizeof(delay), "%llds",
	         (long long)(time(NULL) - job->env->arrival));
	EVENT(r->outcome == OUTCOME_DELIVERED ? L_INFO : L_WARN, &event_delivery,
	      EV_WORD("id", job->env->id), EV_TEXT("to", job->env->rcpts[i].address),
	      EV_OPTIONAL("orig_to", job->env->rcpts[i].original),
	      EV_TEXT("relay", r->remote ? r->remote : c->remote),
	      EV_TEXT("tls", c->tls_active ? c->tls_info : "none"),
	      EV_WORD("delay", delay), EV_SECONDS("attempt", elapsed_since(&c->tx_start)),
	      EV_WORD("dsn", r->dsn), EV_WORD("status", status),
	      EV_TEXT("reply", r->diagnostic ? r->diagnostic : ""),
	      EV_LABEL("transport", "smtp"));
}

void smtp_client_finish_job(struct smtp_conn *c, enum rcpt_outcome outcome,
                            const char *dsn, const char *diagnostic)
{
	struct mta_job *job = c->job;
	c->job = NULL;
	if (job == NULL)
		return;
	for (size_t k = 0; k < job->rcpt_count; k++) {
		struct rcpt_result *r = &job->results[job->rcpts[k]];
		if (r->outcome == OUTCOME_NONE)
			rcpt_result_set(r, outcome, dsn, c->remote, diagnostic);
		log_outcome(c, job, job->rcpts[k]);
	}
	free(c->accepted);
	c->accepted = NULL;
	c->messages++;
	c->cb->job_done(c, job, c->arg);
}

/* RFC 3461 4: xtext for ENVID and ORCPT. */
static void append_xtext(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 33 || ch > 126 || ch == '+' || ch == '=')
			buf_appendf(out, "+%02X", ch);
		else
			buf_append_char(out, (char)ch);
	}
}

static void send_mail(struct smtp_conn *c)
{
	const struct mta_job *job = c->job;
	const struct envelope *env = job->env;
	struct buf line = BUF_INIT;
	buf_appendf(&line, "MAIL FROM:<%s>", env->sender);
	if (c->ehlo.size)
		buf_appendf(&line, " SIZE=%llu", (unsigned long long)job->message_len);
	if (c->send_8bitmime)
		buf_append_str(&line, " BODY=8BITMIME");
	if (env->smtputf8 && c->ehlo.smtputf8)
		buf_append_str(&line, " SMTPUTF8");
	if (c->ehlo.dsn && env->ret)
		buf_appendf(&line, " RET=%s", env->ret);
	if (c->ehlo.dsn && env->envid) {
		buf_append_str(&line, " ENVID=");
		append_xtext(&line, env->envid);
	}
	smtp_client_send_line(c, "%s", line.data);
	buf_free(&line);
}

static void send_rcpt(struct smtp_conn *c, size_t k)
{
	const struct envelope_rcpt *r = &c->job->env->rcpts[c->job->rcpts[k]];
	struct buf line = BUF_INIT;
	buf_appendf(&line, "RCPT TO:<%s>", r->address);
	if (c->ehlo.dsn && r->notify) {
		static const char *const names[] = {"SUCCESS", "FAILURE", "DELAY",
		                                    "NEVER"};
		buf_append_str(&line, " NOTIFY=");
		bool first = true;
		for (int bit = 0; bit < 4; bit++) {
			if (r->notify & (1u << bit)) {
				buf_appendf(&line, "%s%s", first ? "" : ",", names[bit]);
				first = false;
			}
		}
	}
	if (c->ehlo.dsn && r->orcpt) {
		const char *semi = strchr(r->orcpt, ';');
		if (semi) {
			buf_appendf(&line, " ORCPT=%.*s;", (int)(semi - r->orcpt),
			            r->orcpt);
			append_xtext(&line, semi + 1);
		}
	}
	smtp_client_send_line(c, "%s", line.data);
	buf_free(&line);
}

/* Timer for the reply at index i of a transaction (0 MAIL, 1..n RCPT,
 * n+1 DATA). */
static void arm_for_reply(struct smtp_conn *c, size_t i)
{
	const struct delivery_config *d = &c->config->delivery;
	smtp_client_arm(c, i == 0                    ? d->mail_timeout
	                   : i <= c->job->rcpt_count ? d->rcpt_timeout
	                                             : d->data_timeout);
}

/* Refuses what this server cannot take, before any command. */
static bool job_fits(struct smtp_conn *c, struct mta_job *job)
{
	const struct envelope *env = job->env;
	bool body8 = env->body && strcasecmp(env->body, "8BITMIME") == 0;
	c->send_8bitmime = body8 && c->ehlo.eightbitmime;
	if (env->smtputf8 && !c->ehlo.smtputf8) {
		smtp_client_finish_job(c, OUTCOME_PERM, "5.6.7",
		                       "x-petrel; the remote server does not support "
		                       "SMTPUTF8, which this message requires");
		return false;
	}
	if (body8 && !c->ehlo.eightbitmime && job->has_8bit) {
		/* RFC 6152 3: never send 8-bit data to a 7-bit server. */
		smtp_client_finish_job(c, OUTCOME_PERM, "5.6.3",
		                       "x-petrel; the remote server does not support "
		                       "8BITMIME, and the message has 8-bit content");
		return false;
	}
	if (c->ehlo.size && c->ehlo.size_limit > 0 &&
	    job->message_len > c->ehlo.size_limit) {
		char why[160];
		snprintf(
		    why, sizeof(why),
		    "x-petrel; message of %llu octets exceeds the remote limit of %llu",
		    (unsigned long long)job->message_len,
		    (unsigned long long)c->ehlo.size_limit);
		smtp_client_finish_job(c, OUTCOME_PERM, "5.3.4", why);
		return false;
	}
	return true;
}

void smtp_conn_send(struct smtp_conn *c, struct mta_job *job)
{
	evtimer_del(c->timer);
	c->job = job;
	gettimeofday(&c->tx_start, NULL);
	if (!job_fits(c, job)) {
		smtp_client_become_ready(c);
		return;
	}
	c->accepted = xcalloc(job->rcpt_count, sizeof(*c->accepted));
	c->accepted_count = 0;
	c->reply_index = 0;
	c->mail_ok = false;
	c->state = CS_TX;
	send_mail(c);
	if (c->ehlo.pipelining) {
		/* RFC 2920: the whole group in one write. */
		for (size_t k = 0; k < job->rcpt_count; k++)
			send_rcpt(c, k);
		smtp_client_send_line(c, "DATA");
	}
	arm_for_reply(c, 0);
}

/* A piece of the message on its way from the spool: the part of the
 * header section (in memory) is copied on the loop, the part of the
 * body read on a reader thread from a duplicate of the spool file's
 * descriptor, so that the connection may go away meanwhile. */
struct body_read {
	struct work work;    /* first: the pool hands it back */
	struct smtp_conn *c; /* NULL once the connection has gone */
	int fd;
	uint64_t offset;
	size_t want;
	struct buf data;
	int error_errno;
};

static void body_read_run(struct work *work)
{
	struct body_read *r = (struct body_read *)work;
	buf_reserve(&r->data, r->want + 1);
	size_t done = 0;
	while (done < r->want) {
		ssize_t n = pread(r->fd, r->data.data + r->data.len + done,
		                  r->want - done, (off_t)(r->offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->error_errno = n < 0 ? errno : EIO;
			return;
		}
		done += (size_t)n;
	}
	r->data.len += done;
}

/* A piece is here: dot-stuffed onto the connection. */
static void send_piece(struct smtp_conn *c, const struct buf *piece)
{
	struct mta_job *job = c->job;
	struct buf out = BUF_INIT;
	wire_data_encode(&c->wire, piece->data, piece->len, &out);
	c->body_pos += piece->len;
	if (c->body_pos == job->message_len) {
		wire_data_finish(&c->wire, &out);
		c->state = CS_DOT;
	}
	conn_write(c->io, out.data, out.len);
	buf_free(&out);
	smtp_client_arm(c, c->state == CS_DOT ? c->config->delivery.dot_timeout
	                                      : c->config->delivery.block_timeout);
}

static void body_read_done(struct work *work)
{
	struct body_read *r = (struct body_read *)work;
	struct smtp_conn *c = r->c;
	close(r->fd);
	if (c) {
		c->reading = NULL;
		if (r->error_errno) {
			char why[160];
			snprintf(why, sizeof(why),
			         "spool read error (%s) while sending to",
			         strerror(r->error_errno));
			smtp_client_session_failed(c, why);
		} else {
			send_piece(c, &r->data);
		}
	}
	buf_free(&r->data);
	free(r);
}

void smtp_client_body_detach(struct smtp_conn *c)
{
	if (c->reading) {
		c->reading->c = NULL;
		c->reading = NULL;
	}
}

void smtp_client_send_body(struct smtp_conn *c)
{
	struct mta_job *job = c->job;
	const struct message_source *m = job->message;
	if (c->reading || c->state != CS_BODY)
		return;
	uint64_t n = job->message_len - c->body_pos;
	if (n > BODY_CHUNK)
		n = BODY_CHUNK;
	struct body_read *r = xcalloc(1, sizeof(*r));
	r->fd = -1;
	uint64_t pos = c->body_pos;
	if (pos < m->header_len) {
		size_t part = m->header_len - (size_t)pos;
		if (part > n)
			part = (size_t)n;
		buf_append(&r->data, m->header + pos, part);
		pos += part;
	}
	size_t rest = (size_t)(c->body_pos + n - pos);
	uint64_t body_pos = pos - m->header_len;
	if (rest > 0 && m->fd < 0) {
		buf_append(&r->data, m->body + body_pos, rest); /* in memory already */
	} else if (rest > 0) {
		r->fd = dup(m->fd);
		if (r->fd < 0) {
			free(r);
			smtp_client_session_failed(c, "cannot read the spool file for");
			return;
		}
		r->offset = m->body_offset + body_pos;
		r->want = rest;
		r->c = c;
		r->work.run = body_read_run;
		r->work.done = body_read_done;
		c->reading = r;
		workpool_submit(c->reader, &r->work);
		return;
	}
	send_piece(c, &r->data);
	buf_free(&r->data);
	free(r);
}

static void start_body(struct smtp_conn *c)
{
	c->state = CS_BODY;
	c->body_pos = 0;
	wire_data_init(&c->wire);
	/* The connection's output_low callback sends the next part. */
	smtp_client_send_body(c);
}

static enum rcpt_outcome outcome_of(int code)
{
	return code < 400 ? OUTCOME_DELIVERED : code < 500 ? OUTCOME_TEMP : OUTCOME_PERM;
}

static void set_from_reply(struct smtp_conn *c, size_t i, const struct smtp_reply *r)
{
	char dsn_buf[16], text[ERROR_MAX];
	char diag[ERROR_MAX + 8];
	smtp_client_describe_reply(r, text, sizeof(text));
	snprintf(diag, sizeof(diag), "smtp; %s", text);
	rcpt_result_set(&c->job->results[i], outcome_of(r->code),
	                reply_dsn(r, dsn_buf, sizeof(dsn_buf)), c->remote, diag);
}

/* The transaction is over; RSET if it ended early. */
static void end_transaction(struct smtp_conn *c, bool rset)
{
	smtp_client_finish_job(c, OUTCOME_TEMP, "4.0.0",
	                       "smtp; transaction ended without a reply");
	if (c->dead)
		return;
	if (rset) {
		c->state = CS_RSET;
		smtp_client_send_line(c, "RSET");
		smtp_client_arm(c, c->config->delivery.mail_timeout);
		return;
	}
	smtp_client_become_ready(c);
}

void smtp_client_tx_reply(struct smtp_conn *c, const struct smtp_reply *r)
{
	struct mta_job *job = c->job;
	size_t n = job->rcpt_count;
	size_t i = c->reply_index++;
	bool ok = r->code >= 200 && r->code < 300;
	bool pipelining = c->ehlo.pipelining;
	if (i == 0) {
		c->mail_ok = ok;
		if (!ok) {
			for (size_t k = 0; k < n; k++)
				set_from_reply(c, job->rcpts[k], r);
			if (!pipelining) {
				end_transaction(c, true);
				return;
			}
		} else if (!pipelining) {
			send_rcpt(c, 0);
		}
	} else if (i <= n) {
		size_t k = i - 1;
		if (c->mail_ok) {
			if (ok) {
				c->accepted[k] = true;
				c->accepted_count++;
			} else {
				set_from_reply(c, job->rcpts[k], r);
			}
		}
		if (!pipelining) {
			if (k + 1 < n) {
				send_rcpt(c, k + 1);
			} else if (c->accepted_count > 0) {
				smtp_client_send_line(c, "DATA");
			} else {
				end_transaction(c, true);
				return;
			}
		}
	} else {
		if (r->code == 354 && c->mail_ok && c->accepted_count > 0) {
			start_body(c);
			return;
		}
		if (r->code == 354) {
			/* DATA accepted with no recipient: the server broke RFC
			 * 2920 3.1; nothing sensible can follow. */
			smtp_client_session_failed(c,
			                           "354 to DATA without recipients from");
			return;
		}
		for (size_t k = 0; k < n; k++)
			if (c->accepted[k])
				set_from_reply(c, job->rcpts[k], r);
		end_transaction(c, true);
		return;
	}
	arm_for_reply(c, c->reply_index);
}

void smtp_client_dot_reply(struct smtp_conn *c, const struct smtp_reply *r)
{
	struct mta_job *job = c->job;
	for (size_t k = 0; k < job->rcpt_count; k++) {
		if (!c->accepted[k])
			continue;
		size_t i = job->rcpts[k];
		set_from_reply(c, i, r);
		/* NOTIFY=SUCCESS to a server without DSN: we say "relayed". */
		job->results[i].relayed = r->code < 300 && !c->ehlo.dsn &&
		                          (job->env->rcpts[i].notify & NOTIFY_SUCCESS);
		job->results[i].dsn_passed = r->code < 300 && c->ehlo.dsn;
	}
	end_transaction(c, false);
}
