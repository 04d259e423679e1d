/*
 * jwt.c — see jwt.h.
 */
#include "auth/jwt.h"

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/xalloc.h"
#include "proto/base64.h"

#define TOKEN_MAX 8192

/* The key is read once per process, on first use. */
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static EVP_PKEY *key;
static char *key_path;

static EVP_PKEY *load_key(const char *path, const char **error_r)
{
	pthread_mutex_lock(&key_lock);
	if (key && key_path && strcmp(key_path, path) == 0) {
		pthread_mutex_unlock(&key_lock);
		return key;
	}
	EVP_PKEY *loaded = NULL;
	BIO *bio = BIO_new_file(path, "r");
	if (bio) {
		loaded = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		if (loaded == NULL) {
			/* Or a certificate carrying the key. */
			(void)BIO_reset(bio);
			ERR_clear_error();
			X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
			loaded = cert ? X509_get_pubkey(cert) : NULL;
			X509_free(cert);
		}
		BIO_free(bio);
	}
	if (loaded == NULL) {
		*error_r = error_fmt("auth.oauth.public_key %s: no PEM public key", path);
		pthread_mutex_unlock(&key_lock);
		return NULL;
	}
	EVP_PKEY_free(key);
	free(key_path);
	key = loaded;
	key_path = xstrdup(path);
	pthread_mutex_unlock(&key_lock);
	return key;
}

/* Decodes one base64url part into a fresh NUL-terminated buffer. */
static unsigned char *decode_part(const char *text, size_t len, size_t *out_len)
{
	unsigned char *out = xmalloc(base64_decoded_max(len) + 1);
	const char *error;
	long n =
	    base64_decode(BASE64_URL, text, len, out, base64_decoded_max(len), &error);
	if (n < 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	*out_len = (size_t)n;
	return out;
}

/* JWS ES256 signatures are r || s (RFC 7518 3.4); OpenSSL wants DER. */
static unsigned char *es256_to_der(const unsigned char *sig, size_t len, size_t *der_len)
{
	if (len != 64)
		return NULL;
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
	unsigned char *der = NULL;
	if (s && r && ss && ECDSA_SIG_set0(s, r, ss) == 1) {
		r = ss = NULL; /* owned by s now */
		int n = i2d_ECDSA_SIG(s, &der);
		*der_len = n > 0 ? (size_t)n : 0;
	}
	BN_free(r);
	BN_free(ss);
	ECDSA_SIG_free(s);
	return der;
}

/* Verifies the JWS signature over "header.payload" with alg. */
static int check_signature(EVP_PKEY *pkey, const char *alg, const char *signed_part,
                           size_t signed_len, const unsigned char *sig, size_t sig_len,
                           const char **error_r)
{
	int type = EVP_PKEY_get_base_id(pkey);
	const EVP_MD *md = EVP_sha256();
	bool pss = false;
	if (strcmp(alg, "RS256") == 0 || strcmp(alg, "PS256") == 0) {
		pss = alg[0] == 'P';
		if (type != EVP_PKEY_RSA) {
			*error_r = "token algorithm does not match the key";
			return -1;
		}
	} else if (strcmp(alg, "ES256") == 0) {
		if (type != EVP_PKEY_EC) {
			*error_r = "token algorithm does not match the key";
			return -1;
		}
	} else if (strcmp(alg, "EdDSA") == 0) {
		if (type != EVP_PKEY_ED25519) {
			*error_r = "token algorithm does not match the key";
			return -1;
		}
		md = NULL;
	} else {
		*error_r = error_fmt("token algorithm %s is not accepted", alg);
		return -1;
	}
	unsigned char *der = NULL;
	if (type == EVP_PKEY_EC) {
		der = es256_to_der(sig, sig_len, &sig_len);
		if (der == NULL) {
			*error_r = "malformed ES256 signature";
			return -1;
		}
		sig = der;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = ctx && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) == 1;
	if (ok && pss)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
	ok = ok && EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)signed_part,
	                            signed_len) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	ERR_clear_error();
	if (!ok) {
		*error_r = "token signature does not verify";
		return -1;
	}
	return 0;
}

