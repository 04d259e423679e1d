/*
 * resolver.h — asynchronous DNS lookups for petrel's event loops.
 *
 * libunbound does the work (recursion from the root hints, or forwarding
 * to configured servers; its cache obeys TTLs and caches negative
 * answers; truncated UDP answers are retried over TCP; DNSSEC validation
 * with a trust anchor). Results are delivered on the loop that owns the
 * resolver: a lookup never blocks it. Each lookup has a deadline.
 */
#ifndef PETREL_DNS_RESOLVER_H
#define PETREL_DNS_RESOLVER_H

#include <event2/event.h>
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>

struct dns_resolver_config {
	char **servers; /* "IP" or "IP:port" / "[IPv6]:port"; none: full recursion */
	size_t server_count;
	const char *trust_anchor; /* file: enables DNSSEC validation */
	unsigned timeout_ms;      /* per lookup; 0: 10 s */
};

struct dns_result {
	int status;  /* enum dns_status */
	bool secure; /* DNSSEC-validated (AD) */
	const char *why_bogus;
	ldns_pkt *packet; /* the answer; NULL without one. Owned by the resolver:
	                     valid only during the callback */
};

typedef void dns_callback(void *arg, const struct dns_result *result);

struct dns_resolver;

struct dns_resolver *dns_resolver_create(struct event_base *base,
                                         const struct dns_resolver_config *config,
                                         const char **error_r);
void dns_resolver_destroy(struct dns_resolver **resolver);

struct event_base *dns_resolver_base(const struct dns_resolver *resolver);

/* Starts a lookup; callback runs later on the loop (never inside this
 * call). Returns 0, or -1 with *error_r (bad name, resolver failure). */
int dns_lookup(struct dns_resolver *resolver, const char *name, uint16_t type,
               dns_callback *callback, void *arg, const char **error_r);

#endif
