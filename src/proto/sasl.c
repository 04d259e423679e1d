/*
 * sasl.c — SASL message syntax (see sasl.h).
 */
#include "proto/sasl.h"

#include <string.h>
#include <strings.h>

#include "proto/utf8.h"

/* RFC 4616 2: authcid and passwd up to 255 octets must work; more is
 * allowed, within what one AUTH line can carry anyway. */
#define SASL_FIELD_MAX 1024

bool sasl_text_valid(const char *s, size_t len, bool allow_empty)
{
	if (len == 0)
		return allow_empty;
	return len <= SASL_FIELD_MAX && memchr(s, '\0', len) == NULL &&
	       utf8_valid(s, len);
}

int sasl_plain_parse(const char *msg, size_t len, struct sasl_plain *out,
                     const char **error_r)
{
	const char *nul1 = memchr(msg, '\0', len);
	const char *nul2 =
	    nul1 ? memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - msg)) : NULL;
	if (nul2 == NULL) {
		*error_r = "PLAIN message needs two NUL separators";
		return -1;
	}
	out->authzid = (struct sasl_text){msg, (size_t)(nul1 - msg)};
	out->authcid = (struct sasl_text){nul1 + 1, (size_t)(nul2 - nul1 - 1)};
	out->password = (struct sasl_text){nul2 + 1, len - (size_t)(nul2 + 1 - msg)};
	/* A third NUL lands inside the password, where it is refused. */
	if (!sasl_text_valid(out->authzid.data, out->authzid.len, true) ||
	    !sasl_text_valid(out->authcid.data, out->authcid.len, false) ||
	    !sasl_text_valid(out->password.data, out->password.len, false)) {
		*error_r = "PLAIN credentials empty, too long, or not UTF-8 without NUL";
		return -1;
	}
	return 0;
}

/* RFC 5802 7 saslname: "=2C" is ',', "=3D" is '=', no other '=' or ','. */
static int decode_saslname(const char *in, size_t len, char *out, const char **error_r)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '=') {
			if (len - i >= 3 && in[i + 1] == '2' && in[i + 2] == 'C')
				c = ',';
			else if (len - i >= 3 && in[i + 1] == '3' && in[i + 2] == 'D')
				c = '=';
			else {
				*error_r = "bad escape in SCRAM name";
				return -1;
			}
			i += 2;
		} else if (c == ',' || c == '\0') {
			*error_r = "bad character in SCRAM name";
			return -1;
		}
		if (o >= SASL_NAME_MAX) {
			*error_r = "SCRAM name too long";
			return -1;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	if (!utf8_valid(out, o)) {
		*error_r = "SCRAM name is not UTF-8";
		return -1;
	}
	return 0;
}

/* The next comma-separated attribute "x=value" from msg[*pos..len). */
static int next_attribute(const char *msg, size_t len, size_t *pos, char *name,
                          struct sasl_text *value)
{
	if (*pos >= len)
		return -1;
	const char *start = msg + *pos;
	const char *comma = memchr(start, ',', len - *pos);
	size_t n = comma ? (size_t)(comma - start) : len - *pos;
	if (n < 2 || start[1] != '=')
		return -1;
	*name = start[0];
	*value = (struct sasl_text){start + 2, n - 2};
	*pos += n + (comma ? 1 : 0);
	return 0;
}

/* RFC 5802 7: printable ASCII except ','. */
static bool nonce_valid(const struct sasl_text *nonce)
{
	if (nonce->len == 0)
		return false;
	for (size_t i = 0; i < nonce->len; i++)
		if (nonce->data[i] < 0x21 || nonce->data[i] > 0x7e ||
		    nonce->data[i] == ',')
			return false;
	return true;
}

