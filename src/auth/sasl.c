/*
 * sasl.c — server-side SASL mechanisms (see sasl.h).
 */
#include "auth/sasl.h"

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
#include "lib/xalloc.h"
#include "proto/base64.h"
#include "proto/sasl.h"

struct sasl_server {
	const struct config *config;
	unsigned mechanism;
	unsigned step;
	char hostname[256];
	char client_ip[64];
	struct client_cert cert;
	char login[SASL_NAME_MAX + 1];
	char identity[SASL_NAME_MAX + 1];
	char reason[192];
	bool rehashed;
	bool done; /* success pending the client's empty answer (SCRAM) */
	/* SCRAM-SHA-256 */
	char authzid[SASL_NAME_MAX + 1];
	struct scram_keys keys;
	bool scram_user; /* keys are a real user's */
	char user[SASL_NAME_MAX + 1];
	char nonce[192];
	struct buf gs2_header;
	struct buf auth_message;
	/* CRAM-MD5 */
	char challenge[320];
	/* OAUTHBEARER, XOAUTH2: why the token failed, told after the error
	 * challenge has been answered */
	char token_failure[192];
};

unsigned sasl_mechanisms_available(const struct config *config,
                                   const struct client_cert *cert)
{
	unsigned m = config->auth.mechanisms;
	if (cert == NULL || !cert->verified)
		m &= ~(unsigned)MECH_EXTERNAL;
	if (config->auth.oauth_public_key == NULL)
		m &= ~(unsigned)(MECH_OAUTHBEARER | MECH_XOAUTH2);
	return m;
}

struct sasl_server *sasl_server_new(const struct config *config, unsigned mechanism,
                                    const char *hostname, const char *client_ip,
                                    const struct client_cert *cert)
{
	struct sasl_server *s = xcalloc(1, sizeof(*s));
	s->config = config;
	s->mechanism = mechanism;
	snprintf(s->hostname, sizeof(s->hostname), "%s", hostname);
	snprintf(s->client_ip, sizeof(s->client_ip), "%s", client_ip);
	if (cert)
		s->cert = *cert;
	return s;
}

void sasl_server_free(struct sasl_server **server)
{
	struct sasl_server *s = *server;
	if (s == NULL)
		return;
	buf_free(&s->gs2_header);
	buf_free(&s->auth_message);
	OPENSSL_cleanse(s, sizeof(*s));
	x_free(server);
}

unsigned sasl_server_mechanism(const struct sasl_server *s)
{
	return s->mechanism;
}

const char *sasl_server_login(const struct sasl_server *s)
{
	return s->login;
}

const char *sasl_server_identity(const struct sasl_server *s)
{
	return s->identity;
}

const char *sasl_server_reason(const struct sasl_server *s)
{
	return s->reason;
}

bool sasl_server_rehashed(const struct sasl_server *s)
{
	return s->rehashed;
}

static enum sasl_result fail(struct sasl_server *s, enum sasl_result result,
                             const char *reason)
{
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	return result;
}

static void set_text(char *out, size_t size, const char *data, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(out, data, len);
	out[len] = '\0';
}

/* A locked IP or login name is refused before any password is looked at. */
static bool locked_out(struct sasl_server *s)
{
	struct penalty_table *table = penalty_table_current();
	if (table == NULL)
		return false;
	time_t now = time(NULL);
	struct penalty_state ip, user;
	penalty_get(table, PENALTY_IP, s->client_ip, now, &s->config->auth, &ip);
	penalty_get(table, PENALTY_USER, s->login, now, &s->config->auth, &user);
	return ip.locked_until > now || user.locked_until > now;
}

/*
 * The identity after `user` proved itself: itself, or authzid if user
 * may act for it (a delegation, or a master user) and it is a user.
 */
