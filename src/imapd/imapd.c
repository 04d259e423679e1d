/*
 * imapd.c — the IMAP service of a worker (service.h): its auth service,
 * the users' stores shared by their sessions, the inotify watches that
 * wake IDLE clients within moments of a delivery, the drain on stop.
 */
#include "imapd/imapd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "imapd/client.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* Threads that fsync APPENDed messages: a few, as the disk is one. */
#define APPEND_SYNC_THREADS 2

/* A watched folder: its new/ and cur/, and the clients idling on it. */
struct imapd_watch {
	char *path;
	int wd_new, wd_cur;
	struct imap_client **clients;
	size_t count, cap;
	struct imapd_watch *next;
};

static int add_inotify(struct imapd *server, const char *path, const char *sub)
{
	struct buf dir = BUF_INIT;
	buf_appendf(&dir, "%s/%s", path, sub);
	int wd = inotify_add_watch(server->inotify_fd, dir.data,
	                           IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
	                               IN_ONLYDIR);
	if (wd < 0)
		log_msg(L_WARN, "event=inotify-failed dir=%s error=%s", LOG_Q(dir.data),
		        LOG_Q(strerror(errno)));
	buf_free(&dir);
	return wd;
}

void imapd_watch_add(struct imapd *server, struct imap_client *client, const char *path)
{
	if (server->inotify_fd < 0)
		return;
	struct imapd_watch *w = server->watches;
	while (w && strcmp(w->path, path) != 0)
		w = w->next;
	if (w == NULL) {
		w = xcalloc(1, sizeof(*w));
		w->path = xstrdup(path);
		w->wd_new = add_inotify(server, path, "new");
		w->wd_cur = add_inotify(server, path, "cur");
		w->next = server->watches;
		server->watches = w;
	}
	for (size_t i = 0; i < w->count; i++)
		if (w->clients[i] == client)
			return;
	xgrow((void **)&w->clients, &w->cap, w->count + 1, sizeof(*w->clients));
	w->clients[w->count++] = client;
}

static void free_watch(struct imapd *server, struct imapd_watch *w)
{
	if (w->wd_new >= 0)
		inotify_rm_watch(server->inotify_fd, w->wd_new);
	if (w->wd_cur >= 0)
		inotify_rm_watch(server->inotify_fd, w->wd_cur);
	free(w->clients);
	free(w->path);
	free(w);
}

void imapd_watch_remove(struct imapd *server, struct imap_client *client)
{
	for (struct imapd_watch **p = &server->watches; *p;) {
		struct imapd_watch *w = *p;
		for (size_t i = 0; i < w->count; i++)
			if (w->clients[i] == client) {
				w->clients[i] = w->clients[--w->count];
				break;
			}
		if (w->count == 0) {
			*p = w->next;
			free_watch(server, w);
		} else {
			p = &w->next;
		}
	}
}

/* Changes in watched directories: their clients look (once per batch of
 * events, however many files changed). */
static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct imapd *server = arg;
	char events[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int woken[64];
	size_t woken_count = 0;
	bool overflow = false;
	ssize_t n;
	while ((n = read(fd, events, sizeof(events))) > 0) {
		for (char *p = events; p < events + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			if (e->mask & IN_Q_OVERFLOW)
				overflow = true;
			bool seen = false;
			for (size_t i = 0; i < woken_count; i++)
				seen |= woken[i] == e->wd;
			if (!seen && woken_count < 64)
				woken[woken_count++] = e->wd;
			else if (!seen)
				overflow = true;
			p += sizeof(*e) + e->len;
		}
	}
	for (struct imapd_watch *w = server->watches, *next; w; w = next) {
		next = w->next;
		bool hit = overflow;
		for (size_t i = 0; i < woken_count && !hit; i++)
			hit = woken[i] == w->wd_new || woken[i] == w->wd_cur;
		if (!hit)
			continue;
		/* A client may leave the watch while being told: copy first. */
		size_t count = w->count;
		struct imap_client **clients = xcalloc(count + 1, sizeof(*clients));
		memcpy(clients, w->clients, count * sizeof(*clients));
		/* One rescan of the folder for all of them: the first client's
		 * sync updates the index, the others read it. */
		for (size_t i = 0; i < count; i++)
			imap_client_changed(clients[i], i == 0);
		free(clients);
	}
}

static void *imapd_start(struct worker *worker, const char **error_r)
{
	(void)error_r;
	struct imapd *server = xcalloc(1, sizeof(*server));
	server->worker = worker;
	server->config = worker->config;
	server->base = worker->base;
	server->tls = worker->tls;
	server->auth = auth_service_create(server->base, server->config);
	server->pool = workpool_create(server->base, APPEND_SYNC_THREADS);
	server->stores = mail_store_cache_new(
	    server->config->home, server->config->hostname, MAIL_STORE_LINGER_SECONDS);
	server->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (server->inotify_fd < 0) {
		log_msg(L_WARN, "event=inotify-failed error=%s (IDLE polls instead)",
		        LOG_Q(strerror(errno)));
	} else {
		server->inotify_event =
		    event_new(server->base, server->inotify_fd, EV_READ | EV_PERSIST,
		              on_inotify, server);
		event_add(server->inotify_event, NULL);
	}
	return server;
}

static void imapd_accept(void *state, struct worker_listener *listener, int fd,
                         const struct sockaddr *peer, socklen_t peer_len)
{
	imap_client_start(state, listener, fd, peer, peer_len);
}

static void imapd_drain(void *state, bool now)
{
	struct imapd *server = state;
	if (!now)
		return;
	for (struct imap_client *c = server->clients, *next; c; c = next) {
		next = c->next;
		imap_client_shutdown(c);
	}
}

static void imapd_stop(void *state)
{
	struct imapd *server = state;
	while (server->clients)
		imap_client_destroy(server->clients, "shutdown");
	workpool_destroy(&server->pool); /* the detached APPENDs are dropped */
	while (server->watches) {
		struct imapd_watch *w = server->watches;
		server->watches = w->next;
		free_watch(server, w);
	}
	if (server->inotify_event)
		event_free(server->inotify_event);
	if (server->inotify_fd >= 0)
		close(server->inotify_fd);
	auth_service_destroy(&server->auth);
	mail_store_cache_free(&server->stores);
	free(server);
}

static void imapd_tick(void *state)
{
	mail_store_cache_expire(((struct imapd *)state)->stores);
}

const struct service imapd_service = {
    .name = "imap",
    .start = imapd_start,
    .accept = imapd_accept,
    .drain = imapd_drain,
    .stop = imapd_stop,
    .tick = imapd_tick,
};