int scram_client_first_parse(const char *msg, size_t len, struct scram_client_first *out,
                             const char **error_r)
{
	memset(out, 0, sizeof(*out));
	if (memchr(msg, '\0', len)) {
		*error_r = "NUL in SCRAM message";
		return -1;
	}
	/* gs2-header: cbind-flag "," [authzid] "," */
	if (len < 3 || (msg[0] != 'n' && msg[0] != 'y')) {
		*error_r =
		    msg[0] == 'p' ? "channel binding is not offered" : "bad GS2 header";
		return -1;
	}
	if (msg[1] != ',') {
		*error_r = "bad GS2 header";
		return -1;
	}
	const char *second = memchr(msg + 2, ',', len - 2);
	if (second == NULL) {
		*error_r = "bad GS2 header";
		return -1;
	}
	size_t authz_len = (size_t)(second - (msg + 2));
	if (authz_len > 0) {
		if (authz_len < 3 || msg[2] != 'a' || msg[3] != '=' ||
		    decode_saslname(msg + 4, authz_len - 2, out->authzid, error_r) < 0) {
			*error_r = "bad authzid in GS2 header";
			return -1;
		}
	}
	size_t pos = (size_t)(second + 1 - msg);
	out->gs2_header = (struct sasl_text){msg, pos};
	out->bare = (struct sasl_text){msg + pos, len - pos};
	char name;
	struct sasl_text value;
	if (next_attribute(msg, len, &pos, &name, &value) < 0 || name != 'n' ||
	    decode_saslname(value.data, value.len, out->username, error_r) < 0 ||
	    out->username[0] == '\0') {
		*error_r = "SCRAM client-first needs n=username";
		return -1;
	}
	if (next_attribute(msg, len, &pos, &name, &out->nonce) < 0 || name != 'r' ||
	    !nonce_valid(&out->nonce)) {
		*error_r = "SCRAM client-first needs r=nonce";
		return -1;
	}
	/* Optional extensions follow; a mandatory one ("m=") we cannot honour. */
	while (pos < len) {
		if (next_attribute(msg, len, &pos, &name, &value) < 0 || name == 'm') {
			*error_r = "unsupported SCRAM extension";
			return -1;
		}
	}
	return 0;
}

int scram_client_final_parse(const char *msg, size_t len, struct scram_client_final *out,
                             const char **error_r)
{
	memset(out, 0, sizeof(*out));
	if (memchr(msg, '\0', len)) {
		*error_r = "NUL in SCRAM message";
		return -1;
	}
	size_t pos = 0;
	char name;
	if (next_attribute(msg, len, &pos, &name, &out->channel_binding) < 0 ||
	    name != 'c') {
		*error_r = "SCRAM client-final needs c=";
		return -1;
	}
	if (next_attribute(msg, len, &pos, &name, &out->nonce) < 0 || name != 'r' ||
	    !nonce_valid(&out->nonce)) {
		*error_r = "SCRAM client-final needs r=nonce";
		return -1;
	}
	/* Extensions, then p= which must come last (RFC 5802 7). */
	for (;;) {
		size_t start = pos;
		struct sasl_text value;
		if (next_attribute(msg, len, &pos, &name, &value) < 0) {
			*error_r = "SCRAM client-final needs p=proof";
			return -1;
		}
		if (name == 'p') {
			if (pos != len || value.len == 0 || start == 0) {
				*error_r = "SCRAM proof must come last";
				return -1;
			}
			out->proof = value;
			out->without_proof = (struct sasl_text){msg, start - 1};
			return 0;
		}
		if (name == 'm') {
			*error_r = "unsupported SCRAM extension";
			return -1;
		}
	}
}

/* Reads the ^A-separated key=value pairs in [p, end): the Bearer token
 * of auth=, and the user from user_key (XOAUTH2's "user="). */
