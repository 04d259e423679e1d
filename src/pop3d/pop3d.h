/*
 * pop3d.h — the POP3 service (pop3 listeners) of a worker: what its
 * sessions share — the auth service and the users' open stores.
 */
#ifndef PETREL_POP3D_H
#define PETREL_POP3D_H

#include <event2/event.h>
#include <openssl/ssl.h>

#include "auth/auth_service.h"
#include "lib/config.h"
#include "mailbox/store_cache.h"
#include "service/worker.h"

struct pop3_session;

struct pop3d {
	struct worker *worker;
	const struct config *config;
	struct event_base *base;
	SSL_CTX *tls;
	struct auth_service *auth;
	struct mail_store_cache *stores;
	struct pop3_session *sessions; /* doubly linked */
};

extern const struct service pop3d_service;

#endif
