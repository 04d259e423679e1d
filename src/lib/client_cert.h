/*
 * client_cert.h — what a TLS client certificate says, as the connection
 * layer read it (net/tls_client_cert.c) and as SASL EXTERNAL, the spool
 * and policy use it. A plain struct, so that none of them needs TLS.
 */
#ifndef PETREL_CLIENT_CERT_H
#define PETREL_CLIENT_CERT_H

#include <stdbool.h>

/* What a client certificate says. Only `verified` makes it an identity:
 * it chains to tls.client_ca, is within its validity, and is not on
 * tls.client_crl. */
struct client_cert {
	bool present;
	bool verified;
	char verify_error[128]; /* why not, for the log */
	char subject[512];      /* RFC 2253, printable ASCII */
	char issuer[512];
	char san_email[256];  /* first subjectAltName e-mail, or "" */
	char fingerprint[65]; /* SHA-256, lower-case hex */
	char not_after[32];   /* 2027-01-31T12:00:00Z */
};

#endif
