/*
 * test-password.c — password storage: argon2id round trip and rehash,
 * hashes made by other software (OpenSSL, Python's crypt, PHP), Dovecot
 * passwd-file import, SCRAM-SHA-256 keys against RFC 7677's exchange,
 * and CRAM-MD5 against RFC 2195's example.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <string.h>

#include "auth/password.h"
#include "proto/base64.h"

static const struct password_config cheap = {
    .argon2_passes = 1, .argon2_memory_kib = 1024, .scram_iterations = 4096};

#define SECRET "sekrit passw0rd"

static enum password_result check(const struct password_config *cost, const char *stored,
                                  const char *password)
{
	return password_verify(cost, stored, password, strlen(password));
}

static void test_argon2id_round_trip(void **state)
{
	(void)state;
	const char *error;
	struct password_secrets s = {BUF_INIT, BUF_INIT, BUF_INIT};
	assert_int_equal(password_make(&cheap, SECRET, strlen(SECRET), &s, &error), 0);
	assert_true(
	    strncmp(s.hash.data, "{ARGON2ID}$argon2id$v=19$m=1024,t=1,p=1$", 40) == 0);
	assert_int_equal(check(&cheap, s.hash.data, SECRET), PASSWORD_OK);
	assert_int_equal(check(&cheap, s.hash.data, "sekrit passw0rD"),
	                 PASSWORD_MISMATCH);
	assert_int_equal(check(&cheap, s.hash.data, ""), PASSWORD_MISMATCH);
	/* A NUL inside the password is part of it, not its end. */
	assert_int_equal(
	    password_verify(&cheap, s.hash.data, SECRET "\0x", strlen(SECRET) + 2),
	    PASSWORD_MISMATCH);
	/* Stored at another cost: right, and asks for a fresh hash. */
	struct password_config dearer = cheap;
	dearer.argon2_passes = 2;
	assert_int_equal(check(&dearer, s.hash.data, SECRET), PASSWORD_OK_REHASH);
	assert_int_equal(s.cram_md5.len, 0); /* CRAM-MD5 off: nothing stored */
	password_secrets_free(&s);
}

static void test_foreign_hashes(void **state)
{
	(void)state;
	/* openssl passwd -6 */
	const char *sha512 =
	    "{SHA512-CRYPT}$6$Fp5Lq1bTQ2s8yZ9w$3cXq5BSnVW6qbSkQiW466GyHAiX0"
	    "S9NsgfIrx0s4qq.rzTurS4XfeCDCwpLIOSh1I7pexKk0QItjMdgkuOzZb1";
	assert_int_equal(check(&cheap, sha512, SECRET), PASSWORD_OK_REHASH);
	assert_int_equal(check(&cheap, sha512, "wrong"), PASSWORD_MISMATCH);
	/* Python crypt, bcrypt; Dovecot writes $2y$, the same algorithm */
	const char *blf =
	    "{BLF-CRYPT}$2b$05$abcdefghijklmnopqrstuuFRxmonlfgwejy8zd3S3dxIuFQM/"
	    "H5Yq";
	assert_int_equal(check(&cheap, blf, SECRET), PASSWORD_OK_REHASH);
	assert_int_equal(check(&cheap, blf, "wrong"), PASSWORD_MISMATCH);
	const char *blf_y =
	    "{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuuFRxmonlfgwejy8zd3S3dxIuFQM/"
	    "H5Yq";
	assert_int_equal(check(&cheap, blf_y, SECRET), PASSWORD_OK_REHASH);
	/* PHP password_hash(PASSWORD_ARGON2ID): another implementation */
	const char *php =
	    "{ARGON2ID}$argon2id$v=19$m=1024,t=2,p=1$Y3h4TWFxdGRRem9GNmZBMQ$"
	    "x7AxktHaddtvKvNvWHmrgRYukpM7TVpzbKYuXoPxNKA";
	assert_int_equal(check(&cheap, php, SECRET), PASSWORD_OK_REHASH);
	assert_int_equal(check(&cheap, php, "wrong"), PASSWORD_MISMATCH);
	/* Unknown or damaged: never a match. */
	assert_int_equal(check(&cheap, "{MD5-CRYPT}$1$abc$def", SECRET),
	                 PASSWORD_BAD_HASH);
	assert_int_equal(check(&cheap, "{SHA512-CRYPT}$6$", SECRET), PASSWORD_BAD_HASH);
	assert_int_equal(check(&cheap, "{SHA512-CRYPT}$5$x$y", SECRET),
	                 PASSWORD_BAD_HASH);
	assert_int_equal(check(&cheap, PASSWORD_NO_LOGIN, ""), PASSWORD_BAD_HASH);
	assert_int_equal(check(&cheap, "", ""), PASSWORD_BAD_HASH);
}

