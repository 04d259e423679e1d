/*
 * cmd_append.c — APPEND (RFC 9051 6.3.12) with UIDPLUS's APPENDUID (RFC
 * 4315), LITERAL+ (RFC 7888) and APPENDLIMIT (RFC 7889).
 *
 * A message larger than what the parser holds inline is streamed: the
 * parser stops at its literal (IMAP_PARSE_STREAM) with the arguments so
 * far, the folder and the quota are checked before a single octet is
 * taken (a synchronising literal is then never sent; a non-synchronising
 * one is skipped), and the octets go straight into the folder's tmp/.
 *
 * Their fdatasync, which for a large message takes as long as the disk
 * needs, runs on a pool thread while the loop serves the other sessions;
 * this client reads nothing more until it is over. The rename, the
 * index and the reply follow on the loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "imapd/commands.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "proto/imap_search.h"
#include "proto/imap_utf7.h"

struct append_args {
	char name[IMAP_MAILBOX_NAME_MAX + 1];
	uint16_t flags;
	const char *keywords[MAIL_KEYWORDS_MAX];
	size_t keyword_count;
	int64_t date; /* 0: now */
	const struct imap_arg *message;
};

/* mailbox [(flags)] [date-time] message; false after a reply. */
static bool parse(struct imap_client *c, const struct imap_arg *args, unsigned count,
                  struct append_args *out)
{
	memset(out, 0, sizeof(*out));
	if (count < 2 || count > 4) {
		client_tagged(c, "BAD", "APPEND mailbox [(flags)] [date-time] literal");
		return false;
	}
	if (!client_mailbox_arg(c, args, out->name))
		return false;
	const struct imap_arg *a = args->next;
	if (a->type == IMAP_ARG_LIST) {
		if (!client_parse_flags(c, a, &out->flags, out->keywords,
		                        &out->keyword_count))
			return false;
		a = a->next;
	}
	if (a && a->type == IMAP_ARG_QUOTED) {
		if (imap_datetime_parse(a->str, &out->date) < 0) {
			client_tagged(c, "BAD", "Invalid date-time");
			return false;
		}
		a = a->next;
	}
	if (a == NULL || a->next ||
	    (a->type != IMAP_ARG_LITERAL && a->type != IMAP_ARG_STREAMED)) {
		client_tagged(c, "BAD", "APPEND mailbox [(flags)] [date-time] literal");
		return false;
	}
	out->message = a;
	return true;
}

static const char *begin_error(int error_number, const char *error)
{
	if (error_number == ENOENT)
		return "[TRYCREATE] No such mailbox";
	return client_store_error(error_number, error);
}

void client_append_stream(struct imap_client *c, const struct imap_arg *args,
                          unsigned count, uint64_t size)
{
	struct append_args parsed;
	const char *error;
	/* The reply to a refusal waits for the parser's ERROR; until then
	 * nothing is sent, so a BAD from parse() is taken back here. */
	if (strcmp(c->command, "APPEND") != 0) {
		free(c->append_refusal);
		c->append_refusal = NULL;
		imap_parser_stream_refuse(c->parser,
		                          "Literal too large for this command");
		return;
	}
	struct buf saved = BUF_INIT;
	struct conn *conn = c->conn;
	c->conn = NULL; /* parse() may reply: held back, said at ERROR */
	bool ok = parse(c, args, count, &parsed);
	c->conn = conn;
	buf_free(&saved);
	if (!ok) {
		c->append_refusal = xstrdup("Invalid APPEND arguments");
		imap_parser_stream_refuse(c->parser, "Invalid APPEND arguments");
		return;
	}
	if (mail_append_begin(c->store, parsed.name, size, &c->append, &error) < 0) {
		c->append_refusal = xstrdup(begin_error(errno, error));
		imap_parser_stream_refuse(c->parser, c->append_refusal);
		return;
	}
	c->append_left = size;
}

struct append_sync {
	struct work work;
	struct imap_client *client; /* NULL once it went away */
	struct mail_append *append;
	uint16_t flags;
	char *keywords[MAIL_KEYWORDS_MAX];
	size_t keyword_count;
	int64_t date;
};

static void sync_free(struct append_sync *job)
{
	mail_append_abort(&job->append);
	for (size_t i = 0; i < job->keyword_count; i++)
		free(job->keywords[i]);
	free(job);
}

static void sync_run(struct work *work)
{
	struct append_sync *job = (struct append_sync *)work;
	mail_append_sync(job->append); /* a failure is finish()'s to report */
}

static void sync_done(struct work *work)
{
	struct append_sync *job = (struct append_sync *)work;
	struct imap_client *c = job->client;
	if (c == NULL) {
		sync_free(job);
		return;
	}
	c->append_sync = NULL;
	uint32_t uidvalidity, uid;
	const char *error;
	if (mail_append_finish(&job->append, job->flags,
	                       (const char *const *)job->keywords, job->keyword_count,
	                       job->date, &uidvalidity, &uid, &error) < 0) {
		log_msg(L_ERROR, "event=append-failed session=%s user=%s error=%s",
		        c->log_id, LOG_Q(c->user), LOG_Q(error));
		client_tagged(c, "NO", "%s", client_store_error(errno, error));
	} else {
		client_tagged(c, "OK", "[APPENDUID %u %u] Append completed", uidvalidity,
		              uid);
	}
	sync_free(job);
	client_resume(c); /* the commands that wait behind it */
}

static void finish(struct imap_client *c, const struct append_args *a)
{
	struct append_sync *job = xcalloc(1, sizeof(*job));
	job->work = (struct work){.run = sync_run, .done = sync_done};
	job->client = c;
	job->append = c->append;
	c->append = NULL;
	job->flags = a->flags;
	for (size_t i = 0; i < a->keyword_count; i++)
		job->keywords[i] = xstrdup(a->keywords[i]);
	job->keyword_count = a->keyword_count;
	job->date = a->date;
	c->append_sync = job;
	workpool_submit(c->server->pool, &job->work);
}

void client_append_detach(struct imap_client *c)
{
	if (c->append_sync) {
		c->append_sync->client = NULL;
		c->append_sync = NULL;
	}
}

void imap_cmd_append(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	struct append_args a;
	if (!parse(c, args, count, &a)) {
		mail_append_abort(&c->append);
		return;
	}
	const char *error;
	if (a.message->type == IMAP_ARG_STREAMED) {
		if (c->append == NULL) {
			client_tagged(c, "NO",
			              "[SERVERBUG] The message could not be stored");
			return;
		}
		finish(c, &a);
		return;
	}
	if (a.message->len == 0) {
		client_tagged(c, "NO", "An empty message cannot be appended");
		return;
	}
	if (mail_append_begin(c->store, a.name, a.message->len, &c->append, &error) < 0) {
		client_tagged(c, "NO", "%s", begin_error(errno, error));
		return;
	}
	if (mail_append_write(c->append, a.message->str, a.message->len, &error) < 0) {
		mail_append_abort(&c->append);
		client_tagged(c, "NO", "[SERVERBUG] %s", error);
		return;
	}
	finish(c, &a);
}
