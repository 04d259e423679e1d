/*
 * delivery.c — the two halves of a delivery attempt (see delivery.h).
 *
 * Durability: a local delivery is journalled (D) before the next one
 * starts; remote results are journalled when the attempt ends, so a crash
 * in between repeats them (at least once, never lost). A notification is
 * announced (N) before it is queued and confirmed (C) after, so a crash
 * can neither lose it nor send it twice (msg_status.h).
 */
#include "queue/delivery.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "auth/auth_client.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "queue/dsn.h"
#include "mta/route.h"
#include "proto/smtp_addr.h"
#include "proto/utf8.h"
#include "mailbox/maildir.h"
#include "mailbox/quota.h"
#include "queue/retry.h"
#include "queue/spool_read.h"
#include "queue/spool_writer.h"

/* What a DSN reads of the original message: more than DSN_ORIGINAL_MAX,
 * and than any header section petrel accepts with its Received. */
#define DSN_QUOTE_READ (512 * 1024)

/* After a local failure to even read the spool: try again in a while. */
#define ERROR_RETRY_SECONDS 300

void attempt_state_clear(struct attempt_state *a)
{
	if (a->results)
		for (size_t i = 0; i < a->env.rcpt_count; i++)
			rcpt_result_clear(&a->results[i]);
	free(a->results);
	free(a->remote);
	msg_status_clear(&a->status);
	envelope_clear(&a->env);
	spool_entry_clear(&a->entry);
	a->results = NULL;
	a->remote = NULL;
}

static void status_path(struct buf *out, const struct spool *spool, const char *id)
{
	spool_path(out, spool->queue_dir, id, ".status");
}

/* Appends records to the message's journal; on failure the attempt is
 * cut short and the message retried (nothing is retired unrecorded). */
static int journal(struct attempt_state *a, const struct spool *spool,
                   struct buf *records)
{
	struct buf path = BUF_INIT;
	status_path(&path, spool, a->id);
	const char *error;
	int r = msg_status_append(&a->status, path.data, records, &error);
	if (r < 0)
		log_msg(L_ERROR, "event=journal-failed id=%s error=%s", a->id,
		        LOG_Q(error));
	buf_free(&path);
	buf_reset(records);
	return r;
}

/* The user database could not answer for recipient i: try again later. */
static void defer_unknown(struct attempt_state *a, size_t i, const char *error)
{
	struct buf why = BUF_INIT;
	buf_appendf(&why, "x-petrel; user database unavailable: %s", error);
	rcpt_result_set(&a->results[i], OUTCOME_TEMP, "4.3.0", NULL, why.data);
	EVENT(L_WARN, &event_delivery, EV_WORD("id", a->id),
	      EV_TEXT("to", a->env.rcpts[i].address),
	      EV_OPTIONAL("orig_to", a->env.rcpts[i].original), EV_WORD("relay", "local"),
	      EV_WORD("dsn", "4.3.0"), EV_WORD("status", "deferred"),
	      EV_TEXT("reply", why.data), EV_LABEL("transport", "maildir"));
	buf_free(&why);
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void deliver_local(const struct config *config, const struct spool *spool,
                          struct attempt_state *a, size_t i, const char *owner,
                          uint64_t quota)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	const char *rcpt = a->env.rcpts[i].address;
	struct buf mailbox = BUF_INIT, head = BUF_INIT, records = BUF_INIT;
	const char *error;
	char name[256];
	if (owner == NULL) {
		rcpt_result_set(&a->results[i], OUTCOME_PERM, "5.1.1", NULL,
		                "x-petrel; no such local user");
	} else {
		maildir_user_root(config->home, owner, &mailbox);
		buf_appendf(&head, "Return-Path: <%s>\r\nDelivered-To: %s\r\n",
		            a->env.sender, rcpt);
		uint64_t size = head.len + message_source_size(&a->message);
		int over = mail_quota_check(mailbox.data, quota, size, &error);
		if (over != 0) {
			/* Full (or unknown): later, when the user has made room;
			 * the queue's lifetime bounds the wait. */
			struct buf why = BUF_INIT;
			buf_appendf(&why, "x-petrel; %s",
			            over > 0 ? "mailbox full (over quota)" : error);
			rcpt_result_set(&a->results[i], OUTCOME_TEMP,
			                over > 0 ? "4.2.2" : "4.3.0", NULL, why.data);
			buf_free(&why);
		} else if (maildir_deliver(mailbox.data, config->hostname, head.data,
		                           head.len, &a->message, name, &error) < 0) {
			struct buf why = BUF_INIT;
			buf_appendf(&why, "x-petrel; local delivery failed: %s", error);
			rcpt_result_set(&a->results[i], OUTCOME_TEMP, "4.3.0", NULL,
			                why.data);
			buf_free(&why);
		} else {
			rcpt_result_set(&a->results[i], OUTCOME_DELIVERED, "2.0.0", NULL,
			                "x-petrel; delivered to mailbox");
			mail_quota_add(mailbox.data, (int64_t)size, 1);
			status_record_delivered(&records, i);
			journal(a, spool, &records);
		}
	}
	const struct rcpt_result *r = &a->results[i];
	char delay[24];
	snprintf(delay, sizeof(delay), "%llds", (long long)(a->now - a->env.arrival));
	bool sent = r->outcome == OUTCOME_DELIVERED;
	const char *status = sent                         ? "sent"
	                     : r->outcome == OUTCOME_PERM ? "bounced"
	                                                  : "deferred";
	if (sent)
		EVENT(L_INFO, &event_delivery, EV_WORD("id", a->id),
		      EV_TEXT("from", a->env.sender), EV_TEXT("to", rcpt),
		      EV_OPTIONAL("orig_to", a->env.rcpts[i].original),
		      EV_WORD("relay", "local"), EV_WORD("tls", "none"),
		      EV_WORD("delay", delay), EV_WORD("dsn", r->dsn),
		      EV_WORD("status", status), EV_TEXT("reply", r->diagnostic),
		      EV_TEXT("file", name), EV_SECONDS("attempt", seconds_since(&start)),
		      EV_LABEL("transport", "maildir"));
	else
		EVENT(L_WARN, &event_delivery, EV_WORD("id", a->id),
		      EV_TEXT("from", a->env.sender), EV_TEXT("to", rcpt),
		      EV_OPTIONAL("orig_to", a->env.rcpts[i].original),
		      EV_WORD("relay", "local"), EV_WORD("tls", "none"),
		      EV_WORD("delay", delay), EV_WORD("dsn", r->dsn),
		      EV_WORD("status", status), EV_TEXT("reply", r->diagnostic),
		      EV_SECONDS("attempt", seconds_since(&start)),
		      EV_LABEL("transport", "maildir"));
	buf_free(&mailbox);
	buf_free(&head);
	buf_free(&records);
}

