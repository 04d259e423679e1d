/*
 * smtpd.h — the SMTP server of one worker process: listeners, sessions,
 * connection limits, and the hand-off of finished messages to the spool.
 */
#ifndef PETREL_SMTPD_H
#define PETREL_SMTPD_H

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <stdbool.h>

#include "auth/auth_service.h"
#include "lib/config.h"
#include "message/queue_id.h"
#include "queue/spool.h"
#include "queue/spool_writer.h"

struct session;
struct stage_hooks;
struct ip_count;

struct smtpd {
	const struct config *config;
	struct event_base *base;
	SSL_CTX *tls;
	struct spool spool;
	struct spool_writer *writer;
	struct auth_service *auth; /* user database and password checks */
	struct stage_hooks *hooks; /* run at each SMTP stage (smtpd/stage.h) */
	int queue_notify_fd;       /* datagrams to the queue process */
	struct evconnlistener **listeners;
	const struct listen_config **listener_configs;
	size_t listener_count;
	struct session *sessions; /* doubly linked */
	unsigned session_count;
	struct ip_count **ip_table; /* per-IP connection counts */
	size_t ip_table_size;
	bool shutting_down; /* SIGTERM: close idle sessions now */
	bool retiring; /* SIGHUP: replaced after a reload; serve sessions to their end */
	struct event *shutdown_timer;
};

/*
 * Runs a worker: serves the already-bound listener sockets until SIGTERM,
 * then drains sessions and returns. fds[i] belongs to config->listen[i].
 */
int smtpd_run(const struct config *config, SSL_CTX *tls, const int *listen_fds,
              int queue_notify_fd, const char **error_r);

/* A session has ended: a stopping or retiring worker may exit now. */
void smtpd_session_ended(struct smtpd *server);

/* Per-IP accounting, used by sessions when they start and end. */
unsigned smtpd_ip_acquire(struct smtpd *server, const struct sockaddr *addr);
void smtpd_ip_release(struct smtpd *server, const struct sockaddr *addr);

#endif
