/*
 * sasl_scram.c — SCRAM-SHA-256 (RFC 5802, RFC 7677): the client proves it knows the
 * password without sending it; unknown users get keys derived from a
 * secret, so that they look like real ones.
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

/* RFC 5802 5.1: salts for names without keys come from a secret, so a
 * name answers the same every time and unknown names look real. */
static void fake_scram_keys(struct sasl_server *s)
{
	static unsigned char fallback[PENALTY_SECRET_LEN];
	struct penalty_table *table = penalty_table_current();
	const unsigned char *secret = table ? penalty_secret(table) : fallback;
	unsigned char digest[32];
	unsigned int len = sizeof(digest);
	struct buf text = BUF_INIT;
	buf_appendf(&text, "scram-salt:%s", s->login);
	for (size_t i = 0; i < text.len; i++)
		if (text.data[i] >= 'A' && text.data[i] <= 'Z')
			text.data[i] = (char)(text.data[i] + 32);
	HMAC(EVP_sha256(), secret, PENALTY_SECRET_LEN, (const unsigned char *)text.data,
	     text.len, digest, &len);
	buf_free(&text);
	memset(&s->keys, 0, sizeof(s->keys));
	memcpy(s->keys.salt, digest, SCRAM_SALT_LEN);
	s->keys.salt_len = SCRAM_SALT_LEN;
	s->keys.iterations = s->config->auth.password.scram_iterations;
	RAND_bytes(s->keys.stored_key, sizeof(s->keys.stored_key));
	s->scram_user = false;
}

static enum sasl_result scram_first(struct sasl_server *s, struct userdb *db,
                                    const char *in, size_t len, struct buf *challenge)
{
	struct scram_client_first first;
	const char *error;
	if (in == NULL) {
		return SASL_CHALLENGE; /* an empty challenge asks for client-first */
	}
	if (scram_client_first_parse(in, len, &first, &error) < 0)
		return sasl_fail(s, SASL_FAILURE, error);
	sasl_set_text(s->login, sizeof(s->login), first.username, strlen(first.username));
	sasl_set_text(s->authzid, sizeof(s->authzid), first.authzid,
	              strlen(first.authzid));
	if (sasl_locked_out(s))
		return sasl_fail(s, SASL_TEMPFAIL, "locked out after repeated failures");
	struct user_record user;
	int found = sasl_enabled_user(s, db, s->login, &user);
	if (found < 0)
		return SASL_TEMPFAIL;
	if (found > 0 && user.scram && scram_keys_parse(user.scram, &s->keys) == 0) {
		s->scram_user = true;
		sasl_set_text(s->user, sizeof(s->user), user.address,
		              strlen(user.address));
	} else {
		fake_scram_keys(s); /* fails at the proof, like a wrong password */
	}
	if (found > 0)
		user_record_free(&user);
	unsigned char random[18];
	char server_part[32];
	RAND_bytes(random, sizeof(random));
	base64_encode(BASE64_STANDARD, random, sizeof(random), server_part,
	              sizeof(server_part));
	snprintf(s->nonce, sizeof(s->nonce), "%.*s%s", (int)first.nonce.len,
	         first.nonce.data, server_part);
	char salt[96];
	base64_encode(BASE64_STANDARD, s->keys.salt, s->keys.salt_len, salt,
	              sizeof(salt));
	buf_appendf(challenge, "r=%s,s=%s,i=%u", s->nonce, salt, s->keys.iterations);
	buf_append(&s->gs2_header, first.gs2_header.data, first.gs2_header.len);
	buf_append(&s->auth_message, first.bare.data, first.bare.len);
	buf_append_char(&s->auth_message, ',');
	buf_append(&s->auth_message, challenge->data, challenge->len);
	return SASL_CHALLENGE;
}

static enum sasl_result scram_final(struct sasl_server *s, struct userdb *db,
                                    const char *in, size_t len, struct buf *challenge)
{
	struct scram_client_final final;
	const char *error;
	if (in == NULL || scram_client_final_parse(in, len, &final, &error) < 0)
		return sasl_fail(s, SASL_FAILURE, in ? error : "no client-final message");
	/* c= is the GS2 header again (no channel binding), r= our nonce. */
	char expected[256];
	base64_encode(BASE64_STANDARD, s->gs2_header.data, s->gs2_header.len, expected,
	              sizeof(expected));
	if (final.channel_binding.len != strlen(expected) ||
	    memcmp(final.channel_binding.data, expected, strlen(expected)) != 0)
		return sasl_fail(s, SASL_FAILURE, "SCRAM channel binding data differs");
	if (final.nonce.len != strlen(s->nonce) ||
	    memcmp(final.nonce.data, s->nonce, final.nonce.len) != 0)
		return sasl_fail(s, SASL_FAILURE, "SCRAM nonce was tampered with");
	unsigned char proof[64];
	long proof_len = base64_decode(BASE64_STANDARD, final.proof.data, final.proof.len,
	                               proof, sizeof(proof), &error);
	if (proof_len != SCRAM_KEY_LEN)
		return sasl_fail(s, SASL_FAILURE, "SCRAM proof is not 32 octets");
	buf_append_char(&s->auth_message, ',');
	buf_append(&s->auth_message, final.without_proof.data, final.without_proof.len);
	/* ClientKey = proof XOR HMAC(StoredKey, AuthMessage); it must hash to
	 * StoredKey (RFC 5802 3). */
	unsigned char signature[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN],
	    stored[SCRAM_KEY_LEN];
	unsigned int n = SCRAM_KEY_LEN;
	HMAC(EVP_sha256(), s->keys.stored_key, SCRAM_KEY_LEN,
	     (const unsigned char *)s->auth_message.data, s->auth_message.len, signature,
	     &n);
	for (int i = 0; i < SCRAM_KEY_LEN; i++)
		client_key[i] = proof[i] ^ signature[i];
	SHA256(client_key, sizeof(client_key), stored);
	bool match = CRYPTO_memcmp(stored, s->keys.stored_key, SCRAM_KEY_LEN) == 0;
	if (!match || !s->scram_user)
		return sasl_fail(s, SASL_FAILURE,
		                 s->scram_user ? "wrong SCRAM proof"
		                               : "unknown user or no SCRAM keys");
	enum sasl_result r = sasl_authorize(s, db, s->user, s->authzid);
	if (r != SASL_SUCCESS)
		return r;
	/* Success data goes out as a last challenge (RFC 4954 4). */
	unsigned char server_signature[SCRAM_KEY_LEN];
	HMAC(EVP_sha256(), s->keys.server_key, SCRAM_KEY_LEN,
	     (const unsigned char *)s->auth_message.data, s->auth_message.len,
	     server_signature, &n);
	char text[64];
	base64_encode(BASE64_STANDARD, server_signature, sizeof(server_signature), text,
	              sizeof(text));
	buf_appendf(challenge, "v=%s", text);
	s->done = true;
	return SASL_CHALLENGE;
}

enum sasl_result sasl_step_scram(struct sasl_server *s, struct userdb *db, const char *in,
                                 size_t len, struct buf *challenge)
{
	if (s->done)
		return len == 0
		           ? SASL_SUCCESS
		           : sasl_fail(s, SASL_FAILURE, "data after SCRAM server-final");
	if (s->auth_message.len == 0)
		return scram_first(s, db, in, len, challenge);
	return scram_final(s, db, in, len, challenge);
}

/* The user a verified certificate stands for: a configured mapping by
 * fingerprint or subject, else its subjectAltName e-mail address. */
