/*
 * stage.c — hooks run in order, at once or later (see stage.h).
 */
#include "smtpd/stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

struct stage_hooks {
	struct stage_hook *list[SMTP_STAGE_COUNT];
	size_t count[SMTP_STAGE_COUNT];
};

struct stage_call {
	const struct stage_hook *hooks;
	size_t count;
	size_t next; /* the hook to run next */
	const struct stage_context *context;
	stage_done_fn *done;
	void *arg;
	bool running;  /* inside stage_run's loop */
	bool answered; /* the current hook has answered */
	bool finished; /* done() has run, or was cancelled */
	bool cancelled;
	struct stage_decision decision;
};

struct stage_hooks *stage_hooks_new(void)
{
	return xcalloc(1, sizeof(struct stage_hooks));
}

void stage_hooks_free(struct stage_hooks **hooks)
{
	if (*hooks == NULL)
		return;
	for (int i = 0; i < SMTP_STAGE_COUNT; i++)
		free((*hooks)->list[i]);
	x_free(hooks);
}

void stage_hooks_add(struct stage_hooks *h, enum smtp_stage stage,
                     const struct stage_hook *hook)
{
	h->list[stage] =
	    xrealloc(h->list[stage], (h->count[stage] + 1) * sizeof(*h->list[stage]));
	h->list[stage][h->count[stage]++] = *hook;
}

bool stage_hooks_empty(const struct stage_hooks *h, enum smtp_stage stage)
{
	return h == NULL || h->count[stage] == 0;
}

void stage_decide(struct stage_decision *d, enum stage_verdict verdict, int code,
                  const char *enhanced, const char *text)
{
	memset(d, 0, sizeof(*d));
	d->verdict = verdict;
	d->code = code;
	snprintf(d->enhanced, sizeof(d->enhanced), "%s", enhanced ? enhanced : "");
	snprintf(d->text, sizeof(d->text), "%s", text ? text : "");
}

void stage_reply_text(const struct stage_decision *d, char *out, size_t size)
{
	bool defer = d->verdict == STAGE_DEFER;
	int code = d->code;
	/* The class must match the verdict: a hook cannot defer with 5xx. */
	if (code < (defer ? 400 : 500) || code > (defer ? 499 : 599))
		code = defer ? 451 : 550;
	char fallback[16];
	const char *enhanced = d->enhanced;
	if (enhanced[0] == '\0' || enhanced[0] != '0' + code / 100) {
		snprintf(fallback, sizeof(fallback), "%d.7.1", code / 100);
		enhanced = fallback;
	}
	const char *text = d->text[0] ? d->text
	                   : defer    ? "Try again later"
	                              : "Refused by policy";
	/* A reply is one line: a hook's text never breaks it (no CR, LF). */
	char clean[256];
	size_t n = 0;
	for (const char *p = text; *p && n + 1 < sizeof(clean); p++)
		clean[n++] =
		    (*p == '\r' || *p == '\n' || (unsigned char)*p < 32) ? ' ' : *p;
	clean[n] = '\0';
	snprintf(out, size, "%d %s %s", code, enhanced, clean);
}

static void finish(struct stage_call *c)
{
	c->finished = true;
	if (!c->cancelled)
		c->done(&c->decision, c->arg);
}

/* Runs hooks from c->next on while they answer at once; returns true
 * when the call is over (done() ran). */
static bool advance(struct stage_call *c)
{
	while (c->next < c->count) {
		const struct stage_hook *hook = &c->hooks[c->next++];
		c->answered = false;
		c->running = true;
		c->decision.hook = hook->name;
		hook->fn(c, c->context, hook->arg);
		c->running = false;
		if (!c->answered)
			return false; /* later: stage_answer() goes on */
		if (c->decision.verdict != STAGE_ACCEPT)
			break;
	}
	finish(c);
	return true;
}

struct stage_call *stage_run(const struct stage_hooks *h, const struct stage_context *ctx,
                             stage_done_fn *done, void *arg)
{
	struct stage_call *c = xcalloc(1, sizeof(*c));
	c->hooks = h ? h->list[ctx->stage] : NULL;
	c->count = h ? h->count[ctx->stage] : 0;
	c->context = ctx;
	c->done = done;
	c->arg = arg;
	if (advance(c)) {
		free(c);
		return NULL;
	}
	return c;
}

void stage_answer(struct stage_call *c, const struct stage_decision *decision)
{
	const char *hook = c->decision.hook;
	if (decision)
		c->decision = *decision;
	else
		stage_decide(&c->decision, STAGE_ACCEPT, 0, NULL, NULL);
	c->decision.hook = hook;
	c->answered = true;
	if (c->running)
		return; /* at once: advance() goes on */
	if (c->cancelled) {
		free(c);
		return;
	}
	if (c->decision.verdict != STAGE_ACCEPT) {
		finish(c);
		free(c);
		return;
	}
	if (advance(c))
		free(c);
}

void stage_cancel(struct stage_call *c)
{
	if (c == NULL)
		return;
	c->cancelled = true;
	c->context = NULL;
	/* A hook still owes its answer; stage_answer() frees the call. */
}

bool stage_cancelled(const struct stage_call *c)
{
	return c->cancelled;
}
