/*
 * maildrop.c — the TRANSACTION state (RFC 1939 5) on the user's INBOX:
 * the messages numbered once at login, sizes with CRLF line ends (as
 * sent), UIDL from the IMAP UID and UIDVALIDITY (so POP3 and IMAP agree,
 * and Dovecot's default format is kept), deletions remembered until QUIT
 * makes them real (UPDATE), and one POP3 session per maildrop at a time
 * ([IN-USE], RFC 2449 8.1.2): an flock that a crash releases.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "pop3d/session.h"

/* RFC 1939 3: an autologout timer of at least 10 minutes. */
#define AUTOLOGOUT_SECONDS 600

void pop3_maildrop_close(struct pop3_session *s)
{
	mailbox_close(&s->mailbox);
	if (s->store)
		mail_store_cache_put(s->server->stores, &s->store);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the flock */
	s->lock_fd = -1;
	x_free(&s->messages);
	s->count = 0;
}

static bool take_lock(struct pop3_session *s)
{
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/petrel-pop3.lock", mail_store_root(s->store));
	s->lock_fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	buf_free(&path);
	if (s->lock_fd >= 0 && flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
		return true;
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
	return false;
}

/* The maildrop as it is now: every INBOX message with its size. */
static bool load_messages(struct pop3_session *s, const char **error_r)
{
	uint32_t n = mailbox_count(s->mailbox);
	uint32_t *uids = xcalloc(n + 1, sizeof(*uids));
	for (uint32_t i = 0; i < n; i++)
		uids[i] = mailbox_get(s->mailbox, i + 1)->uid;
	s->messages = xcalloc(n + 1, sizeof(*s->messages));
	struct mailbox_cursor *cursor =
	    mailbox_cursor_open(s->mailbox, uids, n, MAILBOX_WANT_SIZE);
	struct mailbox_record rec;
	int r;
	while ((r = mailbox_cursor_next(cursor, &rec, error_r)) > 0)
		if (!rec.expunged)
			s->messages[s->count++] =
			    (struct pop3_message){.uid = rec.uid, .size = rec.size};
	mailbox_cursor_close(&cursor);
	free(uids);
	return r == 0;
}

void pop3_logged_in(struct pop3_session *s, const char *user, uint64_t quota)
{
	const char *error;
	s->store = mail_store_cache_get(s->server->stores, user, &error);
	if (s->store == NULL) {
		log_msg(L_ERROR, "event=mailbox-error session=%s user=%s error=%s",
		        s->log_id, LOG_Q(user), LOG_Q(error));
		pop3_reply(s, false, "[SYS/TEMP] The mailbox cannot be opened now");
		return;
	}
	mail_store_set_quota(s->store, quota);
	if (!take_lock(s)) {
		mail_store_cache_put(s->server->stores, &s->store);
		pop3_reply(s, false, "[IN-USE] Another POP3 session has this mailbox");
		return;
	}
	if (mailbox_open(s->store, "INBOX", false, &s->mailbox, &error) < 0 ||
	    !load_messages(s, &error)) {
		log_msg(L_ERROR, "event=mailbox-error session=%s user=%s error=%s",
		        s->log_id, LOG_Q(user), LOG_Q(error));
		pop3_maildrop_close(s);
		pop3_reply(s, false, "[SYS/TEMP] The mailbox cannot be opened now");
		return;
	}
	s->user = xstrdup(user);
	s->state = POP3_STATE_TRANSACTION;
	conn_set_idle_timeout(s->conn, AUTOLOGOUT_SECONDS);
	pop3_reply(s, true, "Logged in, %u messages", s->count);
}

/* A message number argument that names an undeleted message, or NULL
 * after the reply. */
static struct pop3_message *message_arg(struct pop3_session *s, uint32_t number)
{
	if (number == 0 || number > s->count) {
		pop3_reply(s, false, "No such message");
		return NULL;
	}
	struct pop3_message *m = &s->messages[number - 1];
	if (m->deleted) {
		pop3_reply(s, false, "Message %u is deleted", number);
		return NULL;
	}
	return m;
}

void pop3_cmd_noop(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3_reply(s, true, "%s", "");
}

void pop3_cmd_stat(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	uint32_t count = 0;
	uint64_t size = 0;
	for (uint32_t i = 0; i < s->count; i++)
		if (!s->messages[i].deleted) {
			count++;
			size += s->messages[i].size;
		}
	pop3_reply(s, true, "%u %llu", count, (unsigned long long)size);
}

static void list_one(struct pop3_session *s, uint32_t number, bool uidl)
{
	const struct pop3_message *m = &s->messages[number - 1];
	/* Dovecot's default pop3_uidl_format, %08Xu%08Xv */
	if (uidl)
		pop3_printf(s, "%u %08X%08X\r\n", number, m->uid,
		            mailbox_uidvalidity(s->mailbox));
	else
		pop3_printf(s, "%u %llu\r\n", number, (unsigned long long)m->size);
}

static void list_or_uidl(struct pop3_session *s, const struct pop3_cmd *cmd, bool uidl)
{
	if (cmd->argc == 1) {
		if (message_arg(s, cmd->number[0]) == NULL)
			return;
		pop3_printf(s, "+OK ");
		list_one(s, cmd->number[0], uidl);
		s->command = NULL;
		return;
	}
	pop3_reply(s, true, "Listing follows");
	for (uint32_t i = 1; i <= s->count; i++)
		if (!s->messages[i - 1].deleted)
			list_one(s, i, uidl);
	pop3_printf(s, ".\r\n");
}

void pop3_cmd_list(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	list_or_uidl(s, cmd, false);
}

void pop3_cmd_uidl(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	list_or_uidl(s, cmd, true);
}

void pop3_cmd_dele(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	struct pop3_message *m = message_arg(s, cmd->number[0]);
	if (m == NULL)
		return;
	m->deleted = true;
	pop3_reply(s, true, "Message %u deleted", cmd->number[0]);
}

void pop3_cmd_rset(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	for (uint32_t i = 0; i < s->count; i++)
		s->messages[i].deleted = false;
	pop3_reply(s, true, "Nothing will be deleted");
}

void pop3_cmd_retr(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (message_arg(s, cmd->number[0]))
		pop3_retr_start(s, cmd->number[0], false, 0);
}

void pop3_cmd_top(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (message_arg(s, cmd->number[0]))
		pop3_retr_start(s, cmd->number[0], true, cmd->number[1]);
}

/* RFC 1939 6: UPDATE. Deleted messages go (a UID EXPUNGE of exactly
 * them: other \Deleted messages, an IMAP client's, stay); retrieved
 * ones are \Seen, as Dovecot marks them. */
void pop3_update(struct pop3_session *s)
{
	s->state = POP3_STATE_UPDATE;
	uint32_t *seen = xcalloc(s->count + 1, sizeof(*seen)),
	         *doomed_seqs = xcalloc(s->count + 1, sizeof(uint32_t));
	uint32_t *doomed = xcalloc(s->count + 1, sizeof(*doomed));
	size_t seen_count = 0, doomed_count = 0;
	const char *error = NULL;
	int r = mailbox_refresh(s->mailbox, false, NULL, NULL, &error);
	for (uint32_t i = 0; i < s->count && r == 0; i++) {
		uint32_t seq = mailbox_seq_of_uid(s->mailbox, s->messages[i].uid, NULL);
		if (seq == 0)
			continue;
		if (s->messages[i].deleted) {
			doomed_seqs[doomed_count] = seq;
			doomed[doomed_count++] = s->messages[i].uid;
		} else if (s->messages[i].retrieved) {
			seen[seen_count++] = seq;
		}
	}
	struct mailbox_flags_change change = {.op = MAILBOX_FLAGS_ADD,
	                                      .flags = MAIL_SEEN};
	if (r == 0 && seen_count)
		r = mailbox_change_flags(s->mailbox, seen, seen_count, &change, NULL,
		                         NULL, NULL, &error);
	change.flags = MAIL_DELETED;
	if (r == 0 && doomed_count)
		r = mailbox_change_flags(s->mailbox, doomed_seqs, doomed_count, &change,
		                         NULL, NULL, NULL, &error);
	if (r == 0 && doomed_count)
		r = mailbox_expunge(s->mailbox, doomed, doomed_count, NULL, NULL, &error);
	free(seen);
	free(doomed);
	free(doomed_seqs);
	if (r < 0) {
		log_msg(L_ERROR, "event=mailbox-error session=%s user=%s error=%s",
		        s->log_id, LOG_Q(s->user), LOG_Q(error));
		pop3_close_after(s, false,
		                 "[SYS/TEMP] Some deleted messages were not removed");
		return;
	}
	pop3_close_after(s, true, "Bye");
}
