/*
 * delivery.c — delivery attempts (see delivery.h).
 *
 * Progress is recorded in <id>.done, one "D <index>\n" line per finished
 * recipient, appended and fdatasynced before the next recipient; a crash
 * therefore repeats at most the recipient in progress (at least once,
 * never lost). A message's last recipient needs no record: the spool
 * entry is removed instead.
 */
#include "queue/delivery.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "proto/smtp_addr.h"
#include "queue/envelope.h"
#include "queue/maildir.h"

static void load_done(const char *path, bool *done, size_t count)
{
	char *data;
	size_t len;
	const char *error;
	if (fs_read_file(path, &data, &len, &error) < 0)
		return;
	for (char *line = data; line < data + len;) {
		char *end = memchr(line, '\n', (size_t)(data + len - line));
		if (end == NULL)
			break; /* a torn last record: that recipient is redone */
		if (line[0] == 'D' && line[1] == ' ') {
			unsigned long index = strtoul(line + 2, NULL, 10);
			if (index < count)
				done[index] = true;
		}
		line = end + 1;
	}
	free(data);
}

static int record_done(const char *path, size_t index)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	char line[32];
	int n = snprintf(line, sizeof(line), "D %zu\n", index);
	int r = fs_write_all(fd, line, (size_t)n);
	if (r == 0)
		r = fdatasync(fd);
	close(fd);
	return r;
}

/* Works out the Maildir of a local recipient; -1 if it is not one. */
static int local_mailbox(const struct config *config, const char *rcpt, struct buf *dir)
{
	struct buf path = BUF_INIT;
	buf_appendf(&path, "<%s>", rcpt);
	struct smtp_addr addr;
	const char *error;
	int n = smtp_addr_parse(path.data, path.len, 0, &addr, &error);
	buf_free(&path);
	if (n < 0 || addr.domain_literal || !config_is_local_domain(config, addr.domain))
		return -1;
	const struct user_config *user =
	    config_find_local_user(config, addr.local, addr.local_len, addr.domain);
	if (user == NULL)
		return -1;
	/* Built from the configured address, never from what the client sent;
	 * config.c refuses '/' and a leading '.' in local parts. */
	const char *at = strrchr(user->address, '@');
	buf_reset(dir);
	buf_appendf(dir, "%s/mail/%s/%.*s", config->home, at + 1,
	            (int)(at - user->address), user->address);
	return 0;
}

enum delivery_outcome delivery_attempt(const struct config *config, struct spool *spool,
                                       const char *id)
{
	struct buf path = BUF_INIT, done_path = BUF_INIT, mailbox = BUF_INIT,
	           head = BUF_INIT;
	spool_path(&path, spool->queue_dir, id, "");
	spool_path(&done_path, spool->queue_dir, id, ".done");
	char *data = NULL;
	size_t len;
	const char *error;
	enum delivery_outcome outcome = DELIVERY_DEFERRED;
	struct envelope env;
	memset(&env, 0, sizeof(env));
	bool *done = NULL;
	if (fs_read_file(path.data, &data, &len, &error) < 0) {
		outcome = errno == ENOENT ? DELIVERY_DONE : DELIVERY_DEFERRED;
		if (errno != ENOENT)
			log_msg(L_ERROR, "event=spool-read-failed id=%s error=%s", id,
			        LOG_Q(error));
		goto out;
	}
	const char *message;
	size_t message_len;
	int parsed = envelope_parse(data, len, &env, &message, &message_len, &error);
	if (parsed == 0 && strcmp(env.id, id) != 0) {
		/* Stale content: a recycled file, or blocks of another
		 * message after a crash. Never deliver it under this name. */
		parsed = -1;
		error = "queue id inside differs from the file name";
	}
	if (parsed < 0) {
		log_msg(L_ERROR, "event=spool-corrupt id=%s error=%s", id, LOG_Q(error));
		outcome = DELIVERY_BROKEN;
		goto out;
	}
	done = xcalloc(env.rcpt_count, sizeof(*done));
	load_done(done_path.data, done, env.rcpt_count);
	size_t remaining = 0;
	for (size_t i = 0; i < env.rcpt_count; i++)
		remaining += !done[i];
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < env.rcpt_count; i++) {
		if (done[i])
			continue;
		const char *rcpt = env.rcpts[i].address;
		if (local_mailbox(config, rcpt, &mailbox) < 0) {
			/* Remote routing and bounces belong to the MTA (DNS/MX);
			 * until a route exists the message waits, intact. */
			log_msg(L_INFO,
			        "event=deferred id=%s to=%s relay=none status=deferred "
			        "reason=\"no route to recipient\"",
			        id, LOG_Q(rcpt));
			continue;
		}
		buf_reset(&head);
		buf_appendf(&head, "Return-Path: <%s>\r\nDelivered-To: %s\r\n",
		            env.sender, rcpt);
		char name[256];
		if (maildir_deliver(mailbox.data, config->hostname, head.data, head.len,
		                    message, message_len, name, &error) < 0) {
			log_msg(L_WARN,
			        "event=deferred id=%s to=%s relay=local status=deferred "
			        "reason=%s",
			        id, LOG_Q(rcpt), LOG_Q(error));
			continue;
		}
		done[i] = true;
		remaining--;
		log_msg(L_INFO,
		        "event=delivered id=%s from=%s to=%s relay=local status=sent "
		        "delay=%llds file=%s",
		        id, LOG_Q(env.sender), LOG_Q(rcpt),
		        (long long)(now - env.arrival), LOG_Q(name));
		if (remaining > 0 && record_done(done_path.data, i) < 0)
			log_msg(L_ERROR, "event=done-record-failed id=%s error=%s", id,
			        LOG_Q(strerror(errno)));
	}
	if (remaining == 0) {
		unlink(done_path.data);
		spool_retire(spool, id);
		log_msg(L_INFO, "event=removed id=%s", id);
		outcome = DELIVERY_DONE;
	}
out:
	free(done);
	envelope_clear(&env);
	free(data);
	buf_free(&path);
	buf_free(&done_path);
	buf_free(&mailbox);
	buf_free(&head);
	return outcome;
}
