/*
 * sasl.h — the server side of SASL mechanisms (RFC 4422), shared by
 * SMTP, IMAP and POP3: PLAIN (RFC 4616), LOGIN, SCRAM-SHA-256 (RFC
 * 5802/7677), EXTERNAL (a verified TLS client certificate), OAUTHBEARER
 * (RFC 7628), XOAUTH2 and CRAM-MD5 (RFC 2195).
 *
 * The protocol layer decodes each client response (base64) and sends it
 * to the auth process, which calls sasl_server_step() on one of its
 * threads, since a step may read the user database or hash a password;
 * the protocol layer encodes the challenge the step produced. A mechanism never says why
 * it failed to the client: every failure looks the same (no enumeration), and the reason
 * goes to the log. Unknown users cost the same time as known ones.
 */
#ifndef PETREL_SASL_SERVER_H
#define PETREL_SASL_SERVER_H

#include <stdbool.h>

#include "auth/password.h"
#include "auth/userdb.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/client_cert.h"

enum sasl_result {
	SASL_CHALLENGE, /* send the challenge, read another response */
	SASL_SUCCESS,
	SASL_FAILURE,  /* wrong credentials, malformed, not allowed */
	SASL_TEMPFAIL, /* the database did not answer, or a lockout */
};

struct sasl_server;

/* Which mechanisms this connection may offer: the configured ones, minus
 * EXTERNAL without a verified certificate and the token mechanisms
 * without auth.oauth. */
unsigned sasl_mechanisms_available(const struct config *config,
                                   const struct client_cert *cert);

/* hostname goes into CRAM-MD5 challenges; cert may be NULL; client_ip
 * keys the lockout check. */
struct sasl_server *sasl_server_new(const struct config *config, unsigned mechanism,
                                    const char *hostname, const char *client_ip,
                                    const struct client_cert *cert);
void sasl_server_free(struct sasl_server **server);

/* One step. response is NULL when the client gave no initial response,
 * else the decoded octets (possibly none). On SASL_CHALLENGE, challenge
 * holds the octets to send. Runs on a thread (db may be NULL if the
 * database is unreachable). */
enum sasl_result sasl_server_step(struct sasl_server *server, struct userdb *db,
                                  const char *response, size_t len,
                                  struct buf *challenge);

unsigned sasl_server_mechanism(const struct sasl_server *server);
/* The login name the client gave (for failure counting), or "". */
const char *sasl_server_login(const struct sasl_server *server);
/* After SASL_SUCCESS: the authorization identity (a user's address). */
const char *sasl_server_identity(const struct sasl_server *server);
/* Why the last step failed, for the log only. */
const char *sasl_server_reason(const struct sasl_server *server);
/* The stored hash was upgraded during this login. */
bool sasl_server_rehashed(const struct sasl_server *server);
/* The answer came from the credential cache (auth/credential_cache.h). */
bool sasl_server_cached(const struct sasl_server *server);

#endif
