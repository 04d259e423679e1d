/*
 * stage.h — the SMTP stages and the hooks that run in them.
 *
 * Each command is check → hook → proceed (as OpenSMTPD pairs
 * smtp_check_* with smtp_proceed_*): the command's own checks answer
 * syntax and protocol errors; then the stage's hooks, in the order they
 * were registered, look at the session and the argument (and at end of
 * data at the message, whose header section they may change); then the
 * command proceeds, or the first hook that did not accept is answered
 * with. A hook may answer at once or later, from the event loop (after a
 * DNS or HTTP answer): the session waits, reading nothing, and the loop
 * serves the others meanwhile.
 *
 * Nothing registers hooks yet but tests (tests/unit/test-stage.c, and the
 * test hooks of a -Dtest_hooks=true build); SPF, DKIM, DMARC, scripts and
 * scanners will.
 */
#ifndef PETREL_STAGE_H
#define PETREL_STAGE_H

#include <event2/event.h>
#include <stdbool.h>

#include "message/message.h"
#include "net/conn.h"

enum smtp_stage {
	SMTP_STAGE_CONNECT, /* before the banner */
	SMTP_STAGE_HELO,
	SMTP_STAGE_AUTH, /* after a successful login */
	SMTP_STAGE_MAIL,
	SMTP_STAGE_RCPT,
	SMTP_STAGE_DATA, /* end of data: the message is complete, not yet queued */
	SMTP_STAGE_COUNT,
};

enum stage_verdict {
	STAGE_ACCEPT,  /* go on: the next hook, or the command */
	STAGE_REJECT,  /* 5xx */
	STAGE_DEFER,   /* 4xx */
	STAGE_DISCARD, /* end of data: say it was queued, keep nothing */
};

struct stage_decision {
	enum stage_verdict verdict;
	int code;          /* 0: 550 for a rejection, 451 for a deferral */
	char enhanced[16]; /* "5.7.1"; "": from the code's class */
	char text[256];    /* "": a generic text */
	const char *hook;  /* set by the runner: who decided */
};

/* What a hook sees. Valid until the hook has answered, or the call was
 * cancelled (the client went away: stage_cancelled()). */
struct stage_context {
	enum smtp_stage stage;
	struct event_base *base;
	const struct conn_info *conn; /* peer, TLS, client certificate */
	const char *helo;             /* NULL before HELO/EHLO */
	const char *auth_user;        /* NULL when not logged in */
	const char *argument;         /* the HELO name, sender or recipient */
	struct message *message;      /* SMTP_STAGE_DATA: may be changed */
};

struct stage_call;
typedef void stage_hook_fn(struct stage_call *call, const struct stage_context *context,
                           void *arg);
typedef void stage_done_fn(const struct stage_decision *decision, void *arg);

struct stage_hook {
	const char *name;
	stage_hook_fn *fn;
	void *arg;
};

struct stage_hooks;

struct stage_hooks *stage_hooks_new(void);
void stage_hooks_free(struct stage_hooks **hooks);
/* Appends a hook to a stage (copied; name and arg must outlive it). */
void stage_hooks_add(struct stage_hooks *hooks, enum smtp_stage stage,
                     const struct stage_hook *hook);
bool stage_hooks_empty(const struct stage_hooks *hooks, enum smtp_stage stage);

/*
 * Runs the stage's hooks in order. done() runs exactly once: with the
 * first decision that is not STAGE_ACCEPT, or with an acceptance after
 * the last hook. Returns NULL when done() has already run (every hook
 * answered at once), else the call, which the caller keeps to cancel it.
 */
struct stage_call *stage_run(const struct stage_hooks *hooks,
                             const struct stage_context *context, stage_done_fn *done,
                             void *arg);

/* A hook's answer, now or later; NULL means accept. */
void stage_answer(struct stage_call *call, const struct stage_decision *decision);

/* The caller is going away: done() will not run, and a hook answering
 * later is only released. */
void stage_cancel(struct stage_call *call);
bool stage_cancelled(const struct stage_call *call);

/* A decision from a reply: stage_decide(&d, STAGE_REJECT, 554, "5.7.1",
 * "Spam"). */
void stage_decide(struct stage_decision *d, enum stage_verdict verdict, int code,
                  const char *enhanced, const char *text);

/* The reply line for a decision that refuses ("550 5.7.1 text"). */
void stage_reply_text(const struct stage_decision *d, char *out, size_t size);

#endif