static bool audience_matches(json_t *aud, const char *expected)
{
	if (json_is_string(aud))
		return strcmp(json_string_value(aud), expected) == 0;
	size_t i;
	json_t *item;
	json_array_foreach(aud, i, item)
	{
		if (json_is_string(item) &&
		    strcmp(json_string_value(item), expected) == 0)
			return true;
	}
	return false;
}

static int check_claims(const struct auth_config *auth, json_t *claims, time_t now,
                        char *user, size_t user_size, const char **error_r)
{
	json_t *iss = json_object_get(claims, "iss");
	if (!json_is_string(iss) ||
	    strcmp(json_string_value(iss), auth->oauth_issuer) != 0) {
		*error_r = "token issuer is not the configured one";
		return -1;
	}
	json_t *aud = json_object_get(claims, "aud");
	if (aud == NULL || !audience_matches(aud, auth->oauth_audience)) {
		*error_r = "token audience is not ours";
		return -1;
	}
	json_t *exp = json_object_get(claims, "exp");
	if (!json_is_number(exp)) {
		*error_r = "token has no expiry";
		return -1;
	}
	if ((double)now >= json_number_value(exp) + JWT_LEEWAY_SECONDS) {
		*error_r = "token has expired";
		return -1;
	}
	json_t *nbf = json_object_get(claims, "nbf");
	if (nbf && (!json_is_number(nbf) ||
	            json_number_value(nbf) > (double)now + JWT_LEEWAY_SECONDS)) {
		*error_r = "token is not valid yet";
		return -1;
	}
	json_t *who = json_object_get(claims, auth->oauth_user_claim);
	const char *name = json_is_string(who) ? json_string_value(who) : NULL;
	if (name == NULL || name[0] == '\0' || strlen(name) >= user_size) {
		*error_r = "token names no user";
		return -1;
	}
	memcpy(user, name, strlen(name) + 1);
	return 0;
}

int jwt_verify(const struct auth_config *auth, const char *token, size_t len, time_t now,
               char *user, size_t user_size, const char **error_r)
{
	if (auth->oauth_public_key == NULL) {
		*error_r = "no auth.oauth configured";
		return -1;
	}
	if (len > TOKEN_MAX) {
		*error_r = "token too long";
		return -1;
	}
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 =
	    dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
		*error_r = "token is not header.payload.signature";
		return -1;
	}
	EVP_PKEY *pkey = load_key(auth->oauth_public_key, error_r);
	if (pkey == NULL)
		return -1;
	size_t header_len, payload_len, sig_len;
	unsigned char *header = decode_part(token, (size_t)(dot1 - token), &header_len);
	unsigned char *payload =
	    decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), &payload_len);
	unsigned char *sig =
	    decode_part(dot2 + 1, len - (size_t)(dot2 + 1 - token), &sig_len);
	json_t *jheader = header ? json_loadb((char *)header, header_len, 0, NULL) : NULL;
	json_t *claims =
	    payload ? json_loadb((char *)payload, payload_len, 0, NULL) : NULL;
	int r = -1;
	json_t *alg = jheader ? json_object_get(jheader, "alg") : NULL;
	if (sig == NULL || !json_is_object(jheader) || !json_is_object(claims) ||
	    !json_is_string(alg))
		*error_r = "token is not a JWS with a JSON header and claims";
	else if (json_object_get(jheader, "crit"))
		*error_r = "token has critical header parameters"; /* RFC 7515 4.1.11 */
	else if (check_signature(pkey, json_string_value(alg), token,
	                         (size_t)(dot2 - token), sig, sig_len, error_r) == 0 &&
	         check_claims(auth, claims, now, user, user_size, error_r) == 0)
		r = 0;
	json_decref(jheader);
	json_decref(claims);
	free(header);
	free(payload);
	free(sig);
	return r;
}