static enum sasl_result authorize(struct sasl_server *s, struct userdb *db,
                                  const char *user, const char *authzid)
{
	const char *error = NULL;
	if (authzid == NULL || authzid[0] == '\0' || strcasecmp(authzid, user) == 0) {
		set_text(s->identity, sizeof(s->identity), user, strlen(user));
		return SASL_SUCCESS;
	}
	int may = userdb_may_act_for(db, user, authzid, &error);
	struct user_record target;
	int exists = may > 0 ? userdb_user_get(db, authzid, &target, &error) : 0;
	if (may < 0 || exists < 0)
		return fail(s, SASL_TEMPFAIL, error ? error : "database error");
	if (may == 0)
		return fail(s, SASL_FAILURE, "may not act for the authzid");
	if (exists == 0)
		return fail(s, SASL_FAILURE, "authzid is not a user");
	set_text(s->identity, sizeof(s->identity), target.address,
	         strlen(target.address));
	user_record_free(&target);
	return SASL_SUCCESS;
}

/* Fetches an enabled user; 1 found, 0 not (or disabled), -1 error. */
static int enabled_user(struct sasl_server *s, struct userdb *db, const char *name,
                        struct user_record *user)
{
	const char *error = NULL;
	int r = userdb_user_get(db, name, user, &error);
	if (r < 0)
		fail(s, SASL_TEMPFAIL, error);
	if (r > 0 && !user->enabled) {
		user_record_free(user);
		fail(s, SASL_FAILURE, "user disabled");
		return 0;
	}
	if (r == 0)
		fail(s, SASL_FAILURE, "unknown user");
	return r;
}

/* PLAIN and LOGIN: the password against the stored hash, upgrading an
 * old scheme or cost on success. */
static enum sasl_result check_password(struct sasl_server *s, struct userdb *db,
                                       const char *password, size_t len,
                                       const char *authzid)
{
	const struct password_config *cost = &s->config->auth.password;
	if (locked_out(s))
		return fail(s, SASL_TEMPFAIL, "locked out after repeated failures");
	const char *error = NULL;
	struct user_record user;
	int found = userdb_user_get(db, s->login, &user, &error);
	if (found < 0)
		return fail(s, SASL_TEMPFAIL, error);
	if (found == 0) {
		password_verify_dummy(cost, password, len);
		return fail(s, SASL_FAILURE, "unknown user");
	}
	enum password_result check = password_verify(cost, user.password, password, len);
	enum sasl_result r = SASL_FAILURE;
	if (check == PASSWORD_BAD_HASH) {
		password_verify_dummy(cost, password, len);
		fail(s, r, "no usable password stored");
	} else if (check == PASSWORD_MISMATCH) {
		fail(s, r, "wrong password");
	} else if (!user.enabled) {
		fail(s, r, "user disabled");
	} else {
		if (check == PASSWORD_OK_REHASH) {
			struct password_secrets fresh = {BUF_INIT, BUF_INIT, BUF_INIT};
			if (password_make(cost, password, len, &fresh, &error) == 0 &&
			    userdb_user_set_secrets(db, user.address, &fresh,
			                            user.password, &error) == 0)
				s->rehashed = true;
			password_secrets_free(&fresh);
		}
		r = authorize(s, db, user.address, authzid);
	}
	user_record_free(&user);
	return r;
}

static enum sasl_result step_plain(struct sasl_server *s, struct userdb *db,
                                   const char *in, size_t len, struct buf *challenge)
{
	(void)challenge;
	struct sasl_plain plain;
	const char *error;
	if (sasl_plain_parse(in, len, &plain, &error) < 0)
		return fail(s, SASL_FAILURE, error);
	set_text(s->login, sizeof(s->login), plain.authcid.data, plain.authcid.len);
	char authzid[SASL_NAME_MAX + 1];
	set_text(authzid, sizeof(authzid), plain.authzid.data, plain.authzid.len);
	return check_password(s, db, plain.password.data, plain.password.len, authzid);
}

