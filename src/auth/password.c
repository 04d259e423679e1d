/*
 * password.c — password hashing, verification and import (see password.h).
 */
/* CRAM-MD5 keeps HMAC-MD5 key states, as Dovecot does, so the server
 * never stores the password itself; only the low-level MD5 interface
 * exposes those states. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "auth/password.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "proto/base64.h"

#define ARGON2ID_PREFIX "{ARGON2ID}"
#define SHA512_PREFIX   "{SHA512-CRYPT}"
#define BLF_PREFIX      "{BLF-CRYPT}"

int password_init(const char **error_r)
{
	if (sodium_init() < 0) {
		*error_r = "libsodium failed to initialise";
		return -1;
	}
	return 0;
}

static unsigned long long argon2_ops(const struct password_config *cost)
{
	return cost->argon2_passes;
}

static size_t argon2_memory(const struct password_config *cost)
{
	return (size_t)cost->argon2_memory_kib * 1024;
}

static int make_argon2id(const struct password_config *cost, const char *password,
                         size_t len, struct buf *out, const char **error_r)
{
	char hash[crypto_pwhash_argon2id_STRBYTES];
	if (crypto_pwhash_argon2id_str(hash, password, len, argon2_ops(cost),
	                               argon2_memory(cost)) != 0) {
		*error_r = "argon2id hashing failed (out of memory?)";
		return -1;
	}
	buf_reset(out);
	buf_append_str(out, ARGON2ID_PREFIX);
	buf_append_str(out, hash);
	sodium_memzero(hash, sizeof(hash));
	return 0;
}

/* HMAC(key, text) with SHA-256 (RFC 5802 HMAC()). */
static void hmac_sha256(const unsigned char *key, size_t key_len, const char *text,
                        unsigned char out[SCRAM_KEY_LEN])
{
	unsigned int out_len = SCRAM_KEY_LEN;
	HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)text, strlen(text),
	     out, &out_len);
}

void scram_keys_derive(const char *password, size_t len, const unsigned char *salt,
                       size_t salt_len, unsigned iterations, struct scram_keys *keys)
{
	unsigned char salted[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN];
	PKCS5_PBKDF2_HMAC(password, (int)len, salt, (int)salt_len, (int)iterations,
	                  EVP_sha256(), SCRAM_KEY_LEN, salted);
	hmac_sha256(salted, sizeof(salted), "Client Key", client_key);
	SHA256(client_key, sizeof(client_key), keys->stored_key);
	hmac_sha256(salted, sizeof(salted), "Server Key", keys->server_key);
	keys->iterations = iterations;
	memcpy(keys->salt, salt, salt_len);
	keys->salt_len = salt_len;
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(client_key, sizeof(client_key));
}

static void append_base64(struct buf *out, const unsigned char *data, size_t len)
{
	char text[128];
	base64_encode(BASE64_STANDARD, data, len, text, sizeof(text));
	buf_append_str(out, text);
}

static void make_scram(const struct password_config *cost, const char *password,
                       size_t len, struct buf *out)
{
	unsigned char salt[SCRAM_SALT_LEN];
	RAND_bytes(salt, sizeof(salt));
	struct scram_keys keys;
	scram_keys_derive(password, len, salt, sizeof(salt), cost->scram_iterations,
	                  &keys);
	buf_reset(out);
	buf_appendf(out, "%u,", keys.iterations);
	append_base64(out, keys.salt, keys.salt_len);
	buf_append_char(out, ',');
	append_base64(out, keys.stored_key, sizeof(keys.stored_key));
	buf_append_char(out, ',');
	append_base64(out, keys.server_key, sizeof(keys.server_key));
	OPENSSL_cleanse(&keys, sizeof(keys));
}

int scram_keys_parse(const char *stored, struct scram_keys *keys)
{
	char *end;
	unsigned long iterations = strtoul(stored, &end, 10);
	if (end == stored || *end != ',' || iterations < 1 || iterations > 10000000)
		return -1;
	const char *field = end + 1;
	unsigned char *targets[3] = {keys->salt, keys->stored_key, keys->server_key};
	size_t sizes[3] = {sizeof(keys->salt), SCRAM_KEY_LEN, SCRAM_KEY_LEN};
	for (int i = 0; i < 3; i++) {
		const char *comma = strchr(field, ',');
		size_t len = comma ? (size_t)(comma - field) : strlen(field);
		if ((i < 2) != (comma != NULL))
			return -1;
		unsigned char decoded[96];
		const char *error;
		long n = base64_decode(BASE64_STANDARD, field, len, decoded,
		                       sizeof(decoded), &error);
		if (n <= 0 || (size_t)n > sizes[i] ||
		    (i > 0 && (size_t)n != SCRAM_KEY_LEN))
			return -1;
		memcpy(targets[i], decoded, (size_t)n);
		if (i == 0)
			keys->salt_len = (size_t)n;
		field = comma ? comma + 1 : field + len;
	}
	keys->iterations = (unsigned)iterations;
	return 0;
}