static void test_import(void **state)
{
	(void)state;
	struct buf out = BUF_INIT;
	bool plain;
	const char *error;
	static const char *const good[][2] = {
	    {"{SHA512-CRYPT}$6$abcdefgh$0123456789012345678901234567890",
	     "{SHA512-CRYPT}$6$abcdefgh$0123456789012345678901234567890"},
	    {"$6$abcdefgh$0123456789012345678901234567890",
	     "{SHA512-CRYPT}$6$abcdefgh$0123456789012345678901234567890"},
	    {"{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuu",
	     "{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuu"},
	    {"$2b$05$abcdefghijklmnopqrstuu", "{BLF-CRYPT}$2b$05$abcdefghijklmnopqrstuu"},
	    {"{ARGON2ID}$argon2id$v=19$m=1024,t=2,p=1$c2FsdA$aGFzaA",
	     "{ARGON2ID}$argon2id$v=19$m=1024,t=2,p=1$c2FsdA$aGFzaA"},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(password_import(good[i][0], &out, &plain, &error), 0);
		assert_string_equal(out.data, good[i][1]);
		assert_false(plain);
	}
	assert_int_equal(password_import("{PLAIN}hello", &out, &plain, &error), 0);
	assert_true(plain);
	assert_string_equal(out.data, "hello");
	static const char *const bad[] = {
	    "{MD5-CRYPT}$1$abc$defdefdefdefdefdefdef",
	    "{SHA512-CRYPT}$1$abc$defdefdefdefdefdefdef",
	    "{SHA512-CRYPT}$6$short",
	    "{SHA512-CRYPT}$6$abc def$0123456789012345678901",
	    "{SSHA}abcdefabcdefabcdefabcdef",
	    "plaintext-without-scheme",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		assert_int_equal(password_import(bad[i], &out, &plain, &error), -1);
		assert_non_null(error);
	}
	buf_free(&out);
}

static void decode(const char *b64, unsigned char *out, size_t size, size_t *len)
{
	const char *error;
	long n = base64_decode(BASE64_STANDARD, b64, strlen(b64), out, size, &error);
	assert_true(n >= 0);
	*len = (size_t)n;
}

/* RFC 7677 3: the whole exchange, checked from the stored keys alone. */
static void test_scram_rfc7677(void **state)
{
	(void)state;
	unsigned char salt[32], proof[32], signature[32];
	size_t salt_len, proof_len, signature_len;
	decode("W22ZaJ0SNY7soEsUEjb6gQ==", salt, sizeof(salt), &salt_len);
	decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", proof, sizeof(proof),
	       &proof_len);
	decode("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", signature,
	       sizeof(signature), &signature_len);
	struct scram_keys keys;
	scram_keys_derive("pencil", 6, salt, salt_len, 4096, &keys);
	const char *auth_message =
	    "n=user,r=rOprNGfwEbeRWgbNEkqO,"
	    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
	    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
	unsigned char client_signature[32], client_key[32], stored[32], server_sig[32];
	unsigned int len = 32;
	HMAC(EVP_sha256(), keys.stored_key, 32, (const unsigned char *)auth_message,
	     strlen(auth_message), client_signature, &len);
	for (int i = 0; i < 32; i++)
		client_key[i] = proof[i] ^ client_signature[i];
	SHA256(client_key, 32, stored);
	assert_memory_equal(stored, keys.stored_key, 32);
	HMAC(EVP_sha256(), keys.server_key, 32, (const unsigned char *)auth_message,
	     strlen(auth_message), server_sig, &len);
	assert_memory_equal(server_sig, signature, 32);

	/* The stored form parses back to the same keys. */
	const char *error;
	struct password_secrets s = {BUF_INIT, BUF_INIT, BUF_INIT};
	assert_int_equal(password_make(&cheap, "pencil", 6, &s, &error), 0);
	struct scram_keys parsed;
	assert_int_equal(scram_keys_parse(s.scram.data, &parsed), 0);
	assert_int_equal(parsed.iterations, 4096);
	struct scram_keys again;
	scram_keys_derive("pencil", 6, parsed.salt, parsed.salt_len, 4096, &again);
	assert_memory_equal(again.stored_key, parsed.stored_key, 32);
	assert_memory_equal(again.server_key, parsed.server_key, 32);
	password_secrets_free(&s);

	static const char *const bad[] = {"",
	                                  "4096",
	                                  "4096,c2FsdA==",
	                                  "0,c2FsdA==,a,b",
	                                  "4096,c2FsdA==,c2FsdA==,c2FsdA==",
	                                  "x,c2FsdA==,a,b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(scram_keys_parse(bad[i], &parsed), -1);
}