void delivery_begin(const struct config *config, struct spool *spool,
                    struct attempt_state *a)
{
	struct buf path = BUF_INIT;
	const char *error;
	a->now = (int64_t)time(NULL);
	spool_path(&path, spool->queue_dir, a->id, "");
	if (spool_entry_read(path.data, &a->entry, &error) < 0) {
		if (errno == ENOENT) {
			a->outcome = DELIVERY_DONE;
			buf_free(&path);
			return;
		}
		if (errno == EINVAL) {
			log_msg(L_ERROR, "event=spool-corrupt id=%s error=%s", a->id,
			        LOG_Q(error));
			a->outcome = DELIVERY_BROKEN;
			buf_free(&path);
			return;
		}
		a->outcome = DELIVERY_DEFERRED;
		a->next_attempt = a->now + ERROR_RETRY_SECONDS;
		log_msg(L_ERROR, "event=spool-read-failed id=%s error=%s", a->id,
		        LOG_Q(error));
		buf_free(&path);
		return;
	}
	int parsed = spool_entry_source(path.data, &a->entry, &a->message, &error);
	buf_free(&path);
	a->env = a->entry.env;
	a->entry.env = (struct envelope){0};
	if (parsed == 0 && strcmp(a->env.id, a->id) != 0) {
		/* Stale content: a recycled file, or blocks of another
		 * message after a crash. Never deliver it under this name. */
		envelope_clear(&a->env);
		parsed = -1;
		error = "queue id inside differs from the file name";
	}
	if (parsed < 0) {
		log_msg(L_ERROR, "event=spool-corrupt id=%s error=%s", a->id,
		        LOG_Q(error));
		a->outcome = DELIVERY_BROKEN;
		return;
	}
	size_t n = a->env.rcpt_count;
	msg_status_init(&a->status, n);
	status_path(&path, spool, a->id);
	if (msg_status_load(&a->status, path.data, &error) < 0)
		log_msg(L_ERROR, "event=journal-read-failed id=%s error=%s", a->id,
		        LOG_Q(error));
	buf_free(&path);
	a->results = xcalloc(n, sizeof(*a->results));
	a->remote = xcalloc(n, sizeof(*a->remote));
	if (a->status.held && !a->forced) {
		a->outcome = DELIVERY_HELD;
		return;
	}
	if (!a->forced && a->status.next_attempt > a->now) {
		a->outcome = DELIVERY_DEFERRED;
		a->next_attempt = a->status.next_attempt;
		return;
	}
	/* The user database is the auth process's (auth/auth_server.h). */
	struct auth_client *auth = auth_client_for_thread(config);
	for (size_t i = 0; i < n; i++) {
		if (a->status.rcpt[i].state != RCPT_PENDING)
			continue;
		const char *at = strrchr(a->env.rcpts[i].address, '@');
		const char *domain = at ? at + 1 : "";
		/* Without the database a local domain could be mistaken for a
		 * remote one (and sent to our own MX): wait instead. */
		char *owner = NULL;
		uint64_t quota = 0;
		int local = auth_client_local_rcpt(auth, a->env.rcpts[i].address, &owner,
		                                   &quota, &error);
		if (local < 0) {
			defer_unknown(a, i, error);
			continue;
		}
		struct route route;
		route_for_domain(config, domain, local, &route);
		if (route.kind == ROUTE_LOCAL) {
			deliver_local(config, spool, a, i, owner, quota);
		} else {
			a->remote[i] = true;
			a->remote_count++;
		}
		free(owner);
	}
	if (a->remote_count > 0) {
		/* RFC 6152 3: 8-bit data goes only to servers that take it;
		 * whether there is any is found here, on a thread, by reading
		 * the message through once. */
		bool body8 = a->env.body && strcasecmp(a->env.body, "8BITMIME") == 0;
		if (body8 && message_source_has_8bit(&a->message, &a->has_8bit) < 0)
			a->has_8bit = true; /* unreadable: the send will say so */
		a->outcome = DELIVERY_REMOTE;
		return;
	}
	delivery_finish(config, spool, a);
}