/* RFC 2104 with an MD5 key: the states after the padded inner and outer
 * keys, as four little-endian words each (Dovecot's {CRAM-MD5} form). */
static void cram_md5_states(const char *password, size_t len, uint32_t states[8])
{
	unsigned char key[64] = {0};
	if (len > sizeof(key))
		MD5((const unsigned char *)password, len, key);
	else
		memcpy(key, password, len);
	for (int half = 0; half < 2; half++) {
		unsigned char pad[64];
		for (size_t i = 0; i < sizeof(pad); i++)
			pad[i] = key[i] ^ (half == 0 ? 0x36 : 0x5c);
		MD5_CTX ctx;
		MD5_Init(&ctx);
		MD5_Update(&ctx, pad, sizeof(pad));
		states[half * 4 + 0] = ctx.A;
		states[half * 4 + 1] = ctx.B;
		states[half * 4 + 2] = ctx.C;
		states[half * 4 + 3] = ctx.D;
		OPENSSL_cleanse(&ctx, sizeof(ctx));
		OPENSSL_cleanse(pad, sizeof(pad));
	}
	OPENSSL_cleanse(key, sizeof(key));
}

static void make_cram_md5(const char *password, size_t len, struct buf *out)
{
	uint32_t states[8];
	cram_md5_states(password, len, states);
	buf_reset(out);
	for (int i = 0; i < 8; i++)
		buf_appendf(out, "%08x", states[i]);
	OPENSSL_cleanse(states, sizeof(states));
}

static int parse_cram_md5(const char *stored, uint32_t states[8])
{
	if (strlen(stored) != 64)
		return -1;
	for (int i = 0; i < 8; i++) {
		char word[9];
		memcpy(word, stored + i * 8, 8);
		word[8] = '\0';
		char *end;
		states[i] = (uint32_t)strtoul(word, &end, 16);
		if (*end != '\0')
			return -1;
	}
	return 0;
}

/* Finishes one HMAC-MD5 half from a stored state (64 octets consumed). */
static void md5_from_state(const uint32_t state[4], const void *data, size_t len,
                           unsigned char digest[16])
{
	MD5_CTX ctx;
	MD5_Init(&ctx);
	ctx.A = state[0];
	ctx.B = state[1];
	ctx.C = state[2];
	ctx.D = state[3];
	ctx.Nl = 64 * 8;
	MD5_Update(&ctx, data, len);
	MD5_Final(digest, &ctx);
}

