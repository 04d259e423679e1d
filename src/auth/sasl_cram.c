/*
 * sasl_cram.c — CRAM-MD5 (RFC 2195): an HMAC-MD5 of our challenge, from the key state
 * stored beside the password.
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

enum sasl_result sasl_step_cram_md5(struct sasl_server *s, struct userdb *db,
                                    const char *in, size_t len, struct buf *challenge)
{
	if (s->step == 0) {
		if (in != NULL)
			return sasl_fail(s, SASL_FAILURE,
			                 "CRAM-MD5 takes no initial response");
		unsigned char random[12];
		RAND_bytes(random, sizeof(random));
		char hex[25];
		for (int i = 0; i < 12; i++)
			snprintf(hex + i * 2, 3, "%02x", random[i]);
		snprintf(s->challenge, sizeof(s->challenge), "<%s.%lld@%s>", hex,
		         (long long)time(NULL), s->hostname);
		buf_append_str(challenge, s->challenge);
		return SASL_CHALLENGE;
	}
	struct sasl_cram cram;
	const char *error;
	if (in == NULL || sasl_cram_md5_parse(in, len, &cram, &error) < 0)
		return sasl_fail(s, SASL_FAILURE, in ? error : "no CRAM-MD5 response");
	sasl_set_text(s->login, sizeof(s->login), cram.user.data, cram.user.len);
	if (sasl_locked_out(s))
		return sasl_fail(s, SASL_TEMPFAIL, "locked out after repeated failures");
	struct user_record user;
	int found = sasl_enabled_user(s, db, s->login, &user);
	if (found <= 0)
		return found < 0 ? SASL_TEMPFAIL : SASL_FAILURE;
	bool ok = cram_md5_verify(user.cram_md5, s->challenge, strlen(s->challenge),
	                          cram.digest.data, cram.digest.len);
	enum sasl_result r = ok ? sasl_authorize(s, db, user.address, NULL)
	                        : sasl_fail(s, SASL_FAILURE,
	                                    user.cram_md5 ? "wrong CRAM-MD5 digest"
	                                                  : "no CRAM-MD5 key stored");
	user_record_free(&user);
	return r;
}
