/*
 * password.h — password storage and verification.
 *
 * A user's password is stored as "{SCHEME}data", as Dovecot writes it:
 *
 *   {ARGON2ID}$argon2id$v=19$m=...   what petrel writes (libsodium)
 *   {SHA512-CRYPT}$6$...            imported, verified with crypt(3)
 *   {BLF-CRYPT}$2y$...              imported, verified with crypt(3)
 *
 * A successful login with an imported scheme, or with argon2id at a cost
 * other than the configured one, asks the caller to store a fresh hash
 * (PASSWORD_OK_REHASH). Beside the hash, two protocol secrets are derived
 * when a password is set: SCRAM-SHA-256 keys (RFC 5802/7677), which let
 * SCRAM work without the password, and, only when CRAM-MD5 is enabled,
 * the HMAC-MD5 key states Dovecot stores for CRAM-MD5. Both are
 * password-equivalent for their own protocol, so they are as secret as
 * the hash.
 */
#ifndef PETREL_PASSWORD_H
#define PETREL_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/config.h"

/* Stored for an account that has no password yet: matches nothing. */
#define PASSWORD_NO_LOGIN "{NOLOGIN}"

#define SCRAM_KEY_LEN  32 /* SHA-256 */
#define SCRAM_SALT_LEN 16

/* The secrets stored for one password. */
struct password_secrets {
	struct buf hash;     /* "{ARGON2ID}$argon2id$..." */
	struct buf scram;    /* "4096,<salt b64>,<StoredKey b64>,<ServerKey b64>" */
	struct buf cram_md5; /* 64 hex digits, or empty when CRAM-MD5 is off */
};

/* SCRAM-SHA-256 keys as stored (RFC 5802 3). */
struct scram_keys {
	unsigned iterations;
	unsigned char salt[64];
	size_t salt_len;
	unsigned char stored_key[SCRAM_KEY_LEN];
	unsigned char server_key[SCRAM_KEY_LEN];
};

enum password_result {
	PASSWORD_MISMATCH,
	PASSWORD_OK,
	PASSWORD_OK_REHASH, /* right, but stored with an old scheme or cost */
	PASSWORD_BAD_HASH,  /* the stored value is not a scheme we know */
};

/* Must run once before any other call (sodium_init). */
int password_init(const char **error_r);

/* Derives every secret for password under the configured costs. */
int password_make(const struct password_config *cost, const char *password, size_t len,
                  struct password_secrets *out, const char **error_r);
void password_secrets_free(struct password_secrets *secrets);

/* Checks password against a stored "{SCHEME}data" in constant time per
 * scheme. Slow by design: run it off the event loop. */
enum password_result password_verify(const struct password_config *cost,
                                     const char *stored, const char *password,
                                     size_t len);

/* Spends the time a real argon2id verification would, for a user who
 * does not exist, so that timing reveals nothing (no enumeration). */
void password_verify_dummy(const struct password_config *cost, const char *password,
                           size_t len);

/*
 * Accepts a hash from a Dovecot passwd-file: {ARGON2ID}, {SHA512-CRYPT},
 * {BLF-CRYPT}, or a bare $argon2id$/$6$/$2y$/$2b$ crypt string. {PLAIN}
 * and {CLEAR} are returned as plaintext for the caller to hash
 * (*plain_r = true). Returns 0 with the stored form in out, or -1.
 */
int password_import(const char *field, struct buf *out, bool *plain_r,
                    const char **error_r);

/*
 * A password as the YAML gives it: a "{SCHEME}..." value or a bare crypt
 * string goes through password_import (a hash, or {PLAIN}); anything
 * else is the password itself (*plain_r = true). 0, or -1 for a hash
 * petrel cannot take.
 */
int password_from_config(const char *value, struct buf *out, bool *plain_r,
                         const char **error_r);

/* Parses a stored SCRAM value; -1 if malformed. */
int scram_keys_parse(const char *stored, struct scram_keys *keys);
/* SaltedPassword-derived keys (RFC 5802 3) for password, salt, i. */
void scram_keys_derive(const char *password, size_t len, const unsigned char *salt,
                       size_t salt_len, unsigned iterations, struct scram_keys *keys);

/* RFC 2195 CRAM-MD5: checks the hex digest the client sent against the
 * stored key states. */
bool cram_md5_verify(const char *stored, const char *challenge, size_t challenge_len,
                     const char *hex_digest, size_t hex_len);

#endif