/* LOGIN (draft-murchison-sasl-login): "Username:", then "Password:". */
static enum sasl_result step_login(struct sasl_server *s, struct userdb *db,
                                   const char *in, size_t len, struct buf *challenge)
{
	if (s->step == 0 && in == NULL) {
		buf_append_str(challenge, "Username:");
		return SASL_CHALLENGE;
	}
	if (s->login[0] == '\0') {
		if (!sasl_text_valid(in, len, false) || len > SASL_NAME_MAX)
			return fail(s, SASL_FAILURE, "bad LOGIN user name");
		set_text(s->login, sizeof(s->login), in, len);
		buf_append_str(challenge, "Password:");
		return SASL_CHALLENGE;
	}
	if (!sasl_text_valid(in, len, false))
		return fail(s, SASL_FAILURE, "bad LOGIN password");
	return check_password(s, db, in, len, NULL);
}

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
		return fail(s, SASL_FAILURE, error);
	set_text(s->login, sizeof(s->login), first.username, strlen(first.username));
	set_text(s->authzid, sizeof(s->authzid), first.authzid, strlen(first.authzid));
	if (locked_out(s))
		return fail(s, SASL_TEMPFAIL, "locked out after repeated failures");
	struct user_record user;
	int found = enabled_user(s, db, s->login, &user);
	if (found < 0)
		return SASL_TEMPFAIL;
	if (found > 0 && user.scram && scram_keys_parse(user.scram, &s->keys) == 0) {
		s->scram_user = true;
		set_text(s->user, sizeof(s->user), user.address, strlen(user.address));
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
		return fail(s, SASL_FAILURE, in ? error : "no client-final message");
	/* c= is the GS2 header again (no channel binding), r= our nonce. */
	char expected[256];
	base64_encode(BASE64_STANDARD, s->gs2_header.data, s->gs2_header.len, expected,
	              sizeof(expected));
	if (final.channel_binding.len != strlen(expected) ||
	    memcmp(final.channel_binding.data, expected, strlen(expected)) != 0)
		return fail(s, SASL_FAILURE, "SCRAM channel binding data differs");
	if (final.nonce.len != strlen(s->nonce) ||
	    memcmp(final.nonce.data, s->nonce, final.nonce.len) != 0)
		return fail(s, SASL_FAILURE, "SCRAM nonce was tampered with");
	unsigned char proof[64];
	long proof_len = base64_decode(BASE64_STANDARD, final.proof.data, final.proof.len,
	                               proof, sizeof(proof), &error);
	if (proof_len != SCRAM_KEY_LEN)
		return fail(s, SASL_FAILURE, "SCRAM proof is not 32 octets");
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
		return fail(s, SASL_FAILURE,
		            s->scram_user ? "wrong SCRAM proof"
		                          : "unknown user or no SCRAM keys");
	enum sasl_result r = authorize(s, db, s->user, s->authzid);
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

static enum sasl_result step_scram(struct sasl_server *s, struct userdb *db,
                                   const char *in, size_t len, struct buf *challenge)
{
	if (s->done)
		return len == 0 ? SASL_SUCCESS
		                : fail(s, SASL_FAILURE, "data after SCRAM server-final");
	if (s->auth_message.len == 0)
		return scram_first(s, db, in, len, challenge);
	return scram_final(s, db, in, len, challenge);
}

/* The user a verified certificate stands for: a configured mapping by
 * fingerprint or subject, else its subjectAltName e-mail address. */
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

static enum sasl_result step_external(struct sasl_server *s, struct userdb *db,
                                      const char *in, size_t len, struct buf *challenge)
{
	(void)challenge;
	if (in == NULL && s->step == 0)
		return SASL_CHALLENGE; /* empty challenge: the client sends its authzid */
	if (!s->cert.verified)
		return fail(s, SASL_FAILURE, "no verified client certificate");
	if (!sasl_text_valid(in, len, true) || len > SASL_NAME_MAX)
		return fail(s, SASL_FAILURE, "bad EXTERNAL authzid");
	const char *mapped = certificate_user(s);
	if (mapped == NULL)
		return fail(s, SASL_FAILURE, "certificate maps to no user");
	set_text(s->login, sizeof(s->login), mapped, strlen(mapped));
	struct user_record user;
	int found = enabled_user(s, db, mapped, &user);
	if (found <= 0)
		return found < 0 ? SASL_TEMPFAIL : SASL_FAILURE;
	char authzid[SASL_NAME_MAX + 1];
	set_text(authzid, sizeof(authzid), in, len);
	enum sasl_result r = authorize(s, db, user.address, authzid);
	user_record_free(&user);
	return r;
}

/* OAUTHBEARER and XOAUTH2: a JWT, then the user it names. A failure is
 * reported in a JSON challenge first (RFC 7628 3.2.2); the client's
 * dummy answer then ends the exchange. */
static enum sasl_result step_bearer(struct sasl_server *s, struct userdb *db,
                                    const char *in, size_t len, struct buf *challenge)
{
	bool xoauth2 = s->mechanism == MECH_XOAUTH2;
	if (s->done) /* the answer to our error challenge */
		return fail(s, SASL_FAILURE, s->token_failure);
	if (in == NULL && s->step == 0)
		return SASL_CHALLENGE;
	struct sasl_bearer bearer;
	const char *error;
	enum sasl_result r = SASL_FAILURE;
	char user[SASL_NAME_MAX + 1] = "";
	int parsed = xoauth2 ? sasl_xoauth2_parse(in, len, &bearer, &error)
	                     : sasl_oauthbearer_parse(in, len, &bearer, &error);
	if (parsed < 0)
		return fail(s, SASL_FAILURE, error);
	set_text(s->login, sizeof(s->login), bearer.user.data, bearer.user.len);
	if (locked_out(s)) {
		r = fail(s, SASL_TEMPFAIL, "locked out after repeated failures");
	} else if (jwt_verify(&s->config->auth, bearer.token.data, bearer.token.len,
	                      time(NULL), user, sizeof(user), &error) < 0) {
		fail(s, SASL_FAILURE, error);
	} else {
		struct user_record record;
		int found = enabled_user(s, db, user, &record);
		if (found < 0)
			return SASL_TEMPFAIL;
		if (found > 0) {
			/* XOAUTH2's user= must be the token's user; OAUTHBEARER's
			 * a= may also be someone the user acts for. */
			if (xoauth2 && strcasecmp(s->login, record.address) != 0)
				fail(s, SASL_FAILURE, "user= is not the token's user");
			else
				r = authorize(s, db, record.address, s->login);
			user_record_free(&record);
		}
		if (s->login[0] == '\0')
			set_text(s->login, sizeof(s->login), user, strlen(user));
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
static enum sasl_result step_cram_md5(struct sasl_server *s, struct userdb *db,
                                      const char *in, size_t len, struct buf *challenge)
{
	if (s->step == 0) {
		if (in != NULL)
			return fail(s, SASL_FAILURE,
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
		return fail(s, SASL_FAILURE, in ? error : "no CRAM-MD5 response");
	set_text(s->login, sizeof(s->login), cram.user.data, cram.user.len);
	if (locked_out(s))
		return fail(s, SASL_TEMPFAIL, "locked out after repeated failures");
	struct user_record user;
	int found = enabled_user(s, db, s->login, &user);
	if (found <= 0)
		return found < 0 ? SASL_TEMPFAIL : SASL_FAILURE;
	bool ok = cram_md5_verify(user.cram_md5, s->challenge, strlen(s->challenge),
	                          cram.digest.data, cram.digest.len);
	enum sasl_result r =
	    ok ? authorize(s, db, user.address, NULL)
	       : fail(s, SASL_FAILURE,
	              user.cram_md5 ? "wrong CRAM-MD5 digest" : "no CRAM-MD5 key stored");
	user_record_free(&user);
	return r;
}

enum sasl_result sasl_server_step(struct sasl_server *s, struct userdb *db,
                                  const char *response, size_t len, struct buf *challenge)
{
	buf_reset(challenge);
	s->reason[0] = '\0';
	if (db == NULL)
		return fail(s, SASL_TEMPFAIL, "user database unavailable");
	enum sasl_result r;
	switch (s->mechanism) {
	case MECH_PLAIN:
		r = response == NULL ? SASL_CHALLENGE
		                     : step_plain(s, db, response, len, challenge);
		break;
	case MECH_LOGIN:
		r = step_login(s, db, response, len, challenge);
		break;
	case MECH_SCRAM_SHA_256:
		r = step_scram(s, db, response, len, challenge);
		break;
	case MECH_EXTERNAL:
		r = step_external(s, db, response, len, challenge);
		break;
	case MECH_OAUTHBEARER:
	case MECH_XOAUTH2:
		r = step_bearer(s, db, response, len, challenge);
		break;
	case MECH_CRAM_MD5:
		r = step_cram_md5(s, db, response, len, challenge);
		break;
	default:
		r = fail(s, SASL_FAILURE, "mechanism not supported");
	}
	s->step++;
	return r;
}
