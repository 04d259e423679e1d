/*
 * auth_client.h — asking the auth process (auth_server.h), from a thread:
 * each thread keeps one connection to its socket and blocks on it, as it
 * blocked on the database before: the queue asks from its delivery
 * threads, the CLI from its one. Code on an event loop asks through
 * auth_service.h instead, without blocking.
 *
 * Lookups return 1, 0, or -1 with *error_r (the auth process or its
 * database could not answer: the caller defers).
 */
#ifndef PETREL_AUTH_CLIENT_H
#define PETREL_AUTH_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/auth_proto.h"
#include "auth/sasl.h"
#include "lib/config.h"

struct auth_client;

/* The socket the auth process listens on: home/run/auth.sock. */
void auth_socket_path(const struct config *config, struct buf *out);

/* This thread's client (connected at its first call). */
struct auth_client *auth_client_for_thread(const struct config *config);

/* 1 address is in a local domain, and *user_r (malloc'd, NULL for no
 * one) gets its mail, with *quota_r its quota (0: none); 0 the domain is
 * not ours; -1 no answer. */
int auth_client_local_rcpt(struct auth_client *client, const char *address, char **user_r,
                           uint64_t *quota_r, const char **error_r);
/* One SASL exchange, held by the auth process; the client side keeps
 * what the last step said. */
struct auth_exchange {
	uint64_t id;
	bool begun;
	unsigned mechanism;
	char client_ip[64];
	struct client_cert cert;
	char login[AUTH_NAME_SIZE];
	char identity[AUTH_NAME_SIZE];
	char reason[192];
	bool rehashed, cached;
	uint64_t quota; /* after success: the user's storage quota (0: none) */
};

struct auth_exchange *auth_exchange_new(unsigned mechanism, const char *client_ip,
                                        const struct client_cert *cert);
void auth_exchange_free(struct auth_exchange **exchange);

/* A step, for a client on an event loop (auth_service.h): the request,
 * and what its answer (NULL when none came, error saying why) means. The
 * challenge to send, when SASL_CHALLENGE, goes into challenge. */
void auth_exchange_request(const struct auth_exchange *exchange, const char *response,
                           size_t len, struct auth_request *request);
enum sasl_result auth_exchange_answer(struct auth_exchange *exchange,
                                      const struct auth_response *response,
                                      const char *error, struct buf *challenge);

#endif
