/*
 * smtpd.c — one worker's SMTP server: accepts connections on the
 * listeners the master bound, enforces the connection limits, and stops
 * gracefully on SIGTERM (stop accepting, let messages in flight finish,
 * then close what is left with 421).
 */
#include "smtpd/smtpd.h"

#include <errno.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "smtpd/session.h"
#include "smtpd/stage.h"

#ifdef PETREL_TEST_HOOKS
void test_hooks_register(struct stage_hooks *hooks); /* smtpd/test_hooks.c */
#endif

/* How long a shutdown waits for messages in flight before cutting them. */
#define SHUTDOWN_GRACE_SECONDS 20
#define SPOOL_THREADS          16

struct ip_count {
	unsigned char addr[16];
	unsigned count;
	struct ip_count *next;
};

static void ip_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET)
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
}

static struct ip_count **ip_slot(struct smtpd *server, const unsigned char key[16])
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 1099511628211ull;
	struct ip_count **slot = &server->ip_table[h % server->ip_table_size];
	while (*slot && memcmp((*slot)->addr, key, 16) != 0)
		slot = &(*slot)->next;
	return slot;
}

unsigned smtpd_ip_acquire(struct smtpd *server, const struct sockaddr *addr)
{
	unsigned char key[16];
	ip_key(addr, key);
	struct ip_count **slot = ip_slot(server, key);
	if (*slot == NULL) {
		*slot = xcalloc(1, sizeof(**slot));
		memcpy((*slot)->addr, key, 16);
	}
	return ++(*slot)->count;
}

void smtpd_ip_release(struct smtpd *server, const struct sockaddr *addr)
{
	unsigned char key[16];
	ip_key(addr, key);
	struct ip_count **slot = ip_slot(server, key);
	if (*slot && --(*slot)->count == 0) {
		struct ip_count *gone = *slot;
		*slot = gone->next;
		free(gone);
	}
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd,
                      struct sockaddr *addr, int len, void *arg)
{
	struct smtpd *server = arg;
	for (size_t i = 0; i < server->listener_count; i++) {
		if (server->listeners[i] == listener) {
			session_start(server, server->listener_configs[i], fd, addr, len);
			return;
		}
	}
	close(fd);
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
	(void)listener;
	(void)arg;
	/* EMFILE and friends: log and keep going; libevent retries. */
	log_msg(L_WARN, "event=accept-error error=%s", LOG_Q(strerror(errno)));
}

void smtpd_session_ended(struct smtpd *server)
{
	if ((server->shutting_down || server->retiring) && server->session_count == 0)
		event_base_loopbreak(server->base);
}

static void close_listeners(struct smtpd *server)
{
	for (size_t i = 0; i < server->listener_count; i++) {
		evconnlistener_free(server->listeners[i]);
		server->listeners[i] = NULL;
	}
	server->listener_count = 0;
}

static void shutdown_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtpd *server = arg;
	log_msg(L_WARN, "event=shutdown-deadline sessions=%u", server->session_count);
	event_base_loopbreak(server->base);
}

static void shutdown_poll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtpd *server = arg;
	for (struct session *s = server->sessions, *next; s; s = next) {
		next = s->next;
		session_shutdown(s);
	}
	smtpd_session_ended(server);
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct smtpd *server = arg;
	if (server->shutting_down)
		return;
	log_msg(L_INFO, "event=shutdown signal=%d sessions=%u", (int)sig,
	        server->session_count);
	server->shutting_down = true;
	close_listeners(server);
	struct timeval deadline = {SHUTDOWN_GRACE_SECONDS, 0};
	event_base_once(server->base, -1, EV_TIMEOUT, shutdown_deadline, server,
	                &deadline);
	/* Sessions between commands go at once; the others when they finish
	 * their message (polled, so no hook is needed in every state). */
	struct timeval poll = {0, 100000};
	server->shutdown_timer =
	    event_new(server->base, -1, EV_PERSIST, shutdown_poll, server);
	event_add(server->shutdown_timer, &poll);
	shutdown_poll(-1, 0, server);
}

/* SIGHUP: a reload has started new workers. Stop accepting, serve the
 * sessions we have until their clients leave (or time out), then exit. */
static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct smtpd *server = arg;
	if (server->retiring || server->shutting_down)
		return;
	log_msg(L_INFO, "event=retiring sessions=%u", server->session_count);
	server->retiring = true;
	close_listeners(server);
	smtpd_session_ended(server);
}

int smtpd_run(const struct config *config, SSL_CTX *tls, const int *listen_fds,
              int queue_notify_fd, const char **error_r)
{
	struct smtpd server = {
	    .config = config, .tls = tls, .queue_notify_fd = queue_notify_fd};
	evthread_use_pthreads();
	server.base = event_base_new();
	if (server.base == NULL) {
		*error_r = "event_base_new failed";
		return -1;
	}
	if (spool_open(&server.spool, config->home, error_r) < 0) {
		event_base_free(server.base);
		return -1;
	}
	server.writer = spool_writer_create(server.base, &server.spool, SPOOL_THREADS);
	server.auth = auth_service_create(server.base, config);
	server.hooks = stage_hooks_new();
#ifdef PETREL_TEST_HOOKS
	test_hooks_register(server.hooks);
#endif
	server.ip_table_size = 4099;
	server.ip_table = xcalloc(server.ip_table_size, sizeof(*server.ip_table));
	server.listeners = xcalloc(config->listen_count, sizeof(*server.listeners));
	server.listener_configs =
	    xcalloc(config->listen_count, sizeof(*server.listener_configs));
	for (size_t i = 0; i < config->listen_count; i++) {
		server.listener_configs[i] = &config->listen[i];
		server.listeners[i] =
		    evconnlistener_new(server.base, on_accept, &server,
		                       LEV_OPT_CLOSE_ON_FREE, -1, listen_fds[i]);
		evconnlistener_set_error_cb(server.listeners[i], on_accept_error);
	}
	server.listener_count = config->listen_count;

	struct event *term = evsignal_new(server.base, SIGTERM, on_sigterm, &server);
	struct event *intr = evsignal_new(server.base, SIGINT, on_sigterm, &server);
	struct event *hup = evsignal_new(server.base, SIGHUP, on_sighup, &server);
	event_add(term, NULL);
	event_add(intr, NULL);
	event_add(hup, NULL);
	signal(SIGPIPE, SIG_IGN);

	event_base_dispatch(server.base);

	while (server.sessions)
		session_destroy(server.sessions, "shutdown");
	for (size_t i = 0; i < server.listener_count; i++)
		evconnlistener_free(server.listeners[i]);
	auth_service_destroy(&server.auth);
	stage_hooks_free(&server.hooks);
	spool_writer_destroy(&server.writer);
	if (server.shutdown_timer)
		event_free(server.shutdown_timer);
	event_free(term);
	event_free(intr);
	event_free(hup);
	for (size_t i = 0; i < server.ip_table_size; i++) {
		for (struct ip_count *c = server.ip_table[i], *next; c; c = next) {
			next = c->next;
			free(c);
		}
	}
	free(server.ip_table);
	free(server.listeners);
	free(server.listener_configs);
	spool_close(&server.spool);
	event_base_free(server.base);
	return 0;
}
