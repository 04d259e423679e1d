/*
 * tls.c — server TLS context and the self-signed default certificate.
 */
#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/log.h"

static const char *openssl_error(const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256];
	ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	return error_fmt("%s: %s", what, e ? reason : "unknown OpenSSL error");
}

static int write_pem(const char *path, EVP_PKEY *key, X509 *cert, const char **error_r)
{
	FILE *f = fopen(path, "wx");
	if (f == NULL) {
		*error_r = error_errno(path);
		return -1;
	}
	if (key)
		fchmod(fileno(f), 0600);
	int ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
	             : PEM_write_X509(f, cert);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	fclose(f);
	if (!ok) {
		*error_r = error_fmt("%s: could not write", path);
		unlink(path);
		return -1;
	}
	return 0;
}

/* Appends one subjectAltName entry (GEN_DNS text or GEN_IPADD octets). */
static int push_name(GENERAL_NAMES *names, int type, const void *data, int len)
{
	ASN1_STRING *value =
	    type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
	GENERAL_NAME *name = GENERAL_NAME_new();
	if (value == NULL || name == NULL || !ASN1_STRING_set(value, data, len)) {
		ASN1_STRING_free(value);
		GENERAL_NAME_free(name);
		return -1;
	}
	GENERAL_NAME_set0_value(name, type, value);
	if (sk_GENERAL_NAME_push(names, name) <= 0) {
		GENERAL_NAME_free(name);
		return -1;
	}
	return 0;
}

/* The names a client on this machine may use: the host name, localhost
 * and the loopback addresses (Python's ssl, for one, checks an address
 * against IP entries only). Built entry by entry, not from a config
 * string, so that no character of the host name is read as syntax. */
static int add_self_signed_names(X509 *cert, const char *hostname)
{
	static const unsigned char v4[4] = {127, 0, 0, 1};
	static const unsigned char v6[16] = {[15] = 1};
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	int ok = names != NULL && push_name(names, GEN_DNS, hostname, -1) == 0 &&
	         (strcasecmp(hostname, "localhost") == 0 ||
	          push_name(names, GEN_DNS, "localhost", -1) == 0) &&
	         push_name(names, GEN_IPADD, v4, sizeof(v4)) == 0 &&
	         push_name(names, GEN_IPADD, v6, sizeof(v6)) == 0 &&
	         X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, 0) == 1;
	GENERAL_NAMES_free(names);
	return ok ? 0 : -1;
}

/* Makes an ECDSA P-256 key and a 10-year self-signed certificate. */
static int make_self_signed(const char *hostname, const char *cert_path,
                            const char *key_path, const char **error_r)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	int result = -1;
	if (key == NULL || cert == NULL) {
		*error_r = openssl_error("key generation");
		goto out;
	}
	X509_set_version(cert, 2);
	unsigned char serial[16];
	FILE *urandom = fopen("/dev/urandom", "r");
	if (urandom == NULL ||
	    fread(serial, 1, sizeof(serial), urandom) != sizeof(serial)) {
		if (urandom)
			fclose(urandom);
		*error_r = "cannot read /dev/urandom";
		goto out;
	}
	fclose(urandom);
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
	X509_set_pubkey(cert, key);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	                           (const unsigned char *)hostname, -1, -1, 0);
	X509_set_issuer_name(cert, name);
	if (add_self_signed_names(cert, hostname) < 0) {
		*error_r = openssl_error("subjectAltName");
		goto out;
	}
	if (!X509_sign(cert, key, EVP_sha256())) {
		*error_r = openssl_error("certificate signing");
		goto out;
	}
	if (write_pem(key_path, key, NULL, error_r) < 0)
		goto out;
	if (write_pem(cert_path, NULL, cert, error_r) < 0) {
		unlink(key_path);
		goto out;
	}
	log_msg(L_INFO, "event=tls-self-signed-created cn=%s cert=%s", LOG_Q(hostname),
	        LOG_Q(cert_path));
	result = 0;
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	return result;
}

/* ALPACA defence: a client naming an application protocol that is not
 * mail (say http/1.1) is talking to the wrong server. */
static int refuse_foreign_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                               const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	for (unsigned i = 0; i < inlen;) {
		unsigned len = in[i];
		if (i + 1 + len > inlen)
			break;
		if (len == 4 && memcmp(in + i + 1, "smtp", 4) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)len;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + len;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

SSL_CTX *tls_server_context(const struct config *config, const char **error_r)
{
	struct buf cert_path = BUF_INIT, key_path = BUF_INIT;
	if (config->tls.certificate) {
		buf_append_str(&cert_path, config->tls.certificate);
		buf_append_str(&key_path, config->tls.key ? config->tls.key
		                                          : config->tls.certificate);
	} else {
		struct buf dir = BUF_INIT;
		buf_appendf(&dir, "%s/tls", config->home);
		int r = fs_mkdir_p(dir.data, 0700, error_r);
		buf_appendf(&cert_path, "%s/cert.pem", dir.data);
		buf_appendf(&key_path, "%s/key.pem", dir.data);
		buf_free(&dir);
		if (r == 0 && access(cert_path.data, F_OK) != 0 &&
		    make_self_signed(config->hostname, cert_path.data, key_path.data,
		                     error_r) < 0)
			r = -1;
		if (r < 0) {
			buf_free(&cert_path);
			buf_free(&key_path);
			return NULL;
		}
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		*error_r = openssl_error("SSL_CTX_new");
		goto fail;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	                             SSL_OP_CIPHER_SERVER_PREFERENCE |
	                             SSL_OP_NO_COMPRESSION);
	/* An idle session (IMAP IDLE, thousands of them) gives its record
	 * buffers back: 34 KB each otherwise. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_cipher_list(ctx, "HIGH:!aNULL:!MD5:!RC4:!3DES");
	SSL_CTX_set_alpn_select_cb(ctx, refuse_foreign_alpn, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"petrel", 6);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path.data) != 1) {
		*error_r = openssl_error(cert_path.data);
		goto fail;
	}
	/* OpenSSL checks the key against the certificate as it loads it;
	 * its "key values mismatch" is said here in an administrator's
	 * words. */
	bool loaded =
	    SSL_CTX_use_PrivateKey_file(ctx, key_path.data, SSL_FILETYPE_PEM) == 1;
	unsigned long why = loaded ? 0 : ERR_peek_last_error();
	if (!loaded && !(ERR_GET_LIB(why) == ERR_LIB_X509 &&
	                 ERR_GET_REASON(why) == X509_R_KEY_VALUES_MISMATCH)) {
		*error_r = openssl_error(key_path.data);
		goto fail;
	}
	if (!loaded || SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		*error_r = error_fmt("the key %s does not match the certificate %s",
		                     key_path.data, cert_path.data);
		goto fail;
	}
	if (tls_client_ca_setup(ctx, config, error_r) < 0)
		goto fail;
	buf_free(&cert_path);
	buf_free(&key_path);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	buf_free(&cert_path);
	buf_free(&key_path);
	return NULL;
}

SSL_CTX *tls_client_context(const char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		*error_r = openssl_error("SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	/* RFC 7435: encrypt whenever possible, verify only to record the
	 * result; a policy layer (DANE, MTA-STS) may require it later. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		ERR_clear_error();
	return ctx;
}

void tls_describe(SSL *ssl, char *out, size_t out_size)
{
	snprintf(out, out_size, "%s with cipher %s", SSL_get_version(ssl),
	         SSL_get_cipher_name(ssl));
}
