/*
 * tls.h — server TLS contexts (OpenSSL 3).
 *
 * TLS 1.2 and later only, no renegotiation, and no non-mail ALPN
 * (ALPACA, USENIX Security 2021). With no certificate configured, a
 * self-signed one is made under <home>/tls/ on first start (CN = hostname;
 * SANs: hostname, localhost, 127.0.0.1, ::1) and reused afterwards.
 */
#ifndef PETREL_TLS_H
#define PETREL_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/client_cert.h"
#include "lib/config.h"

SSL_CTX *tls_server_context(const struct config *config, const char **error_r);

/* The SMTP client's context: opportunistic, certificates not required. */
SSL_CTX *tls_client_context(const char **error_r);

/* tls_client_cert.c: loads tls.client_ca (and client_crl), when set, into
 * the server context. */
int tls_client_ca_setup(SSL_CTX *ctx, const struct config *config, const char **error_r);
/* A server connection's SSL, asking for a client certificate as its
 * listener says (mode); out of memory is a panic, as for xalloc. */
SSL *tls_server_ssl(SSL_CTX *ctx, enum client_cert_mode mode);
/* After the handshake: the client's certificate, if any. */
void tls_client_cert_read(SSL *ssl, struct client_cert *out);

/* "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384" */
void tls_describe(SSL *ssl, char *out, size_t out_size);

#endif
