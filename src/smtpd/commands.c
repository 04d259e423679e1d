/*
 * commands.c — the SMTP command table (RFC 5321 4.1) and what each
 * command does. Every verb is one row: the states it is allowed in, the
 * reply when it is not, and its handler. Handlers never free the session;
 * they reply, change state, or ask session.c to close after a reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "master/ipc.h"
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

/* Disk space that must stay free beyond a declared message size. */
#define SPOOL_RESERVE (4u * 1024 * 1024)

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

static void cmd_helo(struct session *s, const struct smtp_cmd *cmd)
{
	bool ehlo = cmd->verb == SMTP_EHLO;
	if (!helo_name_valid(cmd->arg, cmd->arg_len)) {
		reply_error(s, "501 5.5.2 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
		return;
	}
	session_transaction_reset(s);
	free(s->helo);
	s->helo = xstrndup(cmd->arg, cmd->arg_len);
	s->esmtp = ehlo;
	s->state = STATE_GREETED;
	const char *host = s->server->config->hostname;
	if (!ehlo) {
		reply(s, "250 %s", host);
		return;
	}
	reply(s, "250-%s", host);
	reply(s, "250-PIPELINING");
	reply(s, "250-SIZE %llu",
	      (unsigned long long)s->server->config->limits.message_size);
	if (s->listener->tls == TLS_STARTTLS && !s->tls_active)
		reply(s, "250-STARTTLS");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-8BITMIME");
	reply(s, "250-DSN");
	reply(s, "250-SMTPUTF8");
	reply(s, "250 CHUNKING");
}

/* Checks MAIL parameters into the transaction. Returns 0 or replies. */
static int mail_params(struct session *s, const struct esmtp_params *params)
{
	struct transaction *tx = &s->tx;
	for (size_t i = 0; i < params->count; i++) {
		const struct esmtp_param *p = &params->param[i];
		char keyword[32];
		snprintf(keyword, sizeof(keyword), "%.*s", (int)p->keyword_len,
		         p->keyword);
		char value[512];
		const char *error;
		if (strcasecmp(keyword, "SIZE") == 0) {
			uint64_t size = 0;
			size_t digits = 0;
			for (size_t j = 0; p->value && j < p->value_len; j++, digits++) {
				char c = p->value[j];
				if (c < '0' || c > '9' || digits >= 18) {
					digits = 0;
					break;
				}
				size = size * 10 + (uint64_t)(c - '0');
			}
			if (digits == 0) {
				reply_error(s, "501 5.5.4 Bad SIZE= parameter");
				return -1;
			}
			tx->declared_size = size;
		} else if (strcasecmp(keyword, "BODY") == 0) {
			if (p->value_len == 4 && strncasecmp(p->value, "7BIT", 4) == 0) {
				tx->env.body = xstrdup("7BIT");
			} else if (p->value_len == 8 &&
			           strncasecmp(p->value, "8BITMIME", 8) == 0) {
				tx->env.body = xstrdup("8BITMIME");
			} else {
				reply_error(s, "501 5.5.4 BODY must be 7BIT or 8BITMIME");
				return -1;
			}
		} else if (strcasecmp(keyword, "SMTPUTF8") == 0) {
			if (p->value) {
				reply_error(s, "501 5.5.4 SMTPUTF8 takes no value");
				return -1;
			}
			tx->env.smtputf8 = true;
		} else if (strcasecmp(keyword, "AUTH") == 0 ||
		           strcasecmp(keyword, "ENVID") == 0) {
			/* RFC 4954 5 / RFC 3461 4.4: xtext; CR/LF encoded in it
			 * must never reach a header or the spool. */
			if (p->value == NULL ||
			    xtext_decode(p->value, p->value_len, value, sizeof(value),
			                 &error) < 0) {
				reply_error(s, "501 5.5.4 Invalid %s= parameter: %s",
				            keyword, p->value ? error : "value required");
				return -1;
			}
			if (strcasecmp(keyword, "ENVID") == 0) {
				/* RFC 3461 4.4: at most 100 characters. */
				if (tx->env.envid || strlen(value) > 100) {
					reply_error(s,
					            "501 5.5.4 Invalid ENVID= parameter");
					return -1;
				}
				tx->env.envid = xstrdup(value);
			}
			/* AUTH=: we offer no AUTH here, so the claim is not trusted
			 * and is ignored (RFC 4954 5). */
		} else if (strcasecmp(keyword, "RET") == 0) {
			bool full = p->value && p->value_len == 4 &&
			            !strncasecmp(p->value, "FULL", 4);
			bool hdrs = p->value && p->value_len == 4 &&
			            !strncasecmp(p->value, "HDRS", 4);
			if ((!full && !hdrs) || tx->env.ret) {
				reply_error(s,
				            "501 5.5.4 RET must be FULL or HDRS, once");
				return -1;
			}
			tx->env.ret = xstrdup(full ? "FULL" : "HDRS");
		} else {
			reply_error(s, "555 5.5.4 Unsupported parameter %s", keyword);
			return -1;
		}
	}
	return 0;
}

static void cmd_mail(struct session *s, const struct smtp_cmd *cmd)
{
	struct smtp_addr addr;
	const char *error;
	int n =
	    smtp_addr_parse(cmd->arg, cmd->arg_len, SMTP_ADDR_ALLOW_NULL, &addr, &error);
	if (n < 0) {
		reply_error(s, "501 5.1.7 Bad sender address syntax: %s", error);
		return;
	}
	struct esmtp_params params;
	if (esmtp_params_parse(cmd->arg + n, cmd->arg_len - (size_t)n, &params, &error) <
	    0) {
		reply_error(s, "501 5.5.4 Bad MAIL parameters: %s", error);
		return;
	}
	session_transaction_reset(s);
	if (mail_params(s, &params) < 0) {
		session_transaction_reset(s);
		return;
	}
	uint64_t limit = s->server->config->limits.message_size;
	if (s->tx.declared_size > limit) {
		reply(s, "552 5.3.4 Message size exceeds fixed limit of %llu octets",
		      (unsigned long long)limit);
		session_transaction_reset(s);
		return;
	}
	if (spool_writer_free_space(s->server->writer) <
	    s->tx.declared_size + SPOOL_RESERVE) {
		log_msg(L_WARN, "event=spool-low-space session=%s free=%llu", s->log_id,
		        (unsigned long long)spool_writer_free_space(s->server->writer));
		reply(s, "452 4.3.1 Insufficient system storage");
		session_transaction_reset(s);
		return;
	}
	if (addr.utf8 && !s->tx.env.smtputf8) {
		reply(s, "553 5.6.7 Non-ASCII address requires SMTPUTF8");
		session_transaction_reset(s);
		return;
	}
	char text[SMTP_PATH_MAX + 8];
	smtp_addr_format(&addr, text, sizeof(text));
	s->tx.env.sender = xstrdup(text);
	s->tx.start_usec = now_usec();
	s->state = STATE_MAIL;
	reply(s, "250 2.1.0 Ok");
}

/* NOTIFY=NEVER, or a comma list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1). */
static unsigned parse_notify(const char *value, size_t len)
{
	unsigned notify = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && value[i] != ',')
			continue;
		const char *word = value + start;
		size_t n = i - start;
		unsigned bit = n == 7 && !strncasecmp(word, "SUCCESS", 7) ? NOTIFY_SUCCESS
		               : n == 7 && !strncasecmp(word, "FAILURE", 7)
		                   ? NOTIFY_FAILURE
		               : n == 5 && !strncasecmp(word, "DELAY", 5) ? NOTIFY_DELAY
		               : n == 5 && !strncasecmp(word, "NEVER", 5) ? NOTIFY_NEVER
		                                                          : 0;
		if (bit == 0 || (notify & bit))
			return 0;
		notify |= bit;
		start = i + 1;
	}
	/* NEVER must stand alone. */
	return (notify & NOTIFY_NEVER) && notify != NOTIFY_NEVER ? 0 : notify;
}

