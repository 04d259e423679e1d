/*
 * config_tls.c — the `tls:` section: the server's certificate and key,
 * and what client certificates must chain to.
 */
#include "lib/config_sections.h"

static const struct config_key tls_keys[] = {
    {.name = "certificate",
     .type = CONFIG_STRING,
     .offset = offsetof(struct tls_files, certificate),
     .shown_default = "self-signed under `home/tls/`",
     .unset = "self-signed, created under home",
     .help = "PEM file of the certificate chain; it may hold the key too"},
    {.name = "key",
     .type = CONFIG_STRING,
     .offset = offsetof(struct tls_files, key),
     .shown_default = "the certificate file",
     .help = "PEM file of the private key"},
    CONFIG_ROW_STRING("client_ca", struct tls_files, client_ca, NULL,
                      "CA bundle that client certificates must chain to; needed by a "
                      "listener's `client_certificates`"),
    CONFIG_ROW_STRING("client_crl", struct tls_files, client_crl, NULL,
                      "PEM CRLs; a revoked client certificate does not verify"),
    {0},
};

const struct config_section config_tls_section = {"tls", tls_keys, NULL};
