/*
 * tls_client_cert.c — client certificates on the server side: the CA
 * bundle and CRLs they are checked against, the verification mode of
 * each listener, and what a verified certificate says (see tls.h).
 *
 * With `optional`, a certificate that does not verify still lets the
 * handshake finish (the client may go on and log in with a password),
 * but it is recorded as unverified and never used as an identity. With
 * `required`, the handshake fails unless a certificate verifies.
 */
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/error.h"
#include "lib/log.h"
#include "net/tls.h"

int tls_client_ca_setup(SSL_CTX *ctx, const struct config *config, const char **error_r)
{
	/* No CA: no listener asks for certificates (the configuration
	 * refuses client_certificates without tls.client_ca). */
	if (config->tls.client_ca == NULL)
		return 0;
	if (SSL_CTX_load_verify_locations(ctx, config->tls.client_ca, NULL) != 1) {
		*error_r = error_fmt("tls.client_ca %s: %s", config->tls.client_ca,
		                     ERR_reason_error_string(ERR_get_error()));
		return -1;
	}
	/* Tell clients which CAs we accept, so they pick the right cert. */
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(config->tls.client_ca);
	if (names)
		SSL_CTX_set_client_CA_list(ctx, names);
	if (config->tls.client_crl) {
		X509_STORE *store = SSL_CTX_get_cert_store(ctx);
		X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
		if (lookup == NULL || X509_load_crl_file(lookup, config->tls.client_crl,
		                                         X509_FILETYPE_PEM) <= 0) {
			*error_r =
			    error_fmt("tls.client_crl %s: %s", config->tls.client_crl,
			              ERR_reason_error_string(ERR_get_error()));
			return -1;
		}
		/* The leaf is checked; a CA missing its CRL fails verification. */
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	}
	return 0;
}

/* Where accept_any keeps the first verification error of a connection:
 * later ones (a CRL lookup after an untrusted issuer) are consequences. */
static int first_error_index = -1;

/* optional: never fail the handshake; the result is read afterwards. */
static int accept_any(int preverify_ok, X509_STORE_CTX *ctx)
{
	if (preverify_ok)
		return 1;
	SSL *ssl = X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl && first_error_index >= 0 &&
	    SSL_get_ex_data(ssl, first_error_index) == NULL)
		SSL_set_ex_data(ssl, first_error_index,
		                (void *)(intptr_t)(X509_STORE_CTX_get_error(ctx) + 1));
	return 1;
}

SSL *tls_server_ssl(SSL_CTX *ctx, enum client_cert_mode mode)
{
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL) /* a plain connection instead is never an option */
		log_msg(L_PANIC, "event=out-of-memory what=SSL_new");
	if (first_error_index < 0)
		first_error_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (mode == CLIENT_CERT_OPTIONAL)
		SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, accept_any);
	else if (mode == CLIENT_CERT_REQUIRED)
		SSL_set_verify(ssl,
		               SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT |
		                   SSL_VERIFY_CLIENT_ONCE,
		               NULL);
	return ssl;
}

/* RFC 2253 form; OpenSSL escapes control and 8-bit octets, so the text
 * is printable ASCII. */
static void name_text(X509_NAME *name, char *out, size_t size)
{
	out[0] = '\0';
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return;
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
	int n = BIO_read(bio, out, (int)size - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
}

/* The first rfc822Name of the subjectAltName, if it is a plain address. */
static void san_email(X509 *cert, char *out, size_t size)
{
	out[0] = '\0';
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		if (gn->type != GEN_EMAIL)
			continue;
		const unsigned char *data = ASN1_STRING_get0_data(gn->d.rfc822Name);
		int len = ASN1_STRING_length(gn->d.rfc822Name);
		bool clean = len > 0 && (size_t)len < size;
		for (int j = 0; clean && j < len; j++)
			clean = data[j] > ' ' && data[j] < 0x7f && data[j] != '(' &&
			        data[j] != ')';
		if (clean) {
			memcpy(out, data, (size_t)len);
			out[len] = '\0';
			break;
		}
	}
	GENERAL_NAMES_free(names);
}

void tls_client_cert_read(SSL *ssl, struct client_cert *out)
{
	memset(out, 0, sizeof(*out));
	X509 *cert = SSL_get1_peer_certificate(ssl);
	if (cert == NULL)
		return;
	out->present = true;
	long result = SSL_get_verify_result(ssl);
	intptr_t first = first_error_index >= 0
	                     ? (intptr_t)SSL_get_ex_data(ssl, first_error_index)
	                     : 0;
	if (result != X509_V_OK && first > 0)
		result = (long)(first - 1);
	out->verified = result == X509_V_OK;
	snprintf(out->verify_error, sizeof(out->verify_error), "%s",
	         out->verified ? "" : X509_verify_cert_error_string(result));
	name_text(X509_get_subject_name(cert), out->subject, sizeof(out->subject));
	name_text(X509_get_issuer_name(cert), out->issuer, sizeof(out->issuer));
	san_email(cert, out->san_email, sizeof(out->san_email));
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (X509_digest(cert, EVP_sha256(), digest, &len) == 1)
		for (unsigned i = 0; i < len && i < 32; i++)
			snprintf(out->fingerprint + i * 2, 3, "%02x", digest[i]);
	struct tm tm;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
		strftime(out->not_after, sizeof(out->not_after), "%Y-%m-%dT%H:%M:%SZ",
		         &tm);
	X509_free(cert);
}
