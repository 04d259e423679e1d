/*
 * cmd_rcpt.c — RCPT TO (RFC 5321 4.1.1.3) with NOTIFY and ORCPT (RFC
 * 3461). A local recipient is looked up in the user database, off the
 * event loop: aliases expand into the envelope, an unknown address is
 * refused at once (no backscatter), and a database that does not answer
 * gets a 451 so the client retries. Anything else is relayed only for
 * authenticated clients, relay_networks and relay_domains.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "proto/esmtp_params.h"
#include "proto/smtp_addr.h"
#include "mailbox/maildir.h"
#include "mailbox/quota.h"
#include "smtpd/session.h"

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

struct rcpt_lookup {
	struct auth_job job; /* first: the job is the lookup */
	char address[SMTP_PATH_MAX + 8];
	char domain[SMTP_DOMAIN_MAX + 1];
	bool literal;
	unsigned notify;
	char *orcpt;
	/* answers */
	int local; /* 1, 0, -1: the database could not say */
	int known; /* 1 with expansion, 0 unknown, -1 could not say */
	struct userdb_expansion expansion;
};

static void add_recipient(struct transaction *tx, const char *address, unsigned notify,
                          const char *orcpt, const char *original)
{
	for (size_t i = 0; i < tx->env.rcpt_count; i++)
		if (strcasecmp(tx->env.rcpts[i].address, address) == 0)
			return; /* a duplicate: delivered once */
	struct envelope_rcpt *r = envelope_add_rcpt(&tx->env, address);
	r->notify = notify;
	r->orcpt = orcpt ? xstrdup(orcpt) : NULL;
	r->original = original ? xstrdup(original) : NULL;
}

static void rcpt_accept(struct session *s, struct rcpt_lookup *l)
{
	struct transaction *tx = &s->tx;
	if (l->known > 0) {
		/* An alias keeps the address the client gave, for DSNs
		 * (RFC 3461 4.2), unless the client gave one itself. */
		struct buf original = BUF_INIT;
		buf_appendf(&original, "rfc822;%s", l->address);
		for (size_t i = 0; i < l->expansion.count; i++) {
			const char *final = l->expansion.addresses[i];
			bool same = strcasecmp(final, l->address) == 0;
			add_recipient(tx, final, l->notify,
			              l->orcpt ? l->orcpt
			              : same   ? NULL
			                       : original.data,
			              same ? NULL : l->address);
		}
		buf_free(&original);
		if (l->expansion.count > 1 ||
		    strcasecmp(l->expansion.addresses[0], l->address))
			log_msg(
			    L_INFO,
			    "event=alias-expanded session=%s rcpt=%s recipients=%zu%s",
			    s->log_id, LOG_Q(l->address), l->expansion.count,
			    l->expansion.truncated ? " truncated=yes" : "");
	} else {
		add_recipient(tx, l->address, l->notify, l->orcpt, NULL);
	}
	tx->rcpt_accepted++;
	s->state = STATE_RCPT;
	reply(s, "250 2.1.5 Ok");
}

static void rcpt_proceed(struct session *s, void *data)
{
	rcpt_accept(s, data);
}

static void rcpt_lookup_free(void *data)
{
	struct rcpt_lookup *l = data;
	userdb_expansion_free(&l->expansion);
	free(l->orcpt);
	free(l);
}

/* The lookup's answer: refused here, or handed to the RCPT stage's hooks
 * (which then own l: true). */
static bool rcpt_decide(struct session *s, struct rcpt_lookup *l)
{
	const struct config *config = s->server->config;
	if (l->local < 0 || l->known < 0) {
		log_msg(L_ERROR, "event=userdb-failed session=%s rcpt=%s error=%s",
		        s->log_id, LOG_Q(l->address), LOG_Q(l->job.error));
		reply(s, "451 4.3.0 <%s>: Temporary lookup failure", l->address);
		return false;
	}
	/* LMTP delivers into our mailboxes; it relays nowhere. */
	if (s->listener->protocol == PROTO_LMTP && !l->local) {
		reply_error(s, "550 5.1.1 <%s>: Not a local recipient", l->address);
		return false;
	}
	if (l->local && l->known == 0) {
		reply_error(s, "550 5.1.1 <%s>: Recipient address rejected: User unknown",
		            l->address);
		return false;
	}
	/* A full mailbox refuses now rather than bounce later (the
	 * delivery checks again, exactly). */
	for (size_t i = 0; l->known > 0 && l->expansion.quotas && i < l->expansion.count;
	     i++) {
		uint64_t used, quota = l->expansion.quotas[i];
		struct buf root = BUF_INIT;
		maildir_user_root(config->home, l->expansion.addresses[i], &root);
		bool full =
		    quota && mail_quota_peek(root.data, &used) > 0 && used >= quota;
		buf_free(&root);
		if (full) {
			reply_error(s, "452 4.2.2 <%s>: Recipient mailbox is full",
			            l->address);
			return false;
		}
	}
	/* relay_domains are accepted from anyone, as a backup MX or a gateway
	 * does; everything else only from relay_networks and logged-in users. */
	if (!l->local && !s->relay_allowed && s->auth_user == NULL &&
	    !config_is_relay_domain(config, l->domain)) {
		reply_error(s, "550 5.7.1 <%s>: Relay access denied", l->address);
		return false;
	}
	session_hook(s, SMTP_STAGE_RCPT, l->address, rcpt_proceed, NULL, l,
	             rcpt_lookup_free);
	return true;
}

/* The auth process's answer. */
static void rcpt_lookup_done(struct auth_job *job)
{
	struct rcpt_lookup *l = (struct rcpt_lookup *)job;
	struct session *s = job->owner;
	l->known = auth_job_result(job);
	l->local = l->known < 0 ? -1 : job->response.expansion.local;
	l->expansion = job->response.expansion; /* handed over */
	memset(&job->response.expansion, 0, sizeof(job->response.expansion));
	auth_response_clear(&job->response);
	bool handed = false;
	if (s) {
		s->pending = NULL;
		if (s->state != STATE_CLOSING) /* a 421 went out meanwhile */
			handed = rcpt_decide(s, l);
	}
	if (!handed)
		rcpt_lookup_free(l);
	if (s)
		session_resume(s);
}

void cmd_rcpt(struct session *s, const struct smtp_cmd *cmd)
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
	if (tx->rcpt_accepted >= s->limits->recipients) {
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
	struct rcpt_lookup *lookup = xcalloc(1, sizeof(*lookup));
	smtp_addr_format(&addr, lookup->address, sizeof(lookup->address));
	memcpy(lookup->domain, addr.domain, addr.domain_len + 1);
	lookup->literal = addr.domain_literal;
	lookup->notify = notify;
	lookup->orcpt = orcpt[0] ? xstrdup(orcpt) : NULL;
	if (lookup->literal) {
		/* An address literal is never ours: nothing to ask. */
		if (!rcpt_decide(s, lookup))
			rcpt_lookup_free(lookup);
		return;
	}
	lookup->job.request.type = AUTH_EXPAND;
	snprintf(lookup->job.request.name, sizeof(lookup->job.request.name), "%s",
	         lookup->address);
	lookup->job.done = rcpt_lookup_done;
	lookup->job.owner = s;
	s->pending = &lookup->job;
	auth_service_submit(s->server->auth, &lookup->job);
}
