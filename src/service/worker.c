/*
 * worker.c — a worker process's loop, listeners and stop (see worker.h).
 */
#include "service/worker.h"

#include <errno.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/xalloc.h"

/* How long a stop waits for what is in flight before cutting it. */
#define SHUTDOWN_GRACE_SECONDS 20

/* One service running in this worker, and its state. */
struct running_service {
	const struct service *service;
	void *state;
};

struct worker_private {
	struct worker public; /* first: services see this part */
	struct ip_count_table *ip_counts;
	int ip_region;
	struct worker_listener *listeners;
	struct evconnlistener **accepting;
	size_t listener_count;
	struct running_service *services; /* each service once */
	size_t service_count;
	unsigned connections; /* over every listener */
	struct event *drain_timer;
	struct event *tick_timer; /* the services' housekeeping */
};

static struct worker_private *private_of(struct worker *w)
{
	return (struct worker_private *)w;
}

static void *state_of(struct worker_private *w, const struct service *service)
{
	for (size_t i = 0; i < w->service_count; i++)
		if (w->services[i].service == service)
			return w->services[i].state;
	return NULL;
}

static void on_accept(struct evconnlistener *accepting, evutil_socket_t fd,
                      struct sockaddr *addr, int len, void *arg)
{
	(void)accepting;
	struct worker_listener *l = arg;
	struct worker_private *w = private_of(l->worker);
	l->service->accept(state_of(w, l->service), l, fd, addr, (socklen_t)len);
}

static void on_accept_error(struct evconnlistener *accepting, void *arg)
{
	(void)accepting;
	(void)arg;
	/* EMFILE and friends: log and keep going; libevent retries. */
	log_msg(L_WARN, "event=accept-error error=%s", LOG_Q(strerror(errno)));
}

bool worker_closing(const struct worker *w)
{
	return w->stopping || w->retiring;
}

static void maybe_done(struct worker_private *w)
{
	if (worker_closing(&w->public) && w->connections == 0)
		event_base_loopbreak(w->public.base);
}

void worker_connection_opened(struct worker_listener *l)
{
	l->connections++;
	private_of(l->worker)->connections++;
}

void worker_connection_closed(struct worker_listener *l)
{
	struct worker_private *w = private_of(l->worker);
	l->connections--;
	w->connections--;
	maybe_done(w);
}

bool worker_ip_acquire(struct worker_listener *l, const struct sockaddr *peer,
                       unsigned *count_r)
{
	struct worker_private *w = private_of(l->worker);
	struct ip_key key;
	if (peer->sa_family == AF_UNIX) { /* local programs: no address to count */
		*count_r = 0;
		return true;
	}
	ip_key_make(&key, peer, l->config->address);
	return ip_count_acquire(w->ip_counts, w->ip_region, &key,
	                        l->config->limits.connections_per_ip, count_r);
}

bool worker_admit(struct worker_listener *l, int fd, const struct sockaddr *peer,
                  const char *protocol, const struct worker_refusals *refusals)
{
	const struct listen_config *listener = l->config;
	const char *refusal = NULL;
	unsigned from_ip;
	if (worker_closing(l->worker))
		refusal = refusals->closing;
	else if (l->connections >= listener->limits.connections)
		refusal = refusals->full;
	else if (!worker_ip_acquire(l, peer, &from_ip))
		refusal = refusals->per_ip;
	if (refusal == NULL)
		return true;
	char ip[INET6_ADDRSTRLEN], reason[80];
	sockaddr_ip(peer, ip, sizeof(ip));
	snprintf(reason, sizeof(reason), "%.*s",
	         (int)strcspn(refusal + refusals->prefix_len, "\r\n"),
	         refusal + refusals->prefix_len);
	EVENT(L_WARN, &event_connection_refused, EV_TEXT("client", ip),
	      EV_WORD("listener", listener->address), EV_WORD("protocol", protocol),
	      EV_TEXT("reason", reason));
	if (listener->tls != TLS_IMPLICIT) {
		ssize_t ignored =
		    send(fd, refusal, strlen(refusal), MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)ignored;
	}
	close(fd);
	return false;
}

void worker_ip_release(struct worker_listener *l, const struct sockaddr *peer)
{
	struct worker_private *w = private_of(l->worker);
	struct ip_key key;
	if (peer->sa_family == AF_UNIX)
		return;
	ip_key_make(&key, peer, l->config->address);
	ip_count_release(w->ip_counts, w->ip_region, &key);
}

static void close_listeners(struct worker_private *w)
{
	for (size_t i = 0; i < w->listener_count; i++)
		if (w->accepting[i]) {
			evconnlistener_free(w->accepting[i]);
			w->accepting[i] = NULL;
		}
}