/* Checks RCPT parameters (RFC 3461: NOTIFY and ORCPT) into *notify_r and
 * orcpt (decoded, "" if absent). Returns 0 or replies. */
static int rcpt_params(struct session *s, const struct esmtp_params *params,
                       unsigned *notify_r, char *orcpt, size_t orcpt_size)
{
	*notify_r = 0;
	orcpt[0] = '\0';
	for (size_t i = 0; i < params->count; i++) {
		const struct esmtp_param *p = &params->param[i];
		char keyword[32];
		const char *error;
		snprintf(keyword, sizeof(keyword), "%.*s", (int)p->keyword_len,
		         p->keyword);
		if (strcasecmp(keyword, "ORCPT") == 0) {
			/* addr-type ";" xtext; CR/LF encoded in it is refused. */
			const char *semi =
			    p->value ? memchr(p->value, ';', p->value_len) : NULL;
			size_t type_len = semi ? (size_t)(semi - p->value) : 0;
			if (semi == NULL || type_len == 0 || type_len > 32 || orcpt[0] ||
			    p->value_len > 500) {
				reply_error(s, "501 5.5.4 Invalid ORCPT= parameter");
				return -1;
			}
			memcpy(orcpt, p->value, type_len + 1);
			if (xtext_decode(semi + 1,
			                 p->value_len - (size_t)(semi + 1 - p->value),
			                 orcpt + type_len + 1, orcpt_size - type_len - 1,
			                 &error) <= 0) {
				reply_error(s, "501 5.5.4 Invalid ORCPT= parameter");
				return -1;
			}
		} else if (strcasecmp(keyword, "NOTIFY") == 0) {
			unsigned notify =
			    p->value ? parse_notify(p->value, p->value_len) : 0;
			if (notify == 0 || *notify_r) {
				reply_error(s, "501 5.5.4 NOTIFY must be NEVER or a list "
				               "of SUCCESS, FAILURE, DELAY");
				return -1;
			}
			*notify_r = notify;
		} else {
			reply_error(s, "555 5.5.4 Unsupported parameter %s", keyword);
			return -1;
		}
	}
	return 0;
}