/* RFC 2195 2: tim / tanstaaftanstaaf. */
static void test_cram_md5_rfc2195(void **state)
{
	(void)state;
	struct password_config with_cram = cheap;
	with_cram.cram_md5 = true;
	const char *error;
	struct password_secrets s = {BUF_INIT, BUF_INIT, BUF_INIT};
	assert_int_equal(password_make(&with_cram, "tanstaaftanstaaf", 16, &s, &error),
	                 0);
	assert_int_equal(s.cram_md5.len, 64);
	const char *challenge = "<1896.697170952@postoffice.reston.mci.net>";
	assert_true(cram_md5_verify(s.cram_md5.data, challenge, strlen(challenge),
	                            "b913a602c7eda7a495b4e6e7334d3890", 32));
	assert_true(cram_md5_verify(s.cram_md5.data, challenge, strlen(challenge),
	                            "B913A602C7EDA7A495B4E6E7334D3890", 32));
	assert_false(cram_md5_verify(s.cram_md5.data, challenge, strlen(challenge),
	                             "b913a602c7eda7a495b4e6e7334d3891", 32));
	assert_false(cram_md5_verify(s.cram_md5.data, "<other@challenge>", 17,
	                             "b913a602c7eda7a495b4e6e7334d3890", 32));
	assert_false(cram_md5_verify(s.cram_md5.data, challenge, strlen(challenge),
	                             "b913a602c7eda7a495b4e6e7334d389", 31));
	assert_false(cram_md5_verify(NULL, challenge, strlen(challenge),
	                             "b913a602c7eda7a495b4e6e7334d3890", 32));
	password_secrets_free(&s);
	/* A key longer than a block is hashed first (RFC 2104 2). */
	char long_password[100];
	memset(long_password, 'k', sizeof(long_password));
	assert_int_equal(
	    password_make(&with_cram, long_password, sizeof(long_password), &s, &error),
	    0);
	unsigned char digest[16];
	unsigned int len = 16;
	HMAC(EVP_md5(), long_password, sizeof(long_password), (const unsigned char *)"c",
	     1, digest, &len);
	char hex[33];
	for (int i = 0; i < 16; i++)
		snprintf(hex + i * 2, 3, "%02x", digest[i]);
	assert_true(cram_md5_verify(s.cram_md5.data, "c", 1, hex, 32));
	password_secrets_free(&s);
}

static void test_dummy(void **state)
{
	(void)state;
	/* Must run (and cost) without a stored hash to compare with. */
	password_verify_dummy(&cheap, SECRET, strlen(SECRET));
	password_verify_dummy(&cheap, "", 0);
}

static int setup(void **state)
{
	(void)state;
	const char *error;
	return password_init(&error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_argon2id_round_trip),
	    cmocka_unit_test(test_foreign_hashes),
	    cmocka_unit_test(test_import),
	    cmocka_unit_test(test_scram_rfc7677),
	    cmocka_unit_test(test_cram_md5_rfc2195),
	    cmocka_unit_test(test_dummy),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
