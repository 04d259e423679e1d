/*
 * worker.h — a worker process: the event loop, the listeners the master
 * bound, each handing its connections to the service of its protocol
 * (service.h), the per-IP connection counts shared with the other
 * workers (ip_count.h), and the stop: SIGTERM drains (stop accepting, let
 * what is in flight finish, SHUTDOWN_GRACE seconds at most), SIGHUP
 * retires (stop accepting, serve connections to their end).
 */
#ifndef PETREL_WORKER_H
#define PETREL_WORKER_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>

#include "lib/config.h"
#include "service/ip_count.h"
#include "service/service.h"

/* One listener of this worker, as services see it. */
struct worker_listener {
	const struct listen_config *config;
	const struct service *service;
	struct worker *worker;
	unsigned connections; /* open on this listener, in this worker */
};

struct worker {
	const struct config *config;
	struct event_base *base;
	SSL_CTX *tls;
	int queue_notify_fd; /* datagrams to the queue process */
	bool stopping;       /* SIGTERM: drain now */
	bool retiring;       /* SIGHUP: replaced after a reload */
};

struct worker_setup {
	const struct config *config;
	SSL_CTX *tls;
	const int *listen_fds; /* one per config->listen[i] */
	/* The service of each listener's protocol (master/services.c). */
	const struct service *const *services;
	int queue_notify_fd;
	struct ip_count_table *ip_counts;
	int ip_region; /* this worker's region of ip_counts, or -1 */
};

/* Serves until stopped; 0, or -1 with *error_r when a service could not
 * start. */
int worker_run(const struct worker_setup *setup, const char **error_r);

/* New connections are refused (the worker stops or retires). */
bool worker_closing(const struct worker *worker);

/* A service's connection opened or closed on listener. A stopping or
 * retiring worker exits when the last one closes. */
void worker_connection_opened(struct worker_listener *listener);
void worker_connection_closed(struct worker_listener *listener);

/* What a protocol answers a connection it turns away, by reason: the
 * worker stops, the listener is full, the client's address is. Each a
 * whole line with its CRLF; prefix_len octets of it (the protocol's
 * code) are left out of the log's reason. */
struct worker_refusals {
	const char *closing, *full, *per_ip;
	size_t prefix_len;
};

/* Whether a connection accepted on listener may become a session: the
 * worker's state and the listener's limits (counting the peer's address
 * across the workers: a true holds a count, released with
 * worker_ip_release). A refused one is logged, told why when it is not
 * implicit TLS, and closed. */
bool worker_admit(struct worker_listener *listener, int fd, const struct sockaddr *peer,
                  const char *protocol, const struct worker_refusals *refusals);

/* Counts a connection from peer on listener against its
 * connections_per_ip, across every worker; false (and *count_r at the
 * limit) when it would exceed it. Each true is paired with a release. */
bool worker_ip_acquire(struct worker_listener *listener, const struct sockaddr *peer,
                       unsigned *count_r);
void worker_ip_release(struct worker_listener *listener, const struct sockaddr *peer);

#endif
