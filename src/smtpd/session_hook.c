/*
 * session_hook.c — check → hook → proceed for SMTP commands (see
 * smtpd/stage.h): after a command's own checks, the stage's hooks decide
 * while the session reads nothing; then the command proceeds, or the
 * refusal is the reply. With no hook for the stage, the command proceeds
 * at once: no allocation, no extra loop turn.
 */
#include <stdlib.h>

#include "lib/log.h"
#include "smtpd/session.h"

struct hook_call {
	struct session *session;
	enum smtp_stage stage;
	session_proceed_fn *proceed;
	session_proceed_fn *refused;
	void *data;
	void (*release)(void *data);
};

static void finish(struct hook_call *h)
{
	if (h->release)
		h->release(h->data);
	free(h);
}

static void decided(const struct stage_decision *d, void *arg)
{
	struct hook_call *h = arg;
	struct session *s = h->session;
	s->stage = NULL;
	s->hook_call = NULL;
	if (d->verdict == STAGE_ACCEPT) {
		h->proceed(s, h->data);
	} else {
		char text[320];
		stage_reply_text(d, text, sizeof(text));
		if (h->refused)
			h->refused(s, h->data);
		/* The reply's reject line names the hook (reply.c). */
		if (h->stage == SMTP_STAGE_CONNECT)
			reply_command_started(s, "CONNECT");
		s->refused_by = d->hook;
		if (h->stage == SMTP_STAGE_CONNECT)
			session_close_after(s, text);
		else
			reply(s, "%s", text);
	}
	finish(h);
	session_resume(s);
}

void session_hook(struct session *s, enum smtp_stage stage, const char *argument,
                  session_proceed_fn *proceed, session_proceed_fn *refused, void *data,
                  void (*release)(void *data))
{
	if (stage_hooks_empty(s->server->hooks, stage)) {
		proceed(s, data);
		if (release)
			release(data);
		return;
	}
	struct hook_call *h = calloc(1, sizeof(*h));
	if (h == NULL)
		abort();
	*h = (struct hook_call){s, stage, proceed, refused, data, release};
	s->stage_context = (struct stage_context){
	    .stage = stage,
	    .base = s->server->base,
	    .conn = conn_info(s->conn),
	    .helo = s->helo,
	    .auth_user = s->auth_user,
	    .argument = argument,
	};
	s->hook_call = h;
	s->stage = stage_run(s->server->hooks, &s->stage_context, decided, h);
}

void session_hook_cancel(struct session *s)
{
	stage_cancel(s->stage);
	s->stage = NULL;
	if (s->hook_call) {
		finish(s->hook_call);
		s->hook_call = NULL;
	}
}
