/*
 * smtpd.h — the SMTP service (smtp and submission listeners) of a worker:
 * what its sessions share.
 */
#ifndef PETREL_SMTPD_H
#define PETREL_SMTPD_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>

#include "auth/auth_service.h"
#include "lib/config.h"
#include "queue/spool.h"
#include "queue/spool_writer.h"
#include "service/worker.h"

struct session;
struct stage_hooks;

struct smtpd {
	struct worker *worker;
	const struct config *config;
	struct event_base *base;
	SSL_CTX *tls;
	struct spool spool;
	struct spool_writer *writer;
	struct auth_service *auth; /* user database and password checks */
	struct stage_hooks *hooks; /* run at each SMTP stage (smtpd/stage.h) */
	int queue_notify_fd;       /* datagrams to the queue process */
	struct session *sessions;  /* doubly linked */
	unsigned session_count;
};

/* The row of master/services.c for smtp and submission. */
extern const struct service smtpd_service;

#endif
