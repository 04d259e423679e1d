/*
 * client.c — one IMAP session: the connection's events, the input loop
 * that feeds the pure parser (proto/imap_parser.h) and dispatches what it
 * returns, the replies, and the news of the selected folder.
 *
 * Input is read only between commands: a command that waits (for the
 * auth process, or for the client to read a large FETCH) pauses it, so
 * pipelined commands run in order. Lines that are not commands — an
 * AUTHENTICATE response, IDLE's DONE — are read here as lines, never
 * given to the parser.
 */
#include "imapd/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "auth/sasl.h"
#include "imapd/commands.h"
#include "lib/error.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/xalloc.h"
#include "net/tls.h"
#include "service/sessions.h"
#include "proto/imap_utf7.h"

#define INPUT_MAX         (64 * 1024)
#define OUTPUT_HIGH_WATER (256 * 1024)
#define OUTPUT_LOW_WATER  (64 * 1024)
/* Before login a command and its literals are small (RFC 9051 allows
 * the server to be strict); after it, APPEND's message may stream. */
#define PREAUTH_LINE_MAX    8192
#define PREAUTH_LITERAL_MAX 8192
#define AUTH_LINE_MAX       (64 * 1024)
#define AUTH_LITERAL_MAX    (64 * 1024)
/* RFC 9051 5.4: at least 30 minutes once logged in. */
#define AUTOLOGOUT_SECONDS 1800
#define SASL_LINE_MAX      12288

static void process_input(struct imap_client *c);

