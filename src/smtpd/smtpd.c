/*
 * smtpd.c — the SMTP service of a worker (service.h): its spool writer,
 * auth service and stage hooks, shared by its sessions; the connection
 * limits checked before a session starts; the drain on stop.
 */
#include "smtpd/smtpd.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "smtpd/session.h"
#include "smtpd/stage.h"

#ifdef PETREL_TEST_HOOKS
void test_hooks_register(struct stage_hooks *hooks); /* smtpd/test_hooks.c */
#endif

#define SPOOL_THREADS 16

static void *smtpd_start(struct worker *worker, const char **error_r)
{
	struct smtpd *server = xcalloc(1, sizeof(*server));
	server->worker = worker;
	server->config = worker->config;
	server->base = worker->base;
	server->tls = worker->tls;
	server->queue_notify_fd = worker->queue_notify_fd;
	if (spool_open(&server->spool, server->config->home, error_r) < 0) {
		free(server);
		return NULL;
	}
	server->writer = spool_writer_create(server->base, &server->spool, SPOOL_THREADS);
	server->auth = auth_service_create(server->base, server->config);
	server->hooks = stage_hooks_new();
#ifdef PETREL_TEST_HOOKS
	test_hooks_register(server->hooks);
#endif
	return server;
}

static void smtpd_accept(void *state, struct worker_listener *listener, int fd,
                         const struct sockaddr *peer, socklen_t peer_len)
{
	session_start(state, listener, fd, peer, (int)peer_len);
}

static void smtpd_drain(void *state, bool now)
{
	struct smtpd *server = state;
	if (!now)
		return; /* retiring: sessions run to their end */
	for (struct session *s = server->sessions, *next; s; s = next) {
		next = s->next;
		session_shutdown(s);
	}
}

static void smtpd_stop(void *state)
{
	struct smtpd *server = state;
	while (server->sessions)
		session_destroy(server->sessions, "shutdown");
	auth_service_destroy(&server->auth);
	stage_hooks_free(&server->hooks);
	spool_writer_destroy(&server->writer);
	spool_close(&server->spool);
	free(server);
}

const struct service smtpd_service = {
    .name = "smtp",
    .start = smtpd_start,
    .accept = smtpd_accept,
    .drain = smtpd_drain,
    .stop = smtpd_stop,
};
