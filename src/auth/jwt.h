/*
 * jwt.h — JSON Web Tokens (RFC 7519) as OAuth bearer tokens for
 * OAUTHBEARER and XOAUTH2 (RFC 7628).
 *
 * A token is accepted only when its JWS signature (RFC 7515) verifies
 * with the configured public key — RS256, PS256, ES256 or EdDSA, as the
 * key's type dictates; "none" and HMAC algorithms never — and its
 * issuer, audience, expiry (and not-before) hold. The user is the
 * configured claim ("email" by default).
 */
#ifndef PETREL_JWT_H
#define PETREL_JWT_H

#include <stddef.h>
#include <time.h>

#include "lib/config.h"

/* Clock skew tolerated on exp and nbf. */
#define JWT_LEEWAY_SECONDS 30

/* Checks token against auth.oauth; on success writes the user claim to
 * user (NUL-terminated) and returns 0; else -1 with *error_r. */
int jwt_verify(const struct auth_config *auth, const char *token, size_t len, time_t now,
               char *user, size_t user_size, const char **error_r);

#endif
