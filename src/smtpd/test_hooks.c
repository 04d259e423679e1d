/*
 * test_hooks.c — hooks for the integration tests of the SMTP stages,
 * compiled only into a build configured with -Dtest_hooks=true (the
 * sanitizer build of `make test`), never into the petrel people run.
 *
 * At end of data, each "X-Test-Hook:" field of the message is an order,
 * carried out in turn by the first hook:
 *   add NAME VALUE | set NAME VALUE | delete NAME
 *   reject | defer | discard
 *   later MS    (the answer comes MS milliseconds later, from the loop)
 *   digest      adds "X-Test-Body: SIZE SHA256" of the message read back
 *               as received (header section and body), from the spool
 *               file (read here on the loop: a test hook; a real one
 *               reads on a thread of its own)
 * and the second hook adds "X-Test-Second: ran", showing the order and
 * that a refusal by the first stops the rest.
 *
 * At the other stages, the argument (client address, HELO name, sender,
 * recipient, user) decides: one whose local part or first label is
 * "reject" is refused (554 5.7.1), "defer" deferred (451 4.7.1), and
 * "later" accepted after 300 ms.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "smtpd/stage.h"

struct pending {
	struct stage_call *call;
	struct event *timer;
	struct stage_decision decision;
};

static void answer_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pending *p = arg;
	stage_answer(p->call, &p->decision);
	event_free(p->timer);
	free(p);
}

/* Answers d now, or after delay_ms from the event loop. */
static void answer(struct stage_call *call, const struct stage_context *ctx,
                   const struct stage_decision *d, unsigned delay_ms)
{
	if (delay_ms == 0) {
		stage_answer(call, d);
		return;
	}
	struct pending *p = xcalloc(1, sizeof(*p));
	p->call = call;
	p->decision = *d;
	p->timer = evtimer_new(ctx->base, answer_later, p);
	struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};
	evtimer_add(p->timer, &tv);
}

static void add_digest(struct message *m)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	char piece[8192];
	uint64_t pos = 0;
	ssize_t n;
	while ((n = message_source_read(&m->received, pos, piece, sizeof(piece))) > 0) {
		EVP_DigestUpdate(ctx, piece, (size_t)n);
		pos += (uint64_t)n;
	}
	unsigned char digest[32];
	EVP_DigestFinal_ex(ctx, digest, NULL);
	EVP_MD_CTX_free(ctx);
	char value[128];
	int len = snprintf(value, sizeof(value), "%llu ", (unsigned long long)pos);
	for (int i = 0; i < 32; i++)
		len +=
		    snprintf(value + len, sizeof(value) - (size_t)len, "%02x", digest[i]);
	const char *error;
	message_add_header(m, "X-Test-Body", n < 0 ? "read error" : value, &error);
}

/* One order; returns 1 when it decided the verdict. */
static int obey(const char *order, struct message *m, struct stage_decision *d,
                unsigned *delay_ms)
{
	char verb[16] = "", name[64] = "", value[128] = "";
	if (sscanf(order, " %15s %63s %127[^\r\n]", verb, name, value) < 1)
		return 0;
	const char *error;
	if (strcasecmp(verb, "add") == 0)
		message_add_header(m, name, value, &error);
	else if (strcasecmp(verb, "set") == 0)
		message_set_header(m, name, value, &error);
	else if (strcasecmp(verb, "delete") == 0)
		message_delete_header(m, name);
	else if (strcasecmp(verb, "later") == 0)
		*delay_ms = (unsigned)atoi(name);
	else if (strcasecmp(verb, "reject") == 0)
		stage_decide(d, STAGE_REJECT, 554, "5.7.1", "Rejected by the test hook");
	else if (strcasecmp(verb, "defer") == 0)
		stage_decide(d, STAGE_DEFER, 451, "4.7.1", "Deferred by the test hook");
	else if (strcasecmp(verb, "discard") == 0)
		stage_decide(d, STAGE_DISCARD, 0, NULL, NULL);
	else if (strcasecmp(verb, "digest") == 0)
		add_digest(m);
	return d->verdict != STAGE_ACCEPT;
}

static void orders(struct stage_call *call, const struct stage_context *ctx, void *arg)
{
	(void)arg;
	struct message *m = ctx->message;
	struct stage_decision d;
	stage_decide(&d, STAGE_ACCEPT, 0, NULL, NULL);
	unsigned delay_ms = 0;
	/* The orders are read first: they may delete their own field. */
	char *list[16];
	size_t count = 0;
	for (size_t i = 0; i < m->field_count && count < 16; i++)
		if (!m->fields[i].deleted &&
		    strcasecmp(m->fields[i].name, "X-Test-Hook") == 0)
			list[count++] = xstrdup(m->fields[i].value);
	for (size_t i = 0; i < count; i++) {
		if (d.verdict == STAGE_ACCEPT)
			obey(list[i], m, &d, &delay_ms);
		free(list[i]);
	}
	answer(call, ctx, &d, delay_ms);
}

static void second(struct stage_call *call, const struct stage_context *ctx, void *arg)
{
	(void)arg;
	const char *error;
	message_add_header(ctx->message, "X-Test-Second", "ran", &error);
	stage_answer(call, NULL);
}

/* CONNECT, HELO, AUTH, MAIL, RCPT: the argument's first word decides. */
static void by_argument(struct stage_call *call, const struct stage_context *ctx,
                        void *arg)
{
	(void)arg;
	const char *a = ctx->argument ? ctx->argument : "";
	if (ctx->stage == SMTP_STAGE_CONNECT && strcmp(a, "127.0.0.66") == 0)
		a = "reject";
	struct stage_decision d;
	stage_decide(&d, STAGE_ACCEPT, 0, NULL, NULL);
	if (strncasecmp(a, "reject", 6) == 0)
		stage_decide(&d, STAGE_REJECT, 554, "5.7.1", "Refused by the test hook");
	else if (strncasecmp(a, "defer", 5) == 0)
		stage_decide(&d, STAGE_DEFER, 451, "4.7.1", "Deferred by the test hook");
	answer(call, ctx, &d, strncasecmp(a, "later", 5) == 0 ? 300 : 0);
}

void test_hooks_register(struct stage_hooks *hooks);

void test_hooks_register(struct stage_hooks *hooks)
{
	stage_hooks_add(hooks, SMTP_STAGE_DATA,
	                &(struct stage_hook){"test-orders", orders, NULL});
	stage_hooks_add(hooks, SMTP_STAGE_DATA,
	                &(struct stage_hook){"test-second", second, NULL});
	static const enum smtp_stage stages[] = {SMTP_STAGE_CONNECT, SMTP_STAGE_HELO,
	                                         SMTP_STAGE_AUTH, SMTP_STAGE_MAIL,
	                                         SMTP_STAGE_RCPT};
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		stage_hooks_add(hooks, stages[i],
		                &(struct stage_hook){"test-argument", by_argument, NULL});
}
