/*
 * sasl.h — the messages of SASL mechanisms, parsed (pure: no allocation,
 * results point into the caller's bytes). The mechanisms' logic lives in
 * auth/sasl.c; this is only syntax, so that it can be fuzzed alone.
 *
 * Every parser returns 0 with its struct filled, or -1 with *error_r.
 * Credentials are refused when they are empty where the RFC requires
 * something, contain NUL, or are not valid UTF-8 (Dovecot CVE-2019-11500
 * was a NUL inside a string).
 */
#ifndef PETREL_SASL_H
#define PETREL_SASL_H

#include <stdbool.h>
#include <stddef.h>

/* A (pointer, length) view into the parsed message. */
struct sasl_text {
	const char *data;
	size_t len;
};

/* RFC 4616: [authzid] NUL authcid NUL passwd */
struct sasl_plain {
	struct sasl_text authzid; /* len 0: none */
	struct sasl_text authcid;
	struct sasl_text password;
};
int sasl_plain_parse(const char *msg, size_t len, struct sasl_plain *out,
                     const char **error_r);

/* RFC 5802 7, client-first-message, without channel binding (we do not
 * offer -PLUS). Escaped saslnames ("=2C", "=3D") are decoded into the
 * caller's buffers. */
#define SASL_NAME_MAX 512
struct scram_client_first {
	char authzid[SASL_NAME_MAX + 1]; /* "" for none */
	char username[SASL_NAME_MAX + 1];
	struct sasl_text nonce;
	struct sasl_text bare;       /* client-first-message-bare */
	struct sasl_text gs2_header; /* "n,," or "y,a=...," */
};
int scram_client_first_parse(const char *msg, size_t len, struct scram_client_first *out,
                             const char **error_r);

/* RFC 5802 7, client-final-message */
struct scram_client_final {
	struct sasl_text channel_binding; /* the c= value, base64 */
	struct sasl_text nonce;
	struct sasl_text proof; /* the p= value, base64 */
	struct sasl_text without_proof;
};
int scram_client_final_parse(const char *msg, size_t len, struct scram_client_final *out,
                             const char **error_r);

/* RFC 7628 3.1 (OAUTHBEARER) and Google's XOAUTH2: the user named by
 * the client (authzid; XOAUTH2's user=) and the bearer token. */
struct sasl_bearer {
	struct sasl_text user;
	struct sasl_text token;
};
int sasl_oauthbearer_parse(const char *msg, size_t len, struct sasl_bearer *out,
                           const char **error_r);
int sasl_xoauth2_parse(const char *msg, size_t len, struct sasl_bearer *out,
                       const char **error_r);

/* RFC 2195: "user SP 32 hex digits" */
struct sasl_cram {
	struct sasl_text user;
	struct sasl_text digest;
};
int sasl_cram_md5_parse(const char *msg, size_t len, struct sasl_cram *out,
                        const char **error_r);

/* A SASL string: non-empty (unless allow_empty), no NUL, valid UTF-8. */
bool sasl_text_valid(const char *s, size_t len, bool allow_empty);

#endif