static uint64_t now_usec(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

/* --- output ------------------------------------------------------------- */

static void writer_write(void *ctx, const char *data, size_t len)
{
	struct imap_client *c = ctx;
	if (c->conn)
		conn_write(c->conn, data, len);
}

void client_write(struct imap_client *c, const void *data, size_t len)
{
	if (c->conn)
		conn_write(c->conn, data, len);
}

void client_puts(struct imap_client *c, const char *text)
{
	client_write(c, text, strlen(text));
}

void client_untagged(struct imap_client *c, const char *fmt, ...)
{
	if (c->conn == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	conn_write(c->conn, "* ", 2);
	conn_vprintf(c->conn, fmt, ap);
	conn_write(c->conn, "\r\n", 2);
	va_end(ap);
}

static const char *result_label(const char *status)
{
	return strcmp(status, "OK") == 0   ? "ok"
	       : strcmp(status, "NO") == 0 ? "no"
	                                   : "bad";
}

void client_tagged(struct imap_client *c, const char *status, const char *fmt, ...)
{
	if (c->conn == NULL)
		return;
	/* What changed in the folder comes first (RFC 9051 7). */
	if (c->mailbox && !c->closing)
		client_refresh(c, imap_command_allows_expunge(c));
	va_list ap;
	va_start(ap, fmt);
	conn_printf(c->conn, "%s %s ", c->tag[0] ? c->tag : "*", status);
	conn_vprintf(c->conn, fmt, ap);
	conn_write(c->conn, "\r\n", 2);
	va_end(ap);
	if (strcmp(status, "OK") != 0)
		c->errors++;
	/* The command's name labels the metric only when it is one of
	 * ours (peers do not choose label values). */
	const struct imap_command *known = imap_command_find(c->command);
	double seconds = (double)(now_usec() - c->command_usec) / 1e6;
	/* The label first: a metric takes the first field of its name. */
	EVENT(strcmp(status, "OK") == 0 ? L_DEBUG : L_INFO, &event_imap_command,
	      EV_LABEL("command", known ? known->name : "unknown"),
	      EV_WORD("session", c->log_id), EV_TEXT("user", c->user ? c->user : "-"),
	      EV_TEXT("command", c->uid ? "UID" : c->command),
	      EV_OPTIONAL("subcommand", c->uid ? c->command : NULL),
	      EV_WORD("result", result_label(status)), EV_SECONDS("duration", seconds));
	c->tag[0] = '\0';
	c->uid = false;
}

void client_bye(struct imap_client *c, const char *text)
{
	if (c->closing || c->conn == NULL)
		return;
	client_untagged(c, "BYE %s", text);
	c->closing = true;
	c->state = IMAP_STATE_LOGOUT;
	conn_close_after_flush(c->conn);
	conn_set_idle_timeout(c->conn, 30);
}

void client_pause(struct imap_client *c)
{
	if (c->conn)
		conn_pause(c->conn);
}

void client_resume(struct imap_client *c)
{
	if (c->conn)
		conn_resume(c->conn);
}

/* --- names and errors ---------------------------------------------------- */

bool client_mailbox_arg(struct imap_client *c, const struct imap_arg *arg, char *out)
{
	const char *text = arg ? imap_arg_astring(arg) : NULL;
	const char *error;
	if (text == NULL) {
		client_tagged(c, "BAD", "Missing mailbox name");
		return false;
	}
	if (strlen(text) != arg->len) {
		client_tagged(c, "BAD", "NUL in a mailbox name");
		return false;
	}
	if (c->enabled & IMAP_ENABLED_UTF8) {
		if (strlen(text) > IMAP_MAILBOX_NAME_MAX) {
			client_tagged(c, "NO", "[CANNOT] Mailbox name too long");
			return false;
		}
		memcpy(out, text, strlen(text) + 1);
	} else if (imap_utf7_decode(text, strlen(text), out, &error) < 0) {
		client_tagged(c, "NO", "[CANNOT] Invalid mailbox name: %s", error);
		return false;
	}
	if (strcasecmp(out, "INBOX") == 0)
		memcpy(out, "INBOX", 6);
	return true;
}

void client_write_mailbox(struct imap_client *c, const char *name)
{
	char encoded[IMAP_MAILBOX_NAME_MAX * 4];
	const char *error;
	if (!(c->enabled & IMAP_ENABLED_UTF8) &&
	    imap_utf7_encode(name, strlen(name), encoded, sizeof(encoded), &error) == 0)
		name = encoded;
	imap_write_nstring(&c->writer, name, strlen(name));
}

const char *client_store_error(int error_number, const char *error)
{
	switch (error_number) {
	case ENOENT:
		return error_fmt("[NONEXISTENT] %s", error);
	case EEXIST:
		return error_fmt("[ALREADYEXISTS] %s", error);
	case EINVAL:
		return error_fmt("[CANNOT] %s", error);
	case EPERM:
		return error_fmt("[CANNOT] %s", error);
	case EDQUOT:
		return "[OVERQUOTA] Quota exceeded";
	case EROFS:
		return error_fmt("[READ-ONLY] %s", error);
	case ENOSPC:
		return error_fmt("[LIMIT] %s", error);
	default:
		return error_fmt("[SERVERBUG] %s", error);
	}
}

/* --- capabilities and login ---------------------------------------------- */

const struct client_cert *client_cert(const struct imap_client *c)
{
	static const struct client_cert none;
	const struct conn_info *info = c->conn ? conn_info(c->conn) : NULL;
	return info && info->cert ? info->cert : &none;
}

bool client_login_permitted(const struct imap_client *c)
{
	if (c->tls_active)
		return true;
	return c->server->config->auth.plaintext_loopback &&
	       sockaddr_is_loopback((const struct sockaddr *)&c->peer);
}

void client_capabilities(struct imap_client *c, struct buf *out)
{
	buf_append_str(out, "IMAP4rev1 IMAP4rev2");
	if (c->state == IMAP_STATE_NOT_AUTHENTICATED) {
		if (!c->tls_active && c->listener->tls == TLS_STARTTLS)
			buf_append_str(out, " STARTTLS");
		if (!client_login_permitted(c)) {
			buf_append_str(out, " LOGINDISABLED");
		} else {
			unsigned available =
			    sasl_mechanisms_available(c->server->config, client_cert(c));
			for (unsigned i = 0; i < MECH_COUNT; i++)
				if (available & (1u << i))
					buf_appendf(out, " AUTH=%s",
					            auth_mechanism_name(1u << i));
		}
		buf_append_str(out, " SASL-IR LITERAL- ID ENABLE");
		return;
	}
	buf_appendf(out,
	            " LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS MOVE "
	            "CHILDREN SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS "
	            "ESEARCH CONDSTORE QRESYNC QUOTA QUOTA=RES-STORAGE "
	            "APPENDLIMIT=%llu UTF8=ACCEPT STATUS=SIZE SORT THREAD=REFERENCES "
	            "COMPRESS=DEFLATE "
	            "THREAD=ORDEREDSUBJECT",
	            (unsigned long long)c->listener->limits.message_size);
}

static void set_parser_limits(struct imap_client *c)
{
	struct imap_parser_limits limits = {
	    .line_max = PREAUTH_LINE_MAX,
	    .literal_max = PREAUTH_LITERAL_MAX,
	    .stream_max = 0,
	};
	if (c->state != IMAP_STATE_NOT_AUTHENTICATED) {
		limits.line_max = AUTH_LINE_MAX;
		limits.literal_max = AUTH_LITERAL_MAX;
		limits.stream_max = c->listener->limits.message_size;
	}
	imap_parser_set_limits(c->parser, &limits);
}

bool client_logged_in(struct imap_client *c, const char *user, uint64_t quota,
                      const char **error_r)
{
	c->store = mail_store_cache_get(c->server->stores, user, error_r);
	if (c->store == NULL)
		return false;
	/* Shared with the user's other sessions: the latest login's word. */
	mail_store_set_quota(c->store, quota);
	free(c->user);
	c->user = xstrdup(user);
	c->state = IMAP_STATE_AUTHENTICATED;
	set_parser_limits(c);
	conn_set_idle_timeout(c->conn, AUTOLOGOUT_SECONDS);
	return true;
}

/* --- the selected folder's news ------------------------------------------ */

static void notify_expunge(void *ctx, uint32_t seq, uint32_t uid)
{
	struct imap_client *c = ctx;
	(void)uid;
	client_untagged(c, "%u EXPUNGE", seq);
}

static void notify_flags(void *ctx, uint32_t seq, const struct mailbox_message *m)
{
	struct imap_client *c = ctx;
	conn_printf(c->conn, "* %u FETCH (", seq);
	client_write_flags(c, seq);
	if (c->uid || (c->enabled & IMAP_ENABLED_CONDSTORE))
		conn_printf(c->conn, " UID %u", m->uid);
	if (c->enabled & IMAP_ENABLED_CONDSTORE)
		conn_printf(c->conn, " MODSEQ (%llu)", (unsigned long long)m->modseq);
	conn_write(c->conn, ")\r\n", 3);
}

static void notify_exists(void *ctx, uint32_t count)
{
	client_untagged(ctx, "%u EXISTS", count);
}

static void notify_recent(void *ctx, uint32_t count)
{
	struct imap_client *c = ctx;
	if (!(c->enabled & IMAP_ENABLED_REV2))
		client_untagged(c, "%u RECENT", count);
}

static void notify_keywords(void *ctx)
{
	client_write_flags_list(ctx);
}

static const struct mailbox_notify client_notify = {
    .expunge = notify_expunge,
    .flags = notify_flags,
    .exists = notify_exists,
    .recent = notify_recent,
    .keywords = notify_keywords,
};

typedef int refresh_fn(struct mailbox *mb, bool allow_expunge,
                       const struct mailbox_notify *notify, void *ctx,
                       const char **error_r);

static void refresh_with(struct imap_client *c, bool allow_expunge, refresh_fn *refresh)
{
	if (c->mailbox == NULL || c->conn == NULL)
		return;
	const char *error;
	if (refresh(c->mailbox, allow_expunge, &client_notify, c, &error) < 0) {
		log_msg(L_WARN, "event=mailbox-error session=%s user=%s error=%s",
		        c->log_id, LOG_Q(c->user), LOG_Q(error));
		if (strstr(error, "deleted")) {
			client_bye(c, "The selected mailbox was deleted");
			client_close_mailbox(c);
		}
	}
}

void client_refresh(struct imap_client *c, bool allow_expunge)
{
	refresh_with(c, allow_expunge, mailbox_refresh);
}

void client_close_mailbox(struct imap_client *c)
{
	imapd_watch_remove(c->server, c);
	mailbox_close(&c->mailbox);
	if (c->state == IMAP_STATE_SELECTED)
		c->state = IMAP_STATE_AUTHENTICATED;
}

void imap_client_changed(struct imap_client *c, bool rescan)
{
	if (c->idling && c->conn && !c->closing)
		refresh_with(c, true, rescan ? mailbox_rescan : mailbox_refresh_index);
}

/* --- input ------------------------------------------------------------- */

/* The octets of a streamed APPEND literal, as they come. */
static bool read_append(struct imap_client *c)
{
	while (c->append_left > 0) {
		struct iovec vec[4];
		int n = conn_peek(c->conn, vec, 4);
		if (n <= 0)
			return false;
		size_t take = 0;
		const char *error;
		for (int i = 0; i < n && c->append_left > 0; i++) {
			size_t len = vec[i].iov_len < c->append_left
			                 ? vec[i].iov_len
			                 : (size_t)c->append_left;
			if (c->append && mail_append_write(c->append, vec[i].iov_base,
			                                   len, &error) < 0) {
				log_msg(L_ERROR,
				        "event=append-failed session=%s user=%s error=%s",
				        c->log_id, LOG_Q(c->user), LOG_Q(error));
				mail_append_abort(
				    &c->append); /* the rest is read and dropped */
			}
			c->append_left -= len;
			take += len;
		}
		conn_drain(c->conn, take);
	}
	imap_parser_stream_done(c->parser);
	return true;
}

static void bad_command(struct imap_client *c)
{
	const char *tag = imap_parser_tag(c->parser);
	snprintf(c->tag, sizeof(c->tag), "%s", tag[0] ? tag : "*");
	snprintf(c->command, sizeof(c->command), "%s", imap_parser_command(c->parser));
	c->command_usec = now_usec();
	if (c->append_refusal) {
		client_tagged(c, "NO", "%s", c->append_refusal);
		x_free(&c->append_refusal);
		return;
	}
	if (imap_parser_error_too_big(c->parser))
		client_tagged(c, "BAD", "[TOOBIG] %s", imap_parser_error(c->parser));
	else
		client_tagged(c, "BAD", "%s", imap_parser_error(c->parser));
	if (imap_parser_error_fatal(c->parser))
		client_bye(c, "Cannot find the end of that command");
	else if (c->errors >= c->listener->limits.errors)
		client_bye(c, "Too many errors");
}

/* The parser has the start of a command: its tag and name, and when. */
static void command_begins(struct imap_client *c)
{
	snprintf(c->tag, sizeof(c->tag), "%s", imap_parser_tag(c->parser));
	snprintf(c->command, sizeof(c->command), "%s", imap_parser_command(c->parser));
	c->command_usec = now_usec();
}

/* Feeds the parser until a command, a continuation or a stream. Returns
 * false when the input ran out (or the client must wait). */
static bool read_command(struct imap_client *c)
{
	struct iovec vec[4];
	int n = conn_peek(c->conn, vec, 4);
	if (n <= 0)
		return false;
	for (int i = 0; i < n; i++) {
		size_t consumed;
		enum imap_parse r = imap_parser_feed(c->parser, vec[i].iov_base,
		                                     vec[i].iov_len, &consumed);
		size_t before = 0;
		for (int k = 0; k < i; k++)
			before += vec[k].iov_len;
		switch (r) {
		case IMAP_PARSE_MORE:
			continue;
		case IMAP_PARSE_CONTINUE:
			conn_drain(c->conn, before + consumed);
			client_write(c, "+ OK\r\n", 6);
			return true;
		case IMAP_PARSE_STREAM:
			conn_drain(c->conn, before + consumed);
			command_begins(c);
			client_append_stream(c, imap_parser_args(c->parser),
			                     imap_parser_arg_count(c->parser),
			                     imap_parser_literal_size(c->parser));
			if (c->append_left) {
				if (imap_parser_literal_sync(c->parser))
					client_puts(c, "+ Ready for literal data\r\n");
			} else {
				/* Refused: the parser says so at once (a client
				 * waiting for "+" sends nothing more). */
				size_t none;
				if (imap_parser_feed(c->parser, "", 0, &none) ==
				    IMAP_PARSE_ERROR)
					bad_command(c);
			}
			return true;
		case IMAP_PARSE_DONE:
			conn_drain(c->conn, before + consumed);
			command_begins(c);
			imap_command_dispatch(c, imap_parser_args(c->parser),
			                      imap_parser_arg_count(c->parser));
			return true;
		case IMAP_PARSE_ERROR:
			conn_drain(c->conn, before + consumed);
			bad_command(c);
			return true;
		}
	}
	size_t all = 0;
	for (int i = 0; i < n; i++)
		all += vec[i].iov_len;
	conn_drain(c->conn, all);
	return true;
}

/* A line that is not a command: a SASL response, IDLE's DONE. */
static bool read_plain_line(struct imap_client *c)
{
	char *line;
	size_t len;
	int r = conn_read_line(c->conn, SASL_LINE_MAX, &line, &len);
	if (r == 0)
		return false;
	if (!c->idling)
		client_sasl_line(c, r < 0 ? NULL : line, len);
	else
		client_idle_line(c, r < 0 ? NULL : line, len);
	return true;
}

static void process_input(struct imap_client *c)
{
	while (c->conn && !c->closing && !c->tls_pending && conn_readable(c->conn)) {
		if (c->pending.resume) {
			if (!c->pending.resume(c))
				return;
			c->pending.resume = NULL;
			if (c->pending.free)
				c->pending.free(c);
			c->pending = (struct imap_pending){0};
			continue;
		}
		if ((c->sasl && sasl_session_busy(c->sasl)) ||
		    (c->delay_timer && evtimer_pending(c->delay_timer, NULL)))
			return; /* a login is being decided */
		if (c->append_sync)
			return; /* an APPEND is reaching the disk */
		bool progress;
		if (c->append_left > 0)
			progress = read_append(c);
		else if ((c->sasl && sasl_session_wants_line(c->sasl)) || c->idling)
			progress = read_plain_line(c);
		else
			progress = read_command(c);
		if (!progress)
			return;
	}
}

/* --- connection events --------------------------------------------------- */

static void send_greeting(struct imap_client *c)
{
	struct buf caps = BUF_INIT;
	client_capabilities(c, &caps);
	client_untagged(c, "OK [CAPABILITY %s] petrel ready", caps.data);
	buf_free(&caps);
}

static void on_input(struct conn *conn, void *arg)
{
	(void)conn;
	process_input(arg);
}

static void on_output_low(struct conn *conn, void *arg)
{
	(void)conn;
	struct imap_client *c = arg;
	if (c->pending.resume)
		process_input(c);
}

static void on_tls_up(struct conn *conn, void *arg)
{
	struct imap_client *c = arg;
	const struct conn_info *info = conn_info(conn);
	c->tls_active = true;
	c->tls_pending = false;
	log_msg(L_INFO, "event=tls-established session=%s client=%s tls=%s", c->log_id,
	        c->peer_ip, LOG_Q(info->tls_description));
	if (c->listener->tls == TLS_IMPLICIT)
		send_greeting(c);
	process_input(c);
}

static void on_timeout(struct conn *conn, void *arg, enum conn_end which)
{
	(void)which;
	struct imap_client *c = arg;
	log_msg(L_INFO, "event=timeout session=%s client=%s user=%s", c->log_id,
	        c->peer_ip, LOG_Q(c->user ? c->user : "-"));
	if (c->closing) {
		imap_client_destroy(c, "timeout writing");
		return;
	}
	client_bye(c, "Autologout; idle for too long");
	(void)conn;
}

static void on_end(struct conn *conn, void *arg, enum conn_end why)
{
	struct imap_client *c = arg;
	session_log_tls_error(conn_info(conn), c->log_id, c->peer_ip);
	imap_client_destroy(
	    c,
	    session_end_reason(why, c->state == IMAP_STATE_LOGOUT ? "logout" : "closed",
	                       c->tls_active));
}

static const struct conn_handlers client_handlers = {
    .input = on_input,
    .tls_up = on_tls_up,
    .output_low = on_output_low,
    .timeout = on_timeout,
    .end = on_end,
};

/* --- life cycle ---------------------------------------------------------- */

void imap_client_start(struct imapd *server, struct worker_listener *accepted_on, int fd,
                       const struct sockaddr *peer, socklen_t peer_len)
{
	const struct listen_config *listener = accepted_on->config;
	const struct limits_config *l = &listener->limits;
	char ip[INET6_ADDRSTRLEN];
	sockaddr_ip(peer, ip, sizeof(ip));
	static const struct worker_refusals refusals = {
	    "* BYE Server shutting down\r\n",
	    "* BYE Too many connections, try again later\r\n",
	    "* BYE Too many connections from your address\r\n", 6};
	if (!worker_admit(accepted_on, fd, peer, "imap", &refusals))
		return;
	struct imap_client *c = xcalloc(1, sizeof(*c));
	c->server = server;
	c->accepted_on = accepted_on;
	c->listener = listener;
	memcpy(&c->peer, peer, peer_len);
	memcpy(c->peer_ip, ip, sizeof(ip));
	c->connect_usec = now_usec();
	session_log_id(c->log_id, c->connect_usec, fd);
	c->writer = (struct imap_writer){.write = writer_write, .ctx = c};
	c->parser = imap_parser_new(&(struct imap_parser_limits){
	    .line_max = PREAUTH_LINE_MAX, .literal_max = PREAUTH_LITERAL_MAX});
	c->next = server->clients;
	if (server->clients)
		server->clients->prev = c;
	server->clients = c;
	server->client_count++;
	worker_connection_opened(accepted_on);
	session_log_connect(c->log_id, ip, listener, "imap");
	struct conn_settings settings = {
	    .idle_seconds = l->idle_timeout,
	    .input_max = INPUT_MAX,
	    .output_high_water = OUTPUT_HIGH_WATER,
	    .output_low_water = OUTPUT_LOW_WATER,
	};
	c->conn = session_conn_accept(server->base, server->tls, listener, fd, peer,
	                              peer_len, &settings, &client_handlers, c);
	if (listener->tls != TLS_IMPLICIT)
		send_greeting(c);
}

void imap_client_destroy(struct imap_client *c, const char *reason)
{
	struct imapd *server = c->server;
	session_log_disconnect(c->log_id, c->peer_ip, c->user, reason, c->errors,
	                       c->conn ? conn_info(c->conn) : NULL, c->tls_active,
	                       "imap");
	if (c->pending.free)
		c->pending.free(c);
	c->pending = (struct imap_pending){0};
	sasl_session_free(&c->sasl);
	if (c->delay_timer)
		event_free(c->delay_timer);
	client_close_mailbox(c);
	client_append_detach(c);
	mail_append_abort(&c->append);
	if (c->store)
		mail_store_cache_put(server->stores, &c->store);
	conn_free(&c->conn);
	worker_ip_release(c->accepted_on, (struct sockaddr *)&c->peer);
	imap_parser_free(&c->parser);
	free(c->append_refusal);
	free(c->sasl_tag);
	free(c->user);
	if (c->prev)
		c->prev->next = c->next;
	else
		server->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	server->client_count--;
	struct worker_listener *accepted_on = c->accepted_on;
	free(c);
	worker_connection_closed(accepted_on);
}

void imap_client_shutdown(struct imap_client *c)
{
	if (c->closing)
		return;
	client_bye(c, "Server shutting down");
}
