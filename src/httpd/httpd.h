/*
 * httpd.h — the HTTP service (listen protocol `http`): GET /metrics in
 * the Prometheus text format and GET /healthz, over plain TCP or
 * implicit TLS, on the connection layer like every other protocol.
 */
#ifndef PETREL_HTTPD_H
#define PETREL_HTTPD_H

#include "service/service.h"

/* The row of master/services.c for `http`. */
extern const struct service httpd_service;

#endif
