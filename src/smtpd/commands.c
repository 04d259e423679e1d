/*
 * commands.c — the SMTP command table (RFC 5321 4.1) and what each
 * command does. Every verb is one row: the states it is allowed in, the
 * reply when it is not, and its handler. Handlers never free the session;
 * they reply, change state, or ask session.c to close after a reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "lib/event.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "ipc/ipc.h"
#include "proto/esmtp_params.h"
#include "proto/smtp_addr.h"
#include "smtpd/session.h"

typedef void command_handler(struct session *s, const struct smtp_cmd *cmd);

struct command {
	enum smtp_verb verb;
	unsigned allowed; /* STATE_BIT()s */
	const char *refusal;
	command_handler *handler;
};

#define ANY_STATE                                                                        \
	(STATE_BIT(STATE_CONNECTED) | STATE_BIT(STATE_GREETED) | STATE_BIT(STATE_MAIL) | \
	 STATE_BIT(STATE_RCPT))

static bool has_arg(const struct smtp_cmd *cmd)
{
	return cmd->arg_len > 0;
}

/* RFC 5321 4.1.1.1: a Domain or an address literal. Anything else is
 * refused, which also keeps the name safe inside our Received header.
 * Underscores are tolerated: many real clients have them. */
static bool helo_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > 255)
		return false;
	if (name[0] == '[') {
		char literal[256];
		if (name[len - 1] != ']' || len < 3)
			return false;
		memcpy(literal, name + 1, len - 2);
		literal[len - 2] = '\0';
		unsigned char address[16];
		if (strncasecmp(literal, "IPv6:", 5) == 0)
			return inet_pton(AF_INET6, literal + 5, address) == 1;
		return inet_pton(AF_INET, literal, address) == 1;
	}
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? name[i] : '.';
		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '_' || (c == '-' && label > 0);
		if (!ok || ++label > 63)
			return false;
	}
	return true;
}

struct helo_call {
	char *name;
	bool ehlo;
};

static void helo_free(void *data)
{
	struct helo_call *h = data;
	free(h->name);
	free(h);
}

static void helo_proceed(struct session *s, void *data);

static void cmd_helo(struct session *s, const struct smtp_cmd *cmd)
{
	/* RFC 2033 4.1: LMTP greets with LHLO only, and SMTP knows no LHLO. */
	bool lmtp = s->listener->protocol == PROTO_LMTP;
	if (lmtp != (cmd->verb == SMTP_LHLO)) {
		reply_error(s, lmtp ? "500 5.5.1 Error: this is LMTP, send LHLO"
		                    : "500 5.5.2 Error: command not recognized");
		return;
	}
	bool ehlo = cmd->verb != SMTP_HELO;
	if (!helo_name_valid(cmd->arg, cmd->arg_len)) {
		reply_error(s, "501 5.5.2 Syntax: %s hostname",
		            smtp_verb_name(cmd->verb));
		return;
	}
	struct helo_call *h = xcalloc(1, sizeof(*h));
	h->name = xstrndup(cmd->arg, cmd->arg_len);
	h->ehlo = ehlo;
	session_hook(s, SMTP_STAGE_HELO, h->name, helo_proceed, NULL, h, helo_free);
}

static void helo_proceed(struct session *s, void *data)
{
	struct helo_call *h = data;
	bool ehlo = h->ehlo;
	session_transaction_reset(s);
	free(s->helo);
	s->helo = xstrdup(h->name);
	s->esmtp = ehlo;
	s->state = STATE_GREETED;
	const char *host = s->server->config->hostname;
	if (!ehlo) {
		reply(s, "250 %s", host);
		return;
	}
	reply(s, "250-%s", host);
	reply(s, "250-PIPELINING");
	reply(s, "250-SIZE %llu", (unsigned long long)s->limits->message_size);
	if (s->listener->tls == TLS_STARTTLS && !s->tls_active)
		reply(s, "250-STARTTLS");
	char mechanisms[128];
	auth_advertised(s, mechanisms, sizeof(mechanisms));
	if (mechanisms[0])
		reply(s, "250-AUTH %s", mechanisms);
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-8BITMIME");
	reply(s, "250-DSN");
	reply(s, "250-SMTPUTF8");
	reply(s, "250 CHUNKING");
}

