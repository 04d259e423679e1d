/*
 * mx_resolve.h — from a route to the addresses to try, in order
 * (asynchronous, on the resolver's loop).
 *
 * MX lookup (unless the route names a host with "[...]"), mx_plan() for
 * RFC 5321 5.1 order, null MX and loops, then every address of each
 * host: AAAA before A, hosts in plan order. An MX target that is an IP
 * address or an alias (CNAME) is not what RFC 5321 5.1 and RFC 2181
 * 10.3 allow, but it is used and logged, as other MTAs do. A host
 * without addresses is skipped.
 *
 * Outcomes: NXDOMAIN for the domain is permanent (5.1.2); no address for
 * any host is permanent (5.4.4) unless some lookup failed temporarily
 * (SERVFAIL, time-out: 4.4.3, retried later).
 */
#ifndef PETREL_MX_RESOLVE_H
#define PETREL_MX_RESOLVE_H

#include "dns/resolver.h"
#include "lib/config.h"
#include "mta/job.h"
#include "mta/route.h"
#include "mta/smtp_client.h"

#define MX_ADDRESSES_MAX 20

struct mx_resolution {
	enum rcpt_outcome failure; /* OUTCOME_NONE: addrs are valid */
	char dsn[16];
	char diagnostic[320];
	struct mta_address addrs[MX_ADDRESSES_MAX];
	size_t count;
};

typedef void mx_resolve_done(void *arg, const struct mx_resolution *result);

/* route->host is the domain (MX) or the next hop; callback runs later. */
void mx_resolve(struct dns_resolver *resolver, const struct config *config,
                const struct route *route, mx_resolve_done *done, void *arg);

#endif
