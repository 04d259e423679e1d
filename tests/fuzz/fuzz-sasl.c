/*
 * fuzz-sasl.c — libFuzzer target: the SASL message parsers (PLAIN, SCRAM
 * client-first and client-final, OAUTHBEARER, XOAUTH2, CRAM-MD5). The
 * first octet picks the parser. Every view returned must lie inside the
 * input, and what the parsers promise (non-empty, NUL-free credentials)
 * must hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const struct sasl_text *t, const char *in, size_t len)
{
	if (t->len == 0)
		return;
	if (t->data < in || t->data + t->len > in + len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* A private copy without slack, so ASan sees any overread. */
	size_t len = size - 1;
	char *in = malloc(len ? len : 1);
	memcpy(in, data + 1, len);
	const char *error = NULL;
	switch (data[0] % 6) {
	case 0: {
		struct sasl_plain p;
		if (sasl_plain_parse(in, len, &p, &error) == 0) {
			inside(&p.authzid, in, len);
			inside(&p.authcid, in, len);
			inside(&p.password, in, len);
			if (p.authcid.len == 0 || p.password.len == 0 ||
			    memchr(p.password.data, '\0', p.password.len))
				abort();
		}
		break;
	}
	case 1: {
		struct scram_client_first f;
		if (scram_client_first_parse(in, len, &f, &error) == 0) {
			inside(&f.nonce, in, len);
			inside(&f.bare, in, len);
			inside(&f.gs2_header, in, len);
			if (f.username[0] == '\0' || f.nonce.len == 0 ||
			    f.gs2_header.len + f.bare.len != len)
				abort();
		}
		break;
	}
	case 2: {
		struct scram_client_final f;
		if (scram_client_final_parse(in, len, &f, &error) == 0) {
			inside(&f.channel_binding, in, len);
			inside(&f.nonce, in, len);
			inside(&f.proof, in, len);
			inside(&f.without_proof, in, len);
			if (f.proof.len == 0 || f.without_proof.data != in)
				abort();
		}
		break;
	}
	case 3:
	case 4: {
		struct sasl_bearer b;
		int r = data[0] % 6 == 3 ? sasl_oauthbearer_parse(in, len, &b, &error)
		                         : sasl_xoauth2_parse(in, len, &b, &error);
		if (r == 0) {
			inside(&b.user, in, len);
			inside(&b.token, in, len);
			if (b.token.len == 0)
				abort();
		}
		break;
	}
	default: {
		struct sasl_cram c;
		if (sasl_cram_md5_parse(in, len, &c, &error) == 0) {
			inside(&c.user, in, len);
			inside(&c.digest, in, len);
			if (c.digest.len != 32 || c.user.len == 0)
				abort();
		}
	}
	}
	free(in);
	return 0;
}
