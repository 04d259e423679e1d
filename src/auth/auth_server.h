/*
 * auth_server.h — the auth process: the only petrel process that opens
 * the user database and sees password hashes, SCRAM keys and the secrets
 * of SASL exchanges (as Dovecot's auth service and OpenSMTPD's parent
 * are). Workers and the queue ask it over a local socket, one typed,
 * length-checked request at a time per connection (auth_proto.h); its
 * threads run the lookups and password checks, each with its own
 * database connection.
 *
 * Started as root, it keeps root, and the database is root's (0700): the
 * unprivileged workers, which face the network, cannot open it.
 */
#ifndef PETREL_AUTH_SERVER_H
#define PETREL_AUTH_SERVER_H

#include "lib/config.h"

/* Serves until SIGTERM; 0, or -1 with *error_r when it cannot listen. */
int auth_server_run(const struct config *config, const char **error_r);

#endif
