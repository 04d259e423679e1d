/*
 * resolver.h — asynchronous DNS lookups for petrel's event loops.
 *
 * libunbound does the network work (forwarding to configured servers or
 * to those of /etc/resolv.conf, or recursion from the root hints; truncated UDP answers
 * are retried over TCP; DNSSEC validation with a trust anchor). In front of it sits
 * petrel's own answer cache (dns/cache.h): TTLs obeyed, negative answers
 * cached per RFC 2308, and a hit answered without touching unbound.
 * Results are delivered on the loop that owns the resolver: a lookup never
 * blocks it. Each lookup has a deadline.
 */
#ifndef PETREL_DNS_RESOLVER_H
#define PETREL_DNS_RESOLVER_H

#include <event2/event.h>
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>

struct dns_resolver_config {
	char **servers; /* "IP" or "IP:port" / "[IPv6]:port" to forward to */
	size_t server_count;
	/* Without servers: full recursion from the root hints, or else the
	 * name servers of this resolv.conf file (dns/upstream.h). */
	bool recursive;
	const char *resolv_conf;
	const char *trust_anchor; /* file: enables DNSSEC validation */
	unsigned timeout_ms;      /* per lookup; 0: 10 s */
	unsigned attempts;        /* tries of one query at a server; 0: unbound's (5) */
	size_t cache_entries;     /* 0: no answer cache */
	uint32_t cache_max_ttl;   /* seconds; 0: one day */
	uint32_t cache_max_negative_ttl; /* seconds; 0: one hour */
};

struct config;

/* The resolver settings of petrel's configuration (dns:). */
void dns_resolver_config_from(struct dns_resolver_config *dns_r,
                              const struct config *config);

struct dns_result {
	int status;  /* enum dns_status */
	bool secure; /* DNSSEC-validated (AD) */
	const char *why_bogus;
	ldns_pkt *packet; /* the answer; NULL without one. Owned by the resolver,
	                     read only, valid only during the callback */
	bool cached;      /* served from petrel's answer cache */
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

/* The answer from the cache alone, at once: true with *result filled
 * (valid until control returns to the loop), false on a miss or a bad
 * name. For callers that can use an answer synchronously. */
bool dns_lookup_cached(struct dns_resolver *resolver, const char *name, uint16_t type,
                       struct dns_result *result);

size_t dns_resolver_cache_count(const struct dns_resolver *resolver);

/* Where lookups go, for logs and error messages: "resolv.conf
 * /etc/resolv.conf: 192.0.2.53", "servers 192.0.2.53:5353", "recursion
 * from the root hints". */
const char *dns_resolver_upstream(const struct dns_resolver *resolver);
/* The servers asked (none when recursing); owned by the resolver. */
size_t dns_resolver_servers(const struct dns_resolver *resolver, char *const **servers_r);

#endif