/* NOTIFY= absent means failures and delays (RFC 3461 4.1 leaves it to us). */
static bool wants(const struct envelope_rcpt *r, unsigned what)
{
	unsigned notify = r->notify ? r->notify : NOTIFY_FAILURE | NOTIFY_DELAY;
	return (notify & what) != 0 && !(notify & NOTIFY_NEVER);
}

/* Builds and queues notification dsn_id about rcpts. */
static int queue_dsn(const struct config *config, const struct spool *spool,
                     struct attempt_state *a, enum dsn_kind kind, const char *dsn_id,
                     const size_t *rcpts, size_t count)
{
	unsigned char *relayed = xcalloc(count ? count : 1, 1);
	for (size_t k = 0; k < count; k++)
		relayed[k] = a->results[rcpts[k]].relayed;
	struct dsn_input in = {
	    .kind = kind,
	    .hostname = config->hostname,
	    .dsn_id = dsn_id,
	    .now = a->now,
	    .retry_until = a->env.arrival + (int64_t)config->queue.max_lifetime,
	    .env = &a->env,
	    .status = &a->status,
	    .rcpts = rcpts,
	    .rcpt_count = count,
	    .relayed = relayed,
	};
	/* The beginning of the message: all of it if it is small, else
	 * enough to hold its header section. */
	uint64_t size = message_source_size(&a->message);
	size_t want = size > DSN_QUOTE_READ ? DSN_QUOTE_READ : (size_t)size;
	char *quote = xmalloc(want + 1);
	ssize_t got = message_source_read(&a->message, 0, quote, want);
	in.message = quote;
	in.message_len = got > 0 ? (size_t)got : 0;
	in.message_size = got == (ssize_t)want ? size : in.message_len;
	struct envelope env;
	memset(&env, 0, sizeof(env));
	memcpy(env.id, dsn_id, QUEUE_ID_LEN + 1);
	env.arrival = a->now;
	env.sender = xstrdup("");
	env.helo = xstrdup(config->hostname);
	env.body = xstrdup(a->env.body ? a->env.body : "7BIT");
	env.smtputf8 = a->env.smtputf8 || !utf8_is_ascii(a->env.sender);
	env.parent = xstrdup(a->id);
	envelope_add_rcpt(&env, a->env.sender)->notify = NOTIFY_NEVER;
	struct buf content = BUF_INIT, trailer = BUF_INIT;
	dsn_build(&in, &content);
	envelope_spool_end(&env, "", 0, 0, content.len, &trailer);
	int error_errno;
	int r = spool_commit_now(spool, dsn_id, &content, &trailer, &error_errno);
	if (r < 0)
		log_msg(L_ERROR, "event=dsn-queue-failed id=%s dsn=%s error=%s", a->id,
		        dsn_id, LOG_Q(strerror(error_errno)));
	else
		log_msg(L_INFO,
		        "event=dsn-queued id=%s dsn_id=%s kind=%s to=%s rcpts=%zu", a->id,
		        dsn_id,
		        kind == DSN_FAILURE ? "failure"
		        : kind == DSN_DELAY ? "delay"
		                            : "success",
		        LOG_Q(a->env.sender), count);
	buf_free(&content);
	buf_free(&trailer);
	envelope_clear(&env);
	free(relayed);
	free(quote);
	return r;
}