static void cmd_data(struct session *s, const struct smtp_cmd *cmd)
{
	if (has_arg(cmd)) {
		reply_error(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (s->tx.bdat_started) {
		reply_error(s, "503 5.5.1 Error: DATA after BDAT");
		return;
	}
	/* RFC 2920 3.1: DATA ends a pipeline group; a client that sends the
	 * message before our 354 is not speaking SMTP (or is smuggling). */
	if (conn_input_length(s->conn) > 0) {
		log_msg(L_WARN,
		        "event=pipelining-violation session=%s client=%s command=DATA",
		        s->log_id, s->peer_ip);
		session_transaction_reset(s);
		session_close_after(
		    s, "554 5.5.0 SMTP synchronization error: data sent before 354");
		return;
	}
	session_begin_data(s);
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void cmd_bdat(struct session *s, const struct smtp_cmd *cmd)
{
	uint64_t size;
	int last;
	const char *error;
	if (smtp_bdat_parse(cmd->arg, cmd->arg_len, &size, &last, &error) < 0) {
		/* Without a valid size nothing can be skipped: the transaction
		 * is over (RFC 3030 leaves no way to resynchronise). */
		session_transaction_reset(s);
		reply_error(s, "501 5.5.4 Syntax: BDAT size [LAST]: %s", error);
		return;
	}
	/* Exim CVE-2017-16943 class: the chunk is consumed to the octet
	 * whatever the verdict, and the verdict comes after it. */
	if (s->state != STATE_RCPT) {
		session_begin_bdat(s, size, last,
		                   s->state == STATE_MAIL
		                       ? "503 5.5.1 Error: need RCPT command"
		                       : "503 5.5.1 Error: need MAIL command");
		return;
	}
	session_begin_bdat(s, size, last, NULL);
}

static void cmd_rset(struct session *s, const struct smtp_cmd *cmd)
{
	(void)cmd;
	session_transaction_reset(s);
	reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(struct session *s, const struct smtp_cmd *cmd)
{
	(void)cmd;
	reply(s, "250 2.0.0 Ok");
}

static void cmd_quit(struct session *s, const struct smtp_cmd *cmd)
{
	(void)cmd;
	session_transaction_reset(s);
	session_close_after(s, "221 2.0.0 Bye");
}

static void cmd_vrfy(struct session *s, const struct smtp_cmd *cmd)
{
	(void)cmd;
	reply(s,
	      "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_expn(struct session *s, const struct smtp_cmd *cmd)
{
	(void)cmd;
	reply_error(s, "502 5.5.1 EXPN not available");
}

static void cmd_help(struct session *s, const struct smtp_cmd *cmd)
{
	(void)cmd;
	reply(s, "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT");
	reply(s, "214 2.0.0 VRFY HELP STARTTLS AUTH");
}

static void cmd_starttls(struct session *s, const struct smtp_cmd *cmd)
{
	if (s->listener->tls != TLS_STARTTLS || s->tls_active) {
		reply_error(s, s->tls_active ? "503 5.5.1 Error: TLS already active"
		                             : "502 5.5.1 STARTTLS not available here");
		return;
	}
	if (has_arg(cmd)) {
		reply_error(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	session_start_tls(s);
}

static const struct command command_table[] = {
    {SMTP_HELO, ANY_STATE, NULL, cmd_helo},
    {SMTP_EHLO, ANY_STATE, NULL, cmd_helo},
    {SMTP_LHLO, ANY_STATE, NULL, cmd_helo},
    {SMTP_MAIL, STATE_BIT(STATE_GREETED), NULL, cmd_mail},
    {SMTP_RCPT, STATE_BIT(STATE_MAIL) | STATE_BIT(STATE_RCPT),
     "503 5.5.1 Error: need MAIL command", cmd_rcpt},
    {SMTP_DATA, STATE_BIT(STATE_RCPT), NULL, cmd_data},
    {SMTP_BDAT, ANY_STATE, NULL, cmd_bdat},
    {SMTP_RSET, ANY_STATE, NULL, cmd_rset},
    {SMTP_NOOP, ANY_STATE, NULL, cmd_noop},
    {SMTP_QUIT, ANY_STATE, NULL, cmd_quit},
    {SMTP_VRFY, ANY_STATE, NULL, cmd_vrfy},
    {SMTP_EXPN, ANY_STATE, NULL, cmd_expn},
    {SMTP_HELP, ANY_STATE, NULL, cmd_help},
    {SMTP_STARTTLS, STATE_BIT(STATE_GREETED) | STATE_BIT(STATE_CONNECTED),
     "503 5.5.1 Error: STARTTLS inside a mail transaction", cmd_starttls},
    {SMTP_AUTH, STATE_BIT(STATE_GREETED),
     "503 5.5.1 Error: AUTH not permitted during a mail transaction", cmd_auth},
};

/* The refusal when a command comes in the wrong state and its row has
 * no specific one. */
static const char *default_refusal(const struct session *s, enum smtp_verb verb)
{
	if (s->state == STATE_CONNECTED)
		return s->listener->protocol == PROTO_LMTP
		           ? "503 5.5.1 Error: send LHLO first"
		           : "503 5.5.1 Error: send HELO/EHLO first";
	if (verb == SMTP_MAIL)
		return "503 5.5.1 Error: nested MAIL command";
	if (verb == SMTP_DATA && s->state == STATE_MAIL)
		return "503 5.5.1 Error: need RCPT command";
	return "503 5.5.1 Error: need MAIL command";
}

void commands_dispatch(struct session *s, const char *line, size_t len)
{
	struct smtp_cmd cmd;
	const char *error;
	if (smtp_cmd_parse(line, len, &cmd, &error) < 0) {
		reply_command_started(s, "unknown");
		reply_error(s, "500 5.5.2 Error: %s", error);
		return;
	}
	reply_command_started(s, cmd.verb == SMTP_UNKNOWN ? "unknown"
	                                                  : smtp_verb_name(cmd.verb));
	if (cmd.verb == SMTP_MAIL || cmd.verb == SMTP_RCPT) {
		/* "<path>" without its brackets, else the first word */
		const char *close =
		    cmd.arg[0] == '<' ? memchr(cmd.arg, '>', cmd.arg_len) : NULL;
		const char *path = close ? cmd.arg + 1 : cmd.arg;
		size_t path_len = close ? (size_t)(close - path) : strcspn(cmd.arg, " ");
		snprintf(s->command_path, sizeof(s->command_path), "%.*s", (int)path_len,
		         path);
	}
	for (size_t i = 0; i < sizeof(command_table) / sizeof(command_table[0]); i++) {
		const struct command *c = &command_table[i];
		if (c->verb != cmd.verb)
			continue;
		if (!(c->allowed & STATE_BIT(s->state))) {
			const char *refusal = s->state == STATE_CONNECTED || !c->refusal
			                          ? default_refusal(s, cmd.verb)
			                          : c->refusal;
			reply_error(s, "%s", refusal);
			return;
		}
		c->handler(s, &cmd);
		return;
	}
	reply_error(s, "500 5.5.2 Error: command not recognized");
}

static const char *content_refusal(const struct session *s)
{
	const struct transaction *tx = &s->tx;
	if (tx->too_big)
		return "552 5.3.4 Message size exceeds fixed limit";
	if (tx->data.flags & (SMTP_DATA_BARE_CR | SMTP_DATA_BARE_LF))
		return "550 5.6.0 Message refused: bare CR or LF in message; lines must "
		       "end "
		       "with CRLF";
	if (tx->data.flags & SMTP_DATA_LONG_LINE)
		return "550 5.6.0 Message refused: line longer than 1000 octets "
		       "(RFC 5321 4.5.3.1.6)";
	if (tx->header_error)
		return "552 5.3.4 Message refused: header section exceeds the limits "
		       "(limits.header_size, limits.header_fields)";
	if (tx->stream == NULL)
		return "451 4.3.0 Error: queue file write error";
	return NULL;
}

/* Queues the message: the header section delivered is ours (Received)
 * first, then the one received, as the hooks left it; the body is the
 * rest of what is already on disk. */
static void commit_message(struct session *s, const struct message *message)
{
	struct transaction *tx = &s->tx;
	struct buf header = BUF_INIT;
	reply_received_header(s, &header);
	if (message)
		message_write_header(message, &header);
	else
		buf_append(&header, tx->header.data, tx->header.len);
	s->commit = tx->stream;
	s->state = STATE_SPOOLING;
	conn_pause(s->conn);
	spool_stream_commit(&tx->stream, &tx->env, header.data, header.len,
	                    tx->header.len, commands_spooled, s->server);
	buf_free(&header);
}

static void data_stage_done(const struct stage_decision *d, void *arg)
{
	struct session *s = arg;
	struct transaction *tx = &s->tx;
	s->stage = NULL;
	if (d->verdict == STAGE_ACCEPT) {
		commit_message(s, &s->message);
		message_clear(&s->message);
		return;
	}
	message_clear(&s->message);
	char text[320];
	if (d->verdict == STAGE_DISCARD) {
		/* The client is told it was queued; nothing is kept. */
		EVENT(L_INFO, &event_message_discarded, EV_WORD("session", s->log_id),
		      EV_WORD("id", tx->env.id), EV_TEXT("client", s->peer_ip),
		      EV_TEXT("from", tx->env.sender), EV_TEXT("hook", d->hook));
		snprintf(text, sizeof(text), "250 2.0.0 Ok: queued as %s", tx->env.id);
	} else {
		stage_reply_text(d, text, sizeof(text));
		EVENT(L_INFO, &event_message_refused, EV_WORD("session", s->log_id),
		      EV_TEXT("client", s->peer_ip), EV_OPTIONAL("helo", s->helo),
		      EV_TEXT("from", tx->env.sender),
		      EV_UINT("rcpts", tx->env.rcpt_count), EV_TEXT("hook", d->hook),
		      EV_TEXT("reason", text),
		      EV_WORD("result", text[0] == '4' ? "deferred" : "rejected"));
	}
	reply_per_rcpt(s, "%s", text);
	session_transaction_reset(s); /* what was written goes */
	session_resume(s);
}

void commands_message_complete(struct session *s)
{
	struct transaction *tx = &s->tx;
	struct smtpd *server = s->server;
	/* From the final dot (or BDAT LAST) to the reply: the hooks and the
	 * commit with its fsyncs. */
	reply_command_started(s, "end-of-data");
	if (!tx->header_done && !tx->too_big) {
		/* The message ended inside its header section. */
		size_t end;
		const char *error;
		if (rfc5322_scan_finish(&tx->scan, tx->header.data, tx->header.len, &end,
		                        &error) < 0)
			tx->header_error = error;
		else
			buf_truncate(&tx->header, end);
		tx->header_done = true;
	}
	const char *refusal = content_refusal(s);
	if (refusal) {
		EVENT(L_INFO, &event_message_refused, EV_WORD("session", s->log_id),
		      EV_TEXT("client", s->peer_ip), EV_OPTIONAL("helo", s->helo),
		      EV_TEXT("from", tx->env.sender),
		      EV_UINT("rcpts", tx->env.rcpt_count), EV_TEXT("reason", refusal),
		      EV_WORD("result", refusal[0] == '4' ? "deferred" : "rejected"));
		session_transaction_reset(s);
		reply(s, "%s", refusal);
		return;
	}
	memcpy(tx->env.id, spool_stream_id(tx->stream), QUEUE_ID_LEN + 1);
	tx->env.arrival = (int64_t)(now_usec() / 1000000);
	tx->env.helo = s->helo ? xstrdup(s->helo) : NULL;
	tx->env.client = xstrdup(s->peer_ip);
	tx->env.tls = s->tls_active ? xstrdup(s->tls_info) : NULL;
	tx->env.auth_user = s->auth_user ? xstrdup(s->auth_user) : NULL;
	if (s->cert.verified) {
		tx->env.cert_subject = xstrdup(s->cert.subject);
		tx->env.cert_issuer = xstrdup(s->cert.issuer);
		tx->env.cert_sha256 = xstrdup(s->cert.fingerprint);
		tx->env.cert_san =
		    s->cert.san_email[0] ? xstrdup(s->cert.san_email) : NULL;
		tx->env.cert_not_after = xstrdup(s->cert.not_after);
	}
	if (tx->env.body == NULL)
		tx->env.body = xstrdup("7BIT");

	if (stage_hooks_empty(server->hooks, SMTP_STAGE_DATA)) {
		commit_message(s, NULL);
		return;
	}
	/* The end-of-data stage reads the message from the file: the last
	 * octets go there first (stream_ready calls back when they have). */
	s->state = STATE_SPOOLING;
	conn_pause(s->conn);
	tx->stage_waits_for_disk = true;
	if (spool_stream_write_out(tx->stream))
		commands_data_stage(s);
}

void commands_data_stage(struct session *s)
{
	struct transaction *tx = &s->tx;
	struct smtpd *server = s->server;
	tx->stage_waits_for_disk = false;
	/* The end-of-data stage: input waits while the hooks decide. */
	message_init(&s->message, &tx->env, tx->header.data, tx->header.len, tx->size);
	uint64_t offset;
	int fd = spool_stream_reader(tx->stream, &offset);
	if (fd >= 0)
		message_set_body(&s->message, fd, offset + tx->header.len,
		                 tx->size - tx->header.len);
	s->stage_context = (struct stage_context){
	    .stage = SMTP_STAGE_DATA,
	    .base = server->base,
	    .conn = conn_info(s->conn),
	    .helo = s->helo,
	    .auth_user = s->auth_user,
	    .message = &s->message,
	};
	s->stage = stage_run(server->hooks, &s->stage_context, data_stage_done, s);
}

void commands_spooled(void *owner, void *context, const char *id, int result, int e)
{
	struct session *s = owner;
	struct smtpd *server = context;
	if (result == 0) {
		/* Committed: the queue must hear of it even if the client left. */
		if (ipc_send_queued(server->queue_notify_fd, id) < 0)
			log_msg(L_WARN, "event=queue-notify-failed id=%s", id);
	}
	if (s == NULL) {
		log_msg(L_INFO, "event=spooled-without-client id=%s result=%d", id,
		        result);
		return;
	}
	s->commit = NULL;
	struct transaction *tx = &s->tx;
	if (result == 0) {
		s->messages++;
		EVENT(L_INFO, &event_queued, EV_WORD("session", s->log_id),
		      EV_WORD("id", id), EV_TEXT("client", s->peer_ip),
		      EV_TEXT("from", tx->env.sender),
		      EV_UINT("nrcpt", tx->env.rcpt_count), EV_UINT("size", tx->size),
		      EV_TEXT("tls", s->tls_active ? s->tls_info : "none"),
		      EV_UINT("delay_ms", (now_usec() - tx->start_usec) / 1000));
		reply_per_rcpt(s, "250 2.0.0 Ok: queued as %s", id);
	} else {
		log_msg(L_ERROR, "event=spool-failed session=%s id=%s error=%s",
		        s->log_id, id, LOG_Q(strerror(e)));
		if (e == ENOSPC || e == EDQUOT)
			reply_per_rcpt(s, "452 4.3.1 Insufficient system storage");
		else
			reply_per_rcpt(s, "451 4.3.0 Error: queue file write error");
	}
	session_transaction_reset(s);
	session_resume(s);
}
