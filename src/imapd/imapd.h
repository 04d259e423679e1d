/*
 * imapd.h — the IMAP service (imap listeners) of a worker: what its
 * clients share — the auth service, the users' open stores (one per user
 * per process, however many sessions that user has), and the inotify
 * watches that wake IDLE clients.
 */
#ifndef PETREL_IMAPD_H
#define PETREL_IMAPD_H

#include <event2/event.h>
#include <openssl/ssl.h>

#include "auth/auth_service.h"
#include "lib/config.h"
#include "lib/workpool.h"
#include "mailbox/store.h"
#include "mailbox/store_cache.h"
#include "service/worker.h"

struct imap_client;
struct imapd_watch;

struct imapd {
	struct worker *worker;
	const struct config *config;
	struct event_base *base;
	SSL_CTX *tls;
	struct auth_service *auth;
	struct imap_client *clients; /* doubly linked */
	unsigned client_count;
	struct mail_store_cache *stores; /* the users' open stores */
	struct event *linger_timer;      /* closes the ones left unused */
	int inotify_fd;
	struct event *inotify_event;
	struct imapd_watch *watches;
	struct workpool *pool; /* APPEND's fsyncs, off the loop */
};

extern const struct service imapd_service;

/* Wakes client when the folder at path changes (new mail, flags changed
 * by others): imap_client_changed() is called. */
void imapd_watch_add(struct imapd *server, struct imap_client *client, const char *path);
void imapd_watch_remove(struct imapd *server, struct imap_client *client);

#endif
