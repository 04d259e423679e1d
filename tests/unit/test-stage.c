/*
 * test-stage.c — hooks of an SMTP stage: run in order, the first that
 * does not accept decides, an answer may come later from the event loop
 * (the next hook waits for it), a cancelled call never calls back, and
 * refusals become one clean reply line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "smtpd/stage.h"

static char trace[256];
static int done_count;
static struct stage_decision last;

static void note(const char *what)
{
	size_t n = strlen(trace);
	snprintf(trace + n, sizeof(trace) - n, "%s%s", n ? "," : "", what);
}

static void done(const struct stage_decision *d, void *arg)
{
	(void)arg;
	done_count++;
	last = *d;
	note("done");
}

static void accept_now(struct stage_call *call, const struct stage_context *ctx,
                       void *arg)
{
	(void)ctx;
	note(arg);
	stage_answer(call, NULL);
}

static void reject_now(struct stage_call *call, const struct stage_context *ctx,
                       void *arg)
{
	(void)ctx;
	note(arg);
	struct stage_decision d;
	stage_decide(&d, STAGE_REJECT, 554, "5.7.1", "no\r\nthanks");
	stage_answer(call, &d);
}

struct later {
	struct stage_call *call;
	struct event *timer;
	enum stage_verdict verdict;
	const char *name;
};

static void later_fired(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct later *l = arg;
	note(l->name);
	struct stage_decision d;
	stage_decide(&d, l->verdict, 0, NULL, NULL);
	stage_answer(l->call, &d);
}

static void answer_later(struct stage_call *call, const struct stage_context *ctx,
                         void *arg)
{
	struct later *l = arg;
	l->call = call;
	l->timer = evtimer_new(ctx->base, later_fired, l);
	struct timeval tv = {0, 10000};
	evtimer_add(l->timer, &tv);
}

static void reset(void)
{
	trace[0] = '\0';
	done_count = 0;
	memset(&last, 0, sizeof(last));
}

static void test_in_order_first_refusal_decides(void **state)
{
	(void)state;
	struct stage_hooks *h = stage_hooks_new();
	stage_hooks_add(h, SMTP_STAGE_RCPT, &(struct stage_hook){"a", accept_now, "a"});
	stage_hooks_add(h, SMTP_STAGE_RCPT, &(struct stage_hook){"b", reject_now, "b"});
	stage_hooks_add(h, SMTP_STAGE_RCPT, &(struct stage_hook){"c", accept_now, "c"});
	struct stage_context ctx = {.stage = SMTP_STAGE_RCPT};
	reset();
	assert_null(stage_run(h, &ctx, done, NULL));
	assert_string_equal(trace, "a,b,done");
	assert_int_equal(done_count, 1);
	assert_int_equal(last.verdict, STAGE_REJECT);
	assert_string_equal(last.hook, "b");
	char line[300];
	stage_reply_text(&last, line, sizeof(line));
	assert_string_equal(line, "554 5.7.1 no  thanks");
	/* Another stage has no hooks: accepted at once. */
	ctx.stage = SMTP_STAGE_MAIL;
	reset();
	assert_true(stage_hooks_empty(h, SMTP_STAGE_MAIL));
	assert_null(stage_run(h, &ctx, done, NULL));
	assert_int_equal(last.verdict, STAGE_ACCEPT);
	stage_hooks_free(&h);
}

static void test_later_answers(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct later first = {.verdict = STAGE_ACCEPT, .name = "later1"};
	struct later second = {.verdict = STAGE_DEFER, .name = "later2"};
	struct stage_hooks *h = stage_hooks_new();
	stage_hooks_add(h, SMTP_STAGE_DATA,
	                &(struct stage_hook){"x", answer_later, &first});
	stage_hooks_add(h, SMTP_STAGE_DATA, &(struct stage_hook){"y", accept_now, "now"});
	stage_hooks_add(h, SMTP_STAGE_DATA,
	                &(struct stage_hook){"z", answer_later, &second});
	struct stage_context ctx = {.stage = SMTP_STAGE_DATA, .base = base};
	reset();
	struct stage_call *call = stage_run(h, &ctx, done, NULL);
	assert_non_null(call);
	assert_string_equal(trace, ""); /* waiting for the first */
	event_base_dispatch(base);
	assert_string_equal(trace, "later1,now,later2,done");
	assert_int_equal(done_count, 1);
	assert_int_equal(last.verdict, STAGE_DEFER);
	assert_string_equal(last.hook, "z");
	char line[300];
	stage_reply_text(&last, line, sizeof(line));
	assert_string_equal(line, "451 4.7.1 Try again later");
	event_free(first.timer);
	event_free(second.timer);

	/* Cancelled while a hook is out: it answers to no one. */
	reset();
	first.timer = NULL;
	call = stage_run(h, &ctx, done, NULL);
	stage_cancel(call);
	event_base_dispatch(base);
	assert_string_equal(trace, "later1");
	assert_int_equal(done_count, 0);
	event_free(first.timer);
	stage_hooks_free(&h);
	event_base_free(base);
}

static void test_reply_classes(void **state)
{
	(void)state;
	struct stage_decision d;
	char line[300];
	/* A deferral cannot carry a 5xx, nor a rejection a 4xx. */
	stage_decide(&d, STAGE_DEFER, 550, "5.1.1", "x");
	stage_reply_text(&d, line, sizeof(line));
	assert_string_equal(line, "451 4.7.1 x");
	stage_decide(&d, STAGE_REJECT, 421, NULL, NULL);
	stage_reply_text(&d, line, sizeof(line));
	assert_string_equal(line, "550 5.7.1 Refused by policy");
	stage_decide(&d, STAGE_REJECT, 553, "5.1.8", "bad sender");
	stage_reply_text(&d, line, sizeof(line));
	assert_string_equal(line, "553 5.1.8 bad sender");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order_first_refusal_decides),
	    cmocka_unit_test(test_later_answers),
	    cmocka_unit_test(test_reply_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
