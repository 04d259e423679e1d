/*
 * cmd_mail.c — MAIL FROM (RFC 5321 4.1.1.2) and its parameters: SIZE,
 * BODY, SMTPUTF8, AUTH, ENVID, RET. An authenticated client may only
 * use a sender address it owns (auth.sender_check), which the user
 * database decides off the event loop.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "proto/esmtp_params.h"
#include "proto/smtp_addr.h"
#include "smtpd/session.h"

/* Disk space that must stay free beyond a declared message size. */
#define SPOOL_RESERVE (4u * 1024 * 1024)

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

static void mail_proceed(struct session *s, void *data)
{
	(void)data;
	s->state = STATE_MAIL;
	reply(s, "250 2.1.0 Ok");
}

static void mail_refused(struct session *s, void *data)
{
	(void)data;
	session_transaction_reset(s);
}

/* The sender is checked: the MAIL stage's hooks decide. */
static void mail_hooks(struct session *s)
{
	session_hook(s, SMTP_STAGE_MAIL, s->tx.env.sender, mail_proceed, mail_refused,
	             NULL, NULL);
}

struct sender_lookup {
	struct auth_job job; /* first: the job is the check */
	char *user, *sender;
	int allowed; /* 1, 0, or -1: the database could not say */
};

static void sender_check_done(struct auth_job *job)
{
	struct sender_lookup *c = (struct sender_lookup *)job;
	struct session *s = job->owner;
	c->allowed = auth_job_result(job);
	auth_response_clear(&job->response);
	if (s) {
		s->pending = NULL;
		if (s->state == STATE_CLOSING) {
			/* a 421 went out meanwhile */
		} else if (c->allowed > 0) {
			mail_hooks(s);
		} else if (c->allowed == 0) {
			log_msg(
			    L_INFO,
			    "event=sender-refused session=%s client=%s user=%s from=%s",
			    s->log_id, s->peer_ip, LOG_Q(c->user), LOG_Q(c->sender));
			session_transaction_reset(s);
			reply_error(
			    s,
			    "553 5.7.1 <%s>: Sender address rejected: not owned by "
			    "user %s",
			    c->sender, c->user);
		} else {
			log_msg(L_ERROR,
			        "event=userdb-failed session=%s from=%s error=%s",
			        s->log_id, LOG_Q(c->sender), LOG_Q(job->error));
			session_transaction_reset(s);
			reply(s, "451 4.3.0 <%s>: Temporary lookup failure", c->sender);
		}
	}
	free(c->user);
	free(c->sender);
	free(c);
	if (s)
		session_resume(s);
}

/* auth.sender_check: an authenticated client sends only as itself, its
 * +tag variants, aliases naming it, or addresses delegated to it. */
static void check_sender(struct session *s)
{
	struct sender_lookup *c = xcalloc(1, sizeof(*c));
	c->user = xstrdup(s->auth_user);
	c->sender = xstrdup(s->tx.env.sender);
	c->job.request.type = AUTH_SENDER;
	snprintf(c->job.request.name, sizeof(c->job.request.name), "%s", c->user);
	snprintf(c->job.request.other, sizeof(c->job.request.other), "%s", c->sender);
	c->job.done = sender_check_done;
	c->job.owner = s;
	s->pending = &c->job;
	auth_service_submit(s->server->auth, &c->job);
}

void cmd_mail(struct session *s, const struct smtp_cmd *cmd)
{
	/* The submission port is for users (RFC 6409 4.3). */
	if (s->listener->protocol == PROTO_SUBMISSION && s->auth_user == NULL) {
		reply_error(s, "530 5.7.0 Authentication required");
		return;
	}
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
	uint64_t limit = s->limits->message_size;
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
	if (s->auth_user && s->server->config->auth.sender_check == SENDER_CHECK_OWNED) {
		check_sender(s);
		return;
	}
	mail_hooks(s);
}