static void cmd_rcpt(struct session *s, const struct smtp_cmd *cmd)
{
	struct transaction *tx = &s->tx;
	const struct config *config = s->server->config;
	if (tx->bdat_started) {
		reply_error(s, "503 5.5.1 Error: RCPT after BDAT");
		return;
	}
	struct smtp_addr addr;
	const char *error;
	int n = smtp_addr_parse(cmd->arg, cmd->arg_len, SMTP_ADDR_ALLOW_POSTMASTER, &addr,
	                        &error);
	if (n < 0) {
		reply_error(s, "501 5.1.3 Bad recipient address syntax: %s", error);
		return;
	}
	struct esmtp_params params;
	if (esmtp_params_parse(cmd->arg + n, cmd->arg_len - (size_t)n, &params, &error) <
	    0) {
		reply_error(s, "501 5.5.4 Bad RCPT parameters: %s", error);
		return;
	}
	unsigned notify;
	char orcpt[512];
	if (rcpt_params(s, &params, &notify, orcpt, sizeof(orcpt)) < 0)
		return;
	if (tx->env.rcpt_count >= config->limits.recipients) {
		reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	if (addr.utf8 && !tx->env.smtputf8) {
		reply(s, "553 5.6.7 Non-ASCII address requires SMTPUTF8");
		return;
	}
	if (addr.domain_len == 0) {
		/* "<Postmaster>" (RFC 5321 4.1.1.3): our first local domain. */
		const char *domain =
		    config->domain_count ? config->domains[0] : "localhost";
		memcpy(addr.domain, domain, strlen(domain) + 1);
		addr.domain_len = strlen(domain);
	}
	char text[SMTP_PATH_MAX + 8];
	smtp_addr_format(&addr, text, sizeof(text));
	bool local = !addr.domain_literal && config_is_local_domain(config, addr.domain);
	if (local) {
		if (config_find_local_user(config, addr.local, addr.local_len,
		                           addr.domain) == NULL) {
			reply_error(
			    s, "550 5.1.1 <%s>: Recipient address rejected: User unknown",
			    text);
			return;
		}
	} else if (!s->relay_allowed && !config_is_relay_domain(config, addr.domain)) {
		/* relay_domains are accepted from anyone, as a backup MX or a
		 * gateway does; everything else only from relay_networks. */
		log_msg(L_INFO, "event=relay-denied session=%s client=%s rcpt=%s",
		        s->log_id, s->peer_ip, LOG_Q(text));
		reply_error(s, "550 5.7.1 <%s>: Relay access denied", text);
		return;
	}
	for (size_t i = 0; i < tx->env.rcpt_count; i++) {
		if (strcasecmp(tx->env.rcpts[i].address, text) == 0) {
			reply(s, "250 2.1.5 Ok");
			return; /* a duplicate: delivered once */
		}
	}
	struct envelope_rcpt *r = envelope_add_rcpt(&tx->env, text);
	r->notify = notify;
	r->orcpt = orcpt[0] ? xstrdup(orcpt) : NULL;
	s->state = STATE_RCPT;
	reply(s, "250 2.1.5 Ok");
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
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0) {
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
	reply(s, "214 2.0.0 VRFY HELP STARTTLS");
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

static void cmd_auth(struct session *s, const struct smtp_cmd *cmd)
{
	(void)cmd;
	reply_error(s, "502 5.5.1 AUTH not available");
}

static const struct command command_table[] = {
    {SMTP_HELO, ANY_STATE, NULL, cmd_helo},
    {SMTP_EHLO, ANY_STATE, NULL, cmd_helo},
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
    {SMTP_AUTH, ANY_STATE, NULL, cmd_auth},
};

/* The refusal when a command comes in the wrong state and its row has
 * no specific one. */
static const char *default_refusal(const struct session *s, enum smtp_verb verb)
{
	if (s->state == STATE_CONNECTED)
		return "503 5.5.1 Error: send HELO/EHLO first";
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
		reply_error(s, "500 5.5.2 Error: %s", error);
		return;
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
	return NULL;
}

void commands_message_complete(struct session *s)
{
	struct transaction *tx = &s->tx;
	struct smtpd *server = s->server;
	const char *refusal = content_refusal(s);
	if (refusal) {
		log_msg(L_INFO, "event=message-refused session=%s client=%s reason=%s",
		        s->log_id, s->peer_ip, LOG_Q(refusal));
		session_transaction_reset(s);
		reply(s, "%s", refusal);
		return;
	}
	struct spool_job *job = xcalloc(1, sizeof(*job));
	queue_id_next(&server->ids, now_usec(), job->id);
	memcpy(tx->env.id, job->id, sizeof(job->id));
	tx->env.arrival = (int64_t)(now_usec() / 1000000);
	tx->env.helo = s->helo ? xstrdup(s->helo) : NULL;
	tx->env.client = xstrdup(s->peer_ip);
	tx->env.tls = s->tls_active ? xstrdup(s->tls_info) : NULL;
	if (tx->env.body == NULL)
		tx->env.body = xstrdup("7BIT");

	struct buf received = BUF_INIT;
	reply_received_header(s, &received);
	envelope_serialize(&tx->env, received.len + tx->message.len, &job->head);
	buf_append(&job->head, received.data, received.len);
	buf_free(&received);
	job->body = tx->message; /* moved, not copied */
	tx->message = (struct buf)BUF_INIT;
	job->owner = s;
	job->context = server;
	job->done = commands_spooled;
	s->job = job;
	s->state = STATE_SPOOLING;
	bufferevent_disable(s->bev, EV_READ);
	spool_writer_submit(server->writer, job);
}

void commands_spooled(struct spool_job *job)
{
	struct session *s = job->owner;
	if (job->result == 0) {
		/* Committed: the queue must hear of it even if the client left. */
		struct smtpd *owner_server = job->context;
		if (ipc_send_queued(owner_server->queue_notify_fd, job->id) < 0)
			log_msg(L_WARN, "event=queue-notify-failed id=%s", job->id);
	}
	if (s == NULL) {
		log_msg(L_INFO, "event=spooled-without-client id=%s result=%d", job->id,
		        job->result);
		spool_job_free(&job);
		return;
	}
	s->job = NULL;
	struct transaction *tx = &s->tx;
	if (job->result == 0) {
		s->messages++;
		log_msg(
		    L_INFO,
		    "event=queued session=%s id=%s client=%s from=%s nrcpt=%zu size=%zu "
		    "tls=%s delay_ms=%llu",
		    s->log_id, job->id, s->peer_ip, LOG_Q(tx->env.sender),
		    tx->env.rcpt_count, job->body.len,
		    s->tls_active ? LOG_Q(s->tls_info) : "none",
		    (unsigned long long)((now_usec() - tx->start_usec) / 1000));
		reply(s, "250 2.0.0 Ok: queued as %s", job->id);
	} else {
		int e = job->error_errno;
		log_msg(L_ERROR, "event=spool-failed session=%s id=%s error=%s",
		        s->log_id, job->id, LOG_Q(strerror(e)));
		if (e == ENOSPC || e == EDQUOT)
			reply(s, "452 4.3.1 Insufficient system storage");
		else
			reply(s, "451 4.3.0 Error: queue file write error");
	}
	spool_job_free(&job);
	session_transaction_reset(s);
	session_resume(s);
}