static int bearer_pairs(const char *p, const char *end, const char *user_key,
                        struct sasl_bearer *out, const char **error_r)
{
	/* The message ends with two \x01: an empty last pair. */
	if (end - p < 1 || end[-1] != '\x01' || (end - p >= 2 && end[-2] != '\x01')) {
		*error_r = "bearer message must end with two ^A";
		return -1;
	}
	end--; /* the final separator */
	while (p < end) {
		const char *sep = memchr(p, '\x01', (size_t)(end - p));
		size_t n = (size_t)(sep - p);
		if (sep == NULL) {
			*error_r = "bearer message must end with two ^A";
			return -1;
		}
		if (n > 5 && strncmp(p, "auth=", 5) == 0) {
			/* RFC 6750 2.1: "Bearer" is case-insensitive */
			if (n < 12 || strncasecmp(p + 5, "Bearer ", 7) != 0) {
				*error_r = "auth= must be a Bearer token";
				return -1;
			}
			out->token = (struct sasl_text){p + 12, n - 12};
		} else if (user_key && n > strlen(user_key) &&
		           strncmp(p, user_key, strlen(user_key)) == 0) {
			size_t k = strlen(user_key);
			out->user = (struct sasl_text){p + k, n - k};
		}
		p = sep + 1;
	}
	if (out->token.len == 0 || out->token.len > 8192) {
		*error_r = "no bearer token";
		return -1;
	}
	for (size_t i = 0; i < out->token.len; i++)
		if (out->token.data[i] <= ' ' || out->token.data[i] > '~') {
			*error_r = "bad character in bearer token";
			return -1;
		}
	if (!sasl_text_valid(out->user.data, out->user.len, true)) {
		*error_r = "bad user name";
		return -1;
	}
	return 0;
}

int sasl_oauthbearer_parse(const char *msg, size_t len, struct sasl_bearer *out,
                           const char **error_r)
{
	memset(out, 0, sizeof(*out));
	if (memchr(msg, '\0', len)) {
		*error_r = "NUL in OAUTHBEARER message";
		return -1;
	}
	/* gs2-header "n,a=user," then \x01 pairs (RFC 7628 3.1) */
	if (len < 4 || (msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',') {
		*error_r = "bad GS2 header";
		return -1;
	}
	const char *comma = memchr(msg + 2, ',', len - 2);
	if (comma == NULL ||
	    (comma != msg + 2 && (comma - msg < 4 || msg[2] != 'a' || msg[3] != '='))) {
		*error_r = "bad GS2 header";
		return -1;
	}
	if (comma - msg >= 4)
		out->user = (struct sasl_text){msg + 4, (size_t)(comma - msg - 4)};
	const char *p = comma + 1;
	if (p >= msg + len || *p != '\x01') {
		*error_r = "bad OAUTHBEARER message";
		return -1;
	}
	return bearer_pairs(p + 1, msg + len, NULL, out, error_r);
}

int sasl_xoauth2_parse(const char *msg, size_t len, struct sasl_bearer *out,
                       const char **error_r)
{
	memset(out, 0, sizeof(*out));
	if (memchr(msg, '\0', len)) {
		*error_r = "NUL in XOAUTH2 message";
		return -1;
	}
	if (bearer_pairs(msg, msg + len, "user=", out, error_r) < 0)
		return -1;
	if (out->user.len == 0) {
		*error_r = "XOAUTH2 needs user=";
		return -1;
	}
	return 0;
}

int sasl_cram_md5_parse(const char *msg, size_t len, struct sasl_cram *out,
                        const char **error_r)
{
	const char *space = len ? memrchr(msg, ' ', len) : NULL;
	if (space == NULL) {
		*error_r = "CRAM-MD5 response is \"user digest\"";
		return -1;
	}
	out->user = (struct sasl_text){msg, (size_t)(space - msg)};
	out->digest = (struct sasl_text){space + 1, len - (size_t)(space + 1 - msg)};
	if (!sasl_text_valid(out->user.data, out->user.len, false) ||
	    out->digest.len != 32) {
		*error_r = "CRAM-MD5 response is \"user digest\"";
		return -1;
	}
	for (size_t i = 0; i < 32; i++) {
		char c = out->digest.data[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F'))) {
			*error_r = "CRAM-MD5 digest is 32 hex digits";
			return -1;
		}
	}
	return 0;
}