bool cram_md5_verify(const char *stored, const char *challenge, size_t challenge_len,
                     const char *hex_digest, size_t hex_len)
{
	uint32_t states[8];
	if (stored == NULL || parse_cram_md5(stored, states) < 0 || hex_len != 32)
		return false;
	unsigned char inner[16], digest[16];
	md5_from_state(states, challenge, challenge_len, inner);
	md5_from_state(states + 4, inner, sizeof(inner), digest);
	char expected[33];
	for (int i = 0; i < 16; i++)
		snprintf(expected + i * 2, 3, "%02x", digest[i]);
	/* RFC 2195 2: lower-case hex; accept either case from clients. */
	char given[33];
	for (int i = 0; i < 32; i++) {
		char c = hex_digest[i];
		given[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
	}
	given[32] = '\0';
	return CRYPTO_memcmp(expected, given, 32) == 0;
}

int password_make(const struct password_config *cost, const char *password, size_t len,
                  struct password_secrets *out, const char **error_r)
{
	if (make_argon2id(cost, password, len, &out->hash, error_r) < 0)
		return -1;
	make_scram(cost, password, len, &out->scram);
	buf_reset(&out->cram_md5);
	if (cost->cram_md5)
		make_cram_md5(password, len, &out->cram_md5);
	return 0;
}

void password_secrets_free(struct password_secrets *secrets)
{
	struct buf *all[] = {&secrets->hash, &secrets->scram, &secrets->cram_md5};
	for (size_t i = 0; i < 3; i++) {
		if (all[i]->data)
			OPENSSL_cleanse(all[i]->data, all[i]->cap);
		buf_free(all[i]);
	}
}

/* crypt(3) with a constant-time comparison of the result. */
static enum password_result verify_crypt(const char *setting, const char *password,
                                         size_t len)
{
	if (memchr(password, '\0', len))
		return PASSWORD_MISMATCH; /* crypt(3) would stop at it */
	char *phrase = xstrndup(password, len);
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	const char *result = crypt_rn(phrase, setting, data, (int)sizeof(*data));
	enum password_result r = PASSWORD_BAD_HASH;
	/* A sound hash reproduces its own length; anything else is damaged. */
	size_t n = strlen(setting);
	if (result != NULL && result[0] != '*' && strlen(result) == n)
		r = CRYPTO_memcmp(result, setting, n) == 0 ? PASSWORD_OK_REHASH
		                                           : PASSWORD_MISMATCH;
	OPENSSL_cleanse(phrase, len);
	OPENSSL_cleanse(data, sizeof(*data));
	free(phrase);
	free(data);
	return r;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum password_result password_verify(const struct password_config *cost,
                                     const char *stored, const char *password, size_t len)
{
	if (has_prefix(stored, ARGON2ID_PREFIX)) {
		const char *hash = stored + strlen(ARGON2ID_PREFIX);
		if (!has_prefix(hash, "$argon2id$"))
			return PASSWORD_BAD_HASH;
		if (crypto_pwhash_argon2id_str_verify(hash, password, len) != 0)
			return PASSWORD_MISMATCH;
		return crypto_pwhash_argon2id_str_needs_rehash(hash, argon2_ops(cost),
		                                               argon2_memory(cost)) == 0
		           ? PASSWORD_OK
		           : PASSWORD_OK_REHASH;
	}
	if (has_prefix(stored, SHA512_PREFIX)) {
		const char *hash = stored + strlen(SHA512_PREFIX);
		return has_prefix(hash, "$6$") ? verify_crypt(hash, password, len)
		                               : PASSWORD_BAD_HASH;
	}
	if (has_prefix(stored, BLF_PREFIX)) {
		const char *hash = stored + strlen(BLF_PREFIX);
		return has_prefix(hash, "$2") ? verify_crypt(hash, password, len)
		                              : PASSWORD_BAD_HASH;
	}
	return PASSWORD_BAD_HASH;
}

void password_verify_dummy(const struct password_config *cost, const char *password,
                           size_t len)
{
	/* One dummy hash per process and cost, made on first use. */
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char dummy[crypto_pwhash_argon2id_STRBYTES];
	static struct password_config dummy_cost;
	pthread_mutex_lock(&lock);
	if (dummy[0] == '\0' || dummy_cost.argon2_passes != cost->argon2_passes ||
	    dummy_cost.argon2_memory_kib != cost->argon2_memory_kib) {
		unsigned char random[16];
		RAND_bytes(random, sizeof(random));
		if (crypto_pwhash_argon2id_str(dummy, (const char *)random,
		                               sizeof(random), argon2_ops(cost),
		                               argon2_memory(cost)) != 0)
			dummy[0] = '\0';
		dummy_cost = *cost;
	}
	char hash[crypto_pwhash_argon2id_STRBYTES];
	memcpy(hash, dummy, sizeof(hash));
	pthread_mutex_unlock(&lock);
	if (hash[0] && crypto_pwhash_argon2id_str_verify(hash, password, len) == 0)
		hash[0] = '\0'; /* a random password matched: nothing to do */
}

int password_import(const char *field, struct buf *out, bool *plain_r,
                    const char **error_r)
{
	*plain_r = false;
	buf_reset(out);
	static const struct {
		const char *scheme, *crypt_prefix, *stored_prefix;
	} schemes[] = {
	    {ARGON2ID_PREFIX, "$argon2id$", ARGON2ID_PREFIX},
	    {SHA512_PREFIX, "$6$", SHA512_PREFIX},
	    {BLF_PREFIX, "$2", BLF_PREFIX},
	    {"", "$argon2id$", ARGON2ID_PREFIX},
	    {"", "$6$", SHA512_PREFIX},
	    {"", "$2y$", BLF_PREFIX},
	    {"", "$2b$", BLF_PREFIX},
	    {"", "$2a$", BLF_PREFIX},
	};
	if (has_prefix(field, "{PLAIN}") || has_prefix(field, "{CLEAR}")) {
		buf_append_str(out, field + 7);
		*plain_r = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].scheme);
		if (strncmp(field, schemes[i].scheme, n) != 0 ||
		    !has_prefix(field + n, schemes[i].crypt_prefix))
			continue;
		const char *hash = field + n;
		/* A crypt string is printable ASCII without ':' or spaces. */
		for (const char *p = hash; *p; p++)
			if (*p <= ' ' || *p > '~' || *p == ':') {
				*error_r = "invalid character in password hash";
				return -1;
			}
		if (strlen(hash) < 20) {
			*error_r = "password hash is too short";
			return -1;
		}
		buf_append_str(out, schemes[i].stored_prefix);
		buf_append_str(out, hash);
		return 0;
	}
	*error_r = "unsupported password scheme (use ARGON2ID, SHA512-CRYPT, "
	           "BLF-CRYPT or PLAIN)";
	return -1;
}

int password_from_config(const char *value, struct buf *out, bool *plain_r,
                         const char **error_r)
{
	static const char *const crypt_prefixes[] = {"$argon2id$", "$6$", "$2y$", "$2b$",
	                                             "$2a$"};
	bool hashed = value[0] == '{';
	for (size_t i = 0;
	     !hashed && i < sizeof(crypt_prefixes) / sizeof(*crypt_prefixes); i++)
		hashed = has_prefix(value, crypt_prefixes[i]);
	if (hashed)
		return password_import(value, out, plain_r, error_r);
	buf_reset(out);
	buf_append_str(out, value);
	*plain_r = true;
	return 0;
}
