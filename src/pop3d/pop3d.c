/*
 * pop3d.c — the POP3 service of a worker (service.h): its auth service
 * and the users' stores, shared by its sessions; the drain on stop.
 */
#include "pop3d/pop3d.h"

#include <stdlib.h>

#include "lib/xalloc.h"
#include "pop3d/session.h"

static void *pop3d_start(struct worker *worker, const char **error_r)
{
	(void)error_r;
	struct pop3d *server = xcalloc(1, sizeof(*server));
	server->worker = worker;
	server->config = worker->config;
	server->base = worker->base;
	server->tls = worker->tls;
	server->auth = auth_service_create(server->base, server->config);
	server->stores = mail_store_cache_new(
	    server->config->home, server->config->hostname, MAIL_STORE_LINGER_SECONDS);
	return server;
}

static void pop3d_accept(void *state, struct worker_listener *listener, int fd,
                         const struct sockaddr *peer, socklen_t peer_len)
{
	pop3_session_start(state, listener, fd, peer, peer_len);
}

static void pop3d_drain(void *state, bool now)
{
	struct pop3d *server = state;
	if (!now)
		return;
	for (struct pop3_session *s = server->sessions, *next; s; s = next) {
		next = s->next;
		pop3_session_shutdown(s);
	}
}

static void pop3d_stop(void *state)
{
	struct pop3d *server = state;
	while (server->sessions)
		pop3_session_destroy(server->sessions, "shutdown");
	auth_service_destroy(&server->auth);
	mail_store_cache_free(&server->stores);
	free(server);
}

static void pop3d_tick(void *state)
{
	mail_store_cache_expire(((struct pop3d *)state)->stores);
}

const struct service pop3d_service = {
    .name = "pop3",
    .start = pop3d_start,
    .accept = pop3d_accept,
    .drain = pop3d_drain,
    .stop = pop3d_stop,
    .tick = pop3d_tick,
};
