/*
 * sasl_external.c — EXTERNAL (RFC 4422 appendix A): the identity of a verified TLS client
 * certificate, mapped by auth.certificate_users or its SAN e-mail.
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

static const char *certificate_user(const struct sasl_server *s)
{
	const struct auth_config *auth = &s->config->auth;
	for (size_t i = 0; i < auth->certificate_user_count; i++) {
		const struct certificate_user *u = &auth->certificate_users[i];
		if ((u->fingerprint &&
		     strcmp(u->fingerprint, s->cert.fingerprint) == 0) ||
		    (u->subject && strcmp(u->subject, s->cert.subject) == 0))
			return u->user;
	}
	return s->cert.san_email[0] ? s->cert.san_email : NULL;
}

enum sasl_result sasl_step_external(struct sasl_server *s, struct userdb *db,
                                    const char *in, size_t len, struct buf *challenge)
{
	(void)challenge;
	if (in == NULL && s->step == 0)
		return SASL_CHALLENGE; /* empty challenge: the client sends its authzid */
	if (!s->cert.verified)
		return sasl_fail(s, SASL_FAILURE, "no verified client certificate");
	if (!sasl_text_valid(in, len, true) || len > SASL_NAME_MAX)
		return sasl_fail(s, SASL_FAILURE, "bad EXTERNAL authzid");
	const char *mapped = certificate_user(s);
	if (mapped == NULL)
		return sasl_fail(s, SASL_FAILURE, "certificate maps to no user");
	sasl_set_text(s->login, sizeof(s->login), mapped, strlen(mapped));
	struct user_record user;
	int found = sasl_enabled_user(s, db, mapped, &user);
	if (found <= 0)
		return found < 0 ? SASL_TEMPFAIL : SASL_FAILURE;
	char authzid[SASL_NAME_MAX + 1];
	sasl_set_text(authzid, sizeof(authzid), in, len);
	enum sasl_result r = sasl_authorize(s, db, user.address, authzid);
	user_record_free(&user);
	return r;
}

/* OAUTHBEARER and XOAUTH2: a JWT, then the user it names. A failure is
 * reported in a JSON challenge first (RFC 7628 3.2.2); the client's
 * dummy answer then ends the exchange. */
