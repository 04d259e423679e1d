/*
 * sasl.c — server-side SASL (see sasl.h): the exchange, the checks every
 * mechanism ends with, and the table of mechanisms; each mechanism's
 * steps are in a file of its own (sasl_internal.h lists them).
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

#include "auth/credential_cache.h"
#include "auth/jwt.h"
#include "auth/penalty.h"
#include "auth/sasl_internal.h"
#include "lib/xalloc.h"
#include "proto/base64.h"
#include "proto/sasl.h"

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

bool sasl_server_cached(const struct sasl_server *s)
{
	return s->cached;
}

enum sasl_result sasl_fail(struct sasl_server *s, enum sasl_result result,
                           const char *reason)
{
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	return result;
}

void sasl_set_text(char *out, size_t size, const char *data, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(out, data, len);
	out[len] = '\0';
}

/* A locked IP or login name is refused before any password is looked at. */
bool sasl_locked_out(struct sasl_server *s)
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
enum sasl_result sasl_authorize(struct sasl_server *s, struct userdb *db,
                                const char *user, const char *authzid)
{
	const char *error = NULL;
	if (authzid == NULL || authzid[0] == '\0' || strcasecmp(authzid, user) == 0) {
		sasl_set_text(s->identity, sizeof(s->identity), user, strlen(user));
		return SASL_SUCCESS;
	}
	int may = userdb_may_act_for(db, user, authzid, &error);
	struct user_record target;
	int exists = may > 0 ? userdb_user_get(db, authzid, &target, &error) : 0;
	if (may < 0 || exists < 0)
		return sasl_fail(s, SASL_TEMPFAIL, error ? error : "database error");
	if (may == 0)
		return sasl_fail(s, SASL_FAILURE, "may not act for the authzid");
	if (exists == 0)
		return sasl_fail(s, SASL_FAILURE, "authzid is not a user");
	sasl_set_text(s->identity, sizeof(s->identity), target.address,
	              strlen(target.address));
	user_record_free(&target);
	return SASL_SUCCESS;
}

/* Fetches an enabled user; 1 found, 0 not (or disabled), -1 error. */
int sasl_enabled_user(struct sasl_server *s, struct userdb *db, const char *name,
                      struct user_record *user)
{
	const char *error = NULL;
	int r = userdb_user_get(db, name, user, &error);
	if (r < 0)
		sasl_fail(s, SASL_TEMPFAIL, error);
	if (r > 0 && !user->enabled) {
		user_record_free(user);
		sasl_fail(s, SASL_FAILURE, "user disabled");
		return 0;
	}
	if (r == 0)
		sasl_fail(s, SASL_FAILURE, "unknown user");
	return r;
}

/* PLAIN and LOGIN: the password against the stored hash, upgrading an
 * old scheme or cost on success. */
/* The password against the stored hash, upgrading an old scheme or cost
 * on success; the user it resolved to in user on success. */
static enum sasl_result verify(struct sasl_server *s, struct userdb *db,
                               const char *password, size_t len, char *user,
                               size_t user_size)
{
	const struct password_config *cost = &s->config->auth.password;
	const char *error = NULL;
	struct user_record record;
	int found = userdb_user_get(db, s->login, &record, &error);
	if (found < 0)
		return sasl_fail(s, SASL_TEMPFAIL, error);
	if (found == 0) {
		password_verify_dummy(cost, password, len);
		return sasl_fail(s, SASL_FAILURE, "unknown user");
	}
	enum password_result check =
	    password_verify(cost, record.password, password, len);
	enum sasl_result r = SASL_FAILURE;
	if (check == PASSWORD_BAD_HASH) {
		password_verify_dummy(cost, password, len);
		sasl_fail(s, r, "no usable password stored");
	} else if (check == PASSWORD_MISMATCH) {
		sasl_fail(s, r, "wrong password");
	} else if (!record.enabled) {
		sasl_fail(s, r, "user disabled");
	} else {
		if (check == PASSWORD_OK_REHASH) {
			struct password_secrets fresh = {BUF_INIT, BUF_INIT, BUF_INIT};
			if (password_make(cost, password, len, &fresh, &error) == 0 &&
			    userdb_user_set_secrets(db, record.address, &fresh,
			                            record.password, &error) == 0)
				s->rehashed = true;
			password_secrets_free(&fresh);
		}
		snprintf(user, user_size, "%s", record.address);
		r = SASL_SUCCESS;
	}
	user_record_free(&record);
	return r;
}

/* PLAIN and LOGIN: the password checked, or remembered as checked
 * (auth/credential_cache.h); then the authorization identity. */
enum sasl_result sasl_check_password(struct sasl_server *s, struct userdb *db,
                                     const char *password, size_t len,
                                     const char *authzid)
{
	if (sasl_locked_out(s))
		return sasl_fail(s, SASL_TEMPFAIL, "locked out after repeated failures");
	const struct auth_config *auth = &s->config->auth;
	struct credential_cache *cache = credential_cache_current();
	time_t now = time(NULL);
	char user[SASL_NAME_MAX + 1] = "", reason[64] = "";
	enum sasl_result r;
	switch (credential_cache_get(cache, s->login, password, len, now, user,
	                             sizeof(user), reason, sizeof(reason))) {
	case CACHE_OK:
		s->cached = true;
		return sasl_authorize(s, db, user, authzid);
	case CACHE_FAILED:
		s->cached = true;
		return sasl_fail(s, SASL_FAILURE, reason);
	case CACHE_MISS:
		break;
	}
	r = verify(s, db, password, len, user, sizeof(user));
	if (r == SASL_SUCCESS)
		credential_cache_put(cache, s->login, password, len, now, true, user,
		                     auth->cache_ttl);
	else if (r == SASL_FAILURE)
		credential_cache_put(cache, s->login, password, len, now, false,
		                     s->reason, auth->cache_negative_ttl);
	return r == SASL_SUCCESS ? sasl_authorize(s, db, user, authzid) : r;
}

/* One row per mechanism: enum sasl_mechanism (proto/sasl.h) to its step. */
static const struct {
	unsigned mechanism;
	sasl_step_fn *step;
} mechanisms[] = {
    {MECH_PLAIN, sasl_step_plain},         {MECH_LOGIN, sasl_step_login},
    {MECH_SCRAM_SHA_256, sasl_step_scram}, {MECH_EXTERNAL, sasl_step_external},
    {MECH_OAUTHBEARER, sasl_step_bearer},  {MECH_XOAUTH2, sasl_step_bearer},
    {MECH_CRAM_MD5, sasl_step_cram_md5},
};

enum sasl_result sasl_server_step(struct sasl_server *s, struct userdb *db,
                                  const char *response, size_t len, struct buf *challenge)
{
	buf_reset(challenge);
	s->reason[0] = '\0';
	if (db == NULL)
		return sasl_fail(s, SASL_TEMPFAIL, "user database unavailable");
	enum sasl_result r = SASL_FAILURE;
	bool known = false;
	for (size_t i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++) {
		if (mechanisms[i].mechanism == s->mechanism) {
			r = mechanisms[i].step(s, db, response, len, challenge);
			known = true;
			break;
		}
	}
	if (!known)
		r = sasl_fail(s, SASL_FAILURE, "mechanism not supported");
	s->step++;
	return r;
}
