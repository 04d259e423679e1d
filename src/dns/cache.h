/*
 * cache.h — petrel's answer cache in front of libunbound.
 *
 * A hash table of parsed answers keyed by (name, type), evicting the
 * least recently used (approximately: second chance) at a fixed number of
 * entries. A positive answer lives for the smallest
 * TTL in its answer section; NXDOMAIN and NODATA live for the SOA's
 * negative TTL (RFC 2308 5: min(SOA TTL, SOA MINIMUM)) and are not cached
 * without one. Failures (SERVFAIL, time-outs, bogus answers) are never
 * cached: the next lookup asks again. Both TTLs are capped by the limits.
 * TTLs in a cached packet count down as it ages, as a resolver's would.
 *
 * A hit costs one hash of the name and one probe: no allocation, no copy.
 * Times are whole seconds from the caller's monotonic clock, so that tests
 * can drive the clock.
 */
#ifndef PETREL_DNS_CACHE_H
#define PETREL_DNS_CACHE_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_cache_limits {
	size_t max_entries;        /* 0: no cache */
	uint32_t max_ttl;          /* seconds */
	uint32_t max_negative_ttl; /* seconds */
};

/* A name normalized for the table: lower case, no trailing dot ("." stays
 * "."), with its hash. */
struct dns_cache_key {
	uint64_t hash;
	uint16_t type;
	uint8_t length;
	char name[256]; /* NUL-padded to a multiple of 8 octets */
};

struct dns_cache;
struct dns_cache_entry;

/* What a hit gives back; the packet belongs to the entry (read only). */
struct dns_cache_answer {
	int status; /* DNS_NOERROR, DNS_NODATA or DNS_NXDOMAIN */
	bool secure;
	ldns_pkt *packet;
};

/* Fills *key from a presentation-format name. Returns 0, or -1 when the
 * text is not a valid domain name (empty label, label over 63 octets,
 * name over 253). Escapes (\.) are left for ldns to judge. */
int dns_cache_key_make(struct dns_cache_key *key, const char *name, uint16_t type);

struct dns_cache *dns_cache_create(const struct dns_cache_limits *limits);
void dns_cache_destroy(struct dns_cache **cache);

/* The live entry for key at time now, or NULL. The answer stays valid
 * until the next dns_cache_store() (which may evict), or for as long as
 * the entry is held. */
struct dns_cache_entry *dns_cache_find(struct dns_cache *cache,
                                       const struct dns_cache_key *key, uint32_t now,
                                       struct dns_cache_answer *answer_r);

/* Offers an answer for key. Takes ownership of packet when it is cached
 * (returns true); otherwise the caller keeps it (returns false). */
bool dns_cache_store(struct dns_cache *cache, const struct dns_cache_key *key,
                     uint32_t now, int status, bool secure, ldns_pkt *packet);

/* The answer of an entry found earlier (and held since). */
void dns_cache_answer_of(const struct dns_cache_entry *entry,
                         struct dns_cache_answer *answer_r);

/* Keeps an entry's answer alive past evictions (a deferred hit). */
void dns_cache_hold(struct dns_cache_entry *entry);
void dns_cache_release(struct dns_cache_entry *entry);

size_t dns_cache_count(const struct dns_cache *cache);

#endif