static bool dsn_exists(const struct spool *spool, const char *dsn_id)
{
	struct buf path = BUF_INIT;
	spool_path(&path, spool->queue_dir, dsn_id, "");
	bool exists = access(path.data, F_OK) == 0;
	buf_free(&path);
	return exists;
}

/* N, queue, C: see msg_status.h. */
static int notify(const struct config *config, const struct spool *spool,
                  struct attempt_state *a, enum dsn_kind kind, const size_t *rcpts,
                  size_t count)
{
	char dsn_id[QUEUE_ID_LEN + 1];
	queue_id_new(dsn_id);
	struct buf records = BUF_INIT;
	status_record_intent(&records, kind, dsn_id, rcpts, count);
	int r = journal(a, spool, &records);
	if (r == 0)
		r = queue_dsn(config, spool, a, kind, dsn_id, rcpts, count);
	if (r == 0) {
		status_record_commit(&records, dsn_id);
		r = journal(a, spool, &records);
		if (a->new_dsn_count < DSN_IDS_MAX)
			memcpy(a->new_dsns[a->new_dsn_count++], dsn_id, QUEUE_ID_LEN + 1);
	}
	buf_free(&records);
	return r;
}

/* Finishes notifications announced before a crash, under the same ID. */
static int complete_intents(const struct config *config, const struct spool *spool,
                            struct attempt_state *a)
{
	struct buf records = BUF_INIT;
	int r = 0;
	for (size_t k = 0; r == 0 && k < a->status.intent_count; k++) {
		const struct dsn_intent *in = &a->status.intents[k];
		if (in->committed)
			continue;
		char dsn_id[QUEUE_ID_LEN + 1];
		memcpy(dsn_id, in->id, sizeof(dsn_id));
		if (!dsn_exists(spool, dsn_id)) {
			size_t *rcpts =
			    xmalloc((in->count ? in->count : 1) * sizeof(*rcpts));
			memcpy(rcpts, in->rcpts, in->count * sizeof(*rcpts));
			r = queue_dsn(config, spool, a, in->kind, dsn_id, rcpts,
			              in->count);
			free(rcpts);
			if (r == 0 && a->new_dsn_count < DSN_IDS_MAX)
				memcpy(a->new_dsns[a->new_dsn_count++], dsn_id,
				       sizeof(dsn_id));
		}
		if (r == 0) {
			status_record_commit(&records, dsn_id);
			r = journal(a, spool, &records);
		}
	}
	buf_free(&records);
	return r;
}

static int send_notifications(const struct config *config, const struct spool *spool,
                              struct attempt_state *a, bool expired)
{
	size_t n = a->env.rcpt_count;
	if (a->env.sender[0] == '\0')
		return 0; /* never a DSN to the null sender (RFC 3461 6.2) */
	if (complete_intents(config, spool, a) < 0)
		return -1;
	size_t *list = xcalloc(n, sizeof(*list));
	size_t count = 0;
	int r = 0;
	for (size_t i = 0; i < n; i++)
		if (a->status.rcpt[i].state == RCPT_FAILED &&
		    !msg_status_notified(&a->status, i, DSN_FAILURE) &&
		    wants(&a->env.rcpts[i], NOTIFY_FAILURE))
			list[count++] = i;
	if (count > 0)
		r = notify(config, spool, a, DSN_FAILURE, list, count);
	count = 0;
	const struct queue_config *q = &config->queue;
	if (r == 0 && !expired && q->delay_warning > 0 &&
	    a->now - a->env.arrival >= (int64_t)q->delay_warning) {
		for (size_t i = 0; i < n; i++)
			if (a->status.rcpt[i].state == RCPT_PENDING &&
			    a->status.rcpt[i].temp_failed &&
			    !msg_status_notified(&a->status, i, DSN_DELAY) &&
			    wants(&a->env.rcpts[i], NOTIFY_DELAY))
				list[count++] = i;
		if (count > 0)
			r = notify(config, spool, a, DSN_DELAY, list, count);
	}
	count = 0;
	/* Success: delivered here, or relayed to a server without DSN; a
	 * server with DSN got NOTIFY and reports itself (RFC 3461 5.2). */
	for (size_t i = 0; r == 0 && i < n; i++)
		if (a->results[i].outcome == OUTCOME_DELIVERED &&
		    !a->results[i].dsn_passed &&
		    !msg_status_notified(&a->status, i, DSN_SUCCESS) &&
		    wants(&a->env.rcpts[i], NOTIFY_SUCCESS))
			list[count++] = i;
	if (r == 0 && count > 0)
		r = notify(config, spool, a, DSN_SUCCESS, list, count);
	free(list);
	return r;
}

