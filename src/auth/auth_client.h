/*
 * auth_client.h — asking the auth process (auth_server.h), from a thread:
 * each thread keeps one connection to its socket and blocks on it, as it
 * blocked on the database before. Workers ask from their auth service's
 * threads (auth_service.h), the queue from its delivery threads.
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

int auth_client_domain_is_local(struct auth_client *client, const char *domain,
                                const char **error_r);
/* *user_r (malloc'd) gets the mail of address. */
int auth_client_mailbox_owner(struct auth_client *client, const char *address,
                              char **user_r, const char **error_r);
int auth_client_expand(struct auth_client *client, const char *address,
                       struct userdb_expansion *out, const char **error_r);
int auth_client_may_send_as(struct auth_client *client, const char *user,
                            const char *sender, const char **error_r);

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
};

struct auth_exchange *auth_exchange_new(unsigned mechanism, const char *client_ip,
                                        const struct client_cert *cert);
void auth_exchange_free(struct auth_exchange **exchange);

/* One step: response NULL for no (initial) response. The challenge to
 * send, when SASL_CHALLENGE, goes into challenge. */
enum sasl_result auth_client_sasl_step(struct auth_client *client,
                                       struct auth_exchange *exchange,
                                       const char *response, size_t len,
                                       struct buf *challenge);
/* The client went away mid-exchange: the auth process forgets it. */
void auth_client_sasl_end(struct auth_client *client, struct auth_exchange *exchange);

#endif
