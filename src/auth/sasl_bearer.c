/*
 * sasl_bearer.c — OAUTHBEARER (RFC 7628) and XOAUTH2: a signed token (auth/jwt.c) names
 * the user.
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

enum sasl_result sasl_step_bearer(struct sasl_server *s, struct userdb *db,
                                  const char *in, size_t len, struct buf *challenge)
{
	bool xoauth2 = s->mechanism == MECH_XOAUTH2;
	if (s->done) /* the answer to our error challenge */
		return sasl_fail(s, SASL_FAILURE, s->token_failure);
	if (in == NULL && s->step == 0)
		return SASL_CHALLENGE;
	struct sasl_bearer bearer;
	const char *error;
	enum sasl_result r = SASL_FAILURE;
	char user[SASL_NAME_MAX + 1] = "";
	int parsed = xoauth2 ? sasl_xoauth2_parse(in, len, &bearer, &error)
	                     : sasl_oauthbearer_parse(in, len, &bearer, &error);
	if (parsed < 0)
		return sasl_fail(s, SASL_FAILURE, error);
	sasl_set_text(s->login, sizeof(s->login), bearer.user.data, bearer.user.len);
	if (sasl_locked_out(s)) {
		r = sasl_fail(s, SASL_TEMPFAIL, "locked out after repeated failures");
	} else if (jwt_verify(&s->config->auth, bearer.token.data, bearer.token.len,
	                      time(NULL), user, sizeof(user), &error) < 0) {
		sasl_fail(s, SASL_FAILURE, error);
	} else {
		struct user_record record;
		int found = sasl_enabled_user(s, db, user, &record);
		if (found < 0)
			return SASL_TEMPFAIL;
		if (found > 0) {
			/* XOAUTH2's user= must be the token's user; OAUTHBEARER's
			 * a= may also be someone the user acts for. */
			if (xoauth2 && strcasecmp(s->login, record.address) != 0)
				sasl_fail(s, SASL_FAILURE,
				          "user= is not the token's user");
			else
				r = sasl_authorize(s, db, record.address, s->login);
			user_record_free(&record);
		}
		if (s->login[0] == '\0')
			sasl_set_text(s->login, sizeof(s->login), user, strlen(user));
	}
	if (r != SASL_FAILURE)
		return r;
	snprintf(s->token_failure, sizeof(s->token_failure), "%s", s->reason);
	buf_append_str(challenge, xoauth2 ? "{\"status\":\"401\",\"schemes\":\"bearer\"}"
	                                  : "{\"status\":\"invalid_token\","
	                                    "\"schemes\":\"bearer\"}");
	s->done = true;
	return SASL_CHALLENGE;
}

/* RFC 2195: a challenge in msg-id form, then "user digest". */
