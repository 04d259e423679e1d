/*
 * sasl_plain.c — PLAIN (RFC 4616) and LOGIN: a name and a password, checked against the
 * stored hash.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/jwt.h"
#include "auth/penalty.h"
#include "auth/sasl_internal.h"
#include "lib/xalloc.h"
#include "proto/base64.h"
#include "proto/sasl.h"

enum sasl_result sasl_step_plain(struct sasl_server *s, struct userdb *db, const char *in,
                                 size_t len, struct buf *challenge)
{
	(void)challenge;
	if (in == NULL)
		return SASL_CHALLENGE; /* no initial response: an empty challenge */
	struct sasl_plain plain;
	const char *error;
	if (sasl_plain_parse(in, len, &plain, &error) < 0)
		return sasl_fail(s, SASL_FAILURE, error);
	sasl_set_text(s->login, sizeof(s->login), plain.authcid.data, plain.authcid.len);
	char authzid[SASL_NAME_MAX + 1];
	sasl_set_text(authzid, sizeof(authzid), plain.authzid.data, plain.authzid.len);
	return sasl_check_password(s, db, plain.password.data, plain.password.len,
	                           authzid);
}

/* LOGIN (draft-murchison-sasl-login): "Username:", then "Password:". */
enum sasl_result sasl_step_login(struct sasl_server *s, struct userdb *db, const char *in,
                                 size_t len, struct buf *challenge)
{
	if (s->step == 0 && in == NULL) {
		buf_append_str(challenge, "Username:");
		return SASL_CHALLENGE;
	}
	if (s->login[0] == '\0') {
		if (!sasl_text_valid(in, len, false) || len > SASL_NAME_MAX)
			return sasl_fail(s, SASL_FAILURE, "bad LOGIN user name");
		sasl_set_text(s->login, sizeof(s->login), in, len);
		buf_append_str(challenge, "Password:");
		return SASL_CHALLENGE;
	}
	if (!sasl_text_valid(in, len, false))
		return sasl_fail(s, SASL_FAILURE, "bad LOGIN password");
	return sasl_check_password(s, db, in, len, NULL);
}