static void drain_all(struct worker_private *w, bool now)
{
	for (size_t i = 0; i < w->service_count; i++)
		w->services[i].service->drain(w->services[i].state, now);
	maybe_done(w);
}

static void shutdown_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct worker_private *w = arg;
	log_msg(L_WARN, "event=shutdown-deadline connections=%u", w->connections);
	event_base_loopbreak(w->public.base);
}

/* Connections between two commands go at once; the others when they
 * reach that point (polled, so that no service needs a hook in every
 * state). */
static void drain_poll(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain_all(arg, true);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct worker_private *w = arg;
	for (size_t i = 0; i < w->service_count; i++)
		if (w->services[i].service->tick)
			w->services[i].service->tick(w->services[i].state);
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct worker_private *w = arg;
	if (w->public.stopping)
		return;
	log_msg(L_INFO, "event=shutdown signal=%d connections=%u", (int)sig,
	        w->connections);
	w->public.stopping = true;
	close_listeners(w);
	struct timeval deadline = {SHUTDOWN_GRACE_SECONDS, 0};
	event_base_once(w->public.base, -1, EV_TIMEOUT, shutdown_deadline, w, &deadline);
	struct timeval poll = {0, 100000};
	w->drain_timer = event_new(w->public.base, -1, EV_PERSIST, drain_poll, w);
	event_add(w->drain_timer, &poll);
	drain_all(w, true);
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct worker_private *w = arg;
	if (worker_closing(&w->public))
		return;
	log_msg(L_INFO, "event=retiring connections=%u", w->connections);
	w->public.retiring = true;
	close_listeners(w);
	drain_all(w, false);
}

/* Starts each service of the listeners once. */
static int start_services(struct worker_private *w, const struct worker_setup *setup,
                          const char **error_r)
{
	w->services = xcalloc(setup->config->listen_count + 1, sizeof(*w->services));
	for (size_t i = 0; i < setup->config->listen_count; i++) {
		const struct service *service = setup->services[i];
		bool running = false;
		for (size_t j = 0; j < w->service_count; j++)
			running |= w->services[j].service == service;
		if (running)
			continue;
		void *state = service->start(&w->public, error_r);
		if (state == NULL)
			return -1;
		w->services[w->service_count++] =
		    (struct running_service){service, state};
	}
	return 0;
}

static void free_worker(struct worker_private *w)
{
	for (size_t i = w->service_count; i-- > 0;)
		w->services[i].service->stop(w->services[i].state);
	close_listeners(w);
	if (w->drain_timer)
		event_free(w->drain_timer);
	if (w->tick_timer)
		event_free(w->tick_timer);
	free(w->services);
	free(w->listeners);
	free(w->accepting);
}

int worker_run(const struct worker_setup *setup, const char **error_r)
{
	struct worker_private w = {
	    .public = {.config = setup->config,
	               .tls = setup->tls,
	               .queue_notify_fd = setup->queue_notify_fd},
	    .ip_counts = setup->ip_counts,
	    .ip_region = setup->ip_region,
	};
	evthread_use_pthreads();
	w.public.base = event_base_new();
	if (w.public.base == NULL) {
		*error_r = "event_base_new failed";
		return -1;
	}
	const struct config *config = setup->config;
	w.listeners = xcalloc(config->listen_count + 1, sizeof(*w.listeners));
	w.accepting = xcalloc(config->listen_count + 1, sizeof(*w.accepting));
	int r = start_services(&w, setup, error_r);
	for (size_t i = 0; r == 0 && i < config->listen_count; i++) {
		w.listeners[i] = (struct worker_listener){
		    .config = &config->listen[i],
		    .service = setup->services[i],
		    .worker = &w.public,
		};
		w.accepting[i] =
		    evconnlistener_new(w.public.base, on_accept, &w.listeners[i],
		                       LEV_OPT_CLOSE_ON_FREE, -1, setup->listen_fds[i]);
		evconnlistener_set_error_cb(w.accepting[i], on_accept_error);
		w.listener_count = i + 1;
	}
	struct event *signals[] = {
	    evsignal_new(w.public.base, SIGTERM, on_sigterm, &w),
	    evsignal_new(w.public.base, SIGINT, on_sigterm, &w),
	    evsignal_new(w.public.base, SIGHUP, on_sighup, &w),
	};
	for (size_t i = 0; i < 3; i++)
		event_add(signals[i], NULL);
	signal(SIGPIPE, SIG_IGN);
	w.tick_timer = event_new(w.public.base, -1, EV_PERSIST, on_tick, &w);
	event_add(w.tick_timer, &(struct timeval){.tv_sec = WORKER_TICK_SECONDS});

	if (r == 0)
		event_base_dispatch(w.public.base);

	free_worker(&w);
	for (size_t i = 0; i < 3; i++)
		event_free(signals[i]);
	event_base_free(w.public.base);
	return r;
}
