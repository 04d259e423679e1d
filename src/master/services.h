/*
 * services.h — the table from a listener's protocol to its service.
 */
#ifndef PETREL_SERVICES_H
#define PETREL_SERVICES_H

#include "lib/config.h"
#include "service/service.h"

/* NULL only for a protocol without a row (a bug: config accepted it). */
const struct service *service_for(enum listen_protocol protocol);

#endif