/* A notification being retired confirms itself in its parent's journal
 * first, so that the parent never queues it again (msg_status.h). */
static void confirm_to_parent(const struct spool *spool, const struct attempt_state *a)
{
	if (a->env.parent == NULL ||
	    !queue_id_valid(a->env.parent, strlen(a->env.parent)))
		return;
	struct buf path = BUF_INIT, records = BUF_INIT;
	spool_path(&path, spool->queue_dir, a->env.parent, ".status");
	if (access(path.data, F_OK) == 0) {
		struct msg_status scratch;
		msg_status_init(&scratch, 0);
		const char *error;
		status_record_commit(&records, a->id);
		if (msg_status_append(&scratch, path.data, &records, &error) < 0)
			log_msg(L_ERROR, "event=journal-failed id=%s error=%s",
			        a->env.parent, LOG_Q(error));
		msg_status_clear(&scratch);
	}
	buf_free(&path);
	buf_free(&records);
}

void delivery_finish(const struct config *config, struct spool *spool,
                     struct attempt_state *a)
{
	size_t n = a->env.rcpt_count;
	struct buf records = BUF_INIT;
	a->outcome = DELIVERY_DEFERRED;
	a->next_attempt = a->now + ERROR_RETRY_SECONDS;
	for (size_t i = 0; i < n; i++) {
		const struct rcpt_result *r = &a->results[i];
		if (r->outcome == OUTCOME_DELIVERED &&
		    a->status.rcpt[i].state != RCPT_DELIVERED)
			status_record_delivered(&records, i);
		else if (r->outcome == OUTCOME_PERM || r->outcome == OUTCOME_TEMP)
			status_record_failure(&records, i, r->outcome == OUTCOME_PERM,
			                      r->dsn, r->remote, r->diagnostic);
	}
	if (journal(a, spool, &records) < 0)
		goto out;
	bool expired = retry_expired(&config->queue, a->env.arrival, a->now);
	if (expired) {
		for (size_t i = 0; i < n; i++) {
			const struct rcpt_status *st = &a->status.rcpt[i];
			if (st->state != RCPT_PENDING)
				continue;
			struct buf why = BUF_INIT;
			buf_appendf(&why, "%s%s",
			            st->diagnostic ? st->diagnostic
			                           : "x-petrel; delivery time expired",
			            st->diagnostic ? " (delivery time expired)" : "");
			status_record_failure(&records, i, true,
			                      st->dsn[0] ? st->dsn : "4.4.7", st->remote,
			                      why.data);
			log_msg(L_WARN, "event=expired id=%s to=%s age=%llds", a->id,
			        LOG_Q(a->env.rcpts[i].address),
			        (long long)(a->now - a->env.arrival));
			buf_free(&why);
		}
		if (journal(a, spool, &records) < 0)
			goto out;
	}
	if (send_notifications(config, spool, a, expired) < 0)
		goto out;
	bool final = true;
	for (size_t i = 0; i < n; i++)
		final = final && a->status.rcpt[i].state != RCPT_PENDING;
	for (size_t k = 0; k < a->status.intent_count; k++)
		final = final && a->status.intents[k].committed;
	if (final) {
		struct buf path = BUF_INIT;
		confirm_to_parent(spool, a);
		spool_retire(spool, a->id);
		status_path(&path, spool, a->id);
		unlink(path.data); /* after the spool file: never redelivered */
		buf_free(&path);
		log_msg(L_INFO, "event=removed id=%s", a->id);
		a->outcome = DELIVERY_DONE;
		goto out;
	}
	unsigned attempts = a->status.attempts + 1;
	int64_t next = retry_next(&config->queue, a->env.arrival, attempts, a->now);
	status_record_retry(&records, attempts, next);
	if (journal(a, spool, &records) == 0)
		a->next_attempt = next;
out:
	buf_free(&records);
}
