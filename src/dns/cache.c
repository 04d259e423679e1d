/*
 * cache.c — petrel's answer cache (see cache.h).
 *
 * Chained hash table plus an LRU list. Entries are reference counted only
 * so that a deferred hit survives an eviction in between; the table itself
 * never waits for them.
 */
#include "dns/cache.h"

#include <stdlib.h>
#include <string.h>

#include "dns/dns_status.h"
#include "lib/xalloc.h"

struct dns_cache_entry {
	struct dns_cache_entry *chain; /* next in the bucket */
	struct dns_cache_entry *newer, *older;
	uint64_t hash;
	uint16_t type;
	uint8_t length;
	bool secure;
	bool evicted;
	int status;
	unsigned holds;
	uint32_t stored_at, expires_at, aged; /* aged: seconds taken off TTLs */
	ldns_pkt *packet;
	char name[];
};

struct dns_cache {
	struct dns_cache_limits limits;
	struct dns_cache_entry **buckets;
	size_t mask;
	size_t count;
	struct dns_cache_entry *newest, *oldest;
};

int dns_cache_key_make(struct dns_cache_key *key, const char *name, uint16_t type)
{
	/* FNV-1a over the lower-cased name, checked label by label on the way. */
	uint64_t hash = 0xcbf29ce484222325ULL;
	size_t length = 0, label = 0;
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '.') {
			if (label == 0 && !(length == 0 && p[1] == '\0'))
				return -1; /* empty label */
			if (p[1] == '\0' && length > 0)
				break; /* the optional trailing dot */
			label = 0;
		} else if (++label > 63) {
			return -1;
		}
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (length >= 253)
			return -1;
		key->name[length++] = (char)c;
		hash = (hash ^ c) * 0x100000001b3ULL;
	}
	if (length == 0)
		return -1;
	key->name[length] = '\0';
	key->length = (uint8_t)length;
	key->type = type;
	key->hash = hash ^ type;
	return 0;
}

struct dns_cache *dns_cache_create(const struct dns_cache_limits *limits)
{
	if (limits->max_entries == 0)
		return NULL;
	struct dns_cache *cache = xcalloc(1, sizeof(*cache));
	cache->limits = *limits;
	size_t buckets = 16;
	while (buckets < limits->max_entries && buckets < ((size_t)1 << 24))
		buckets <<= 1;
	cache->buckets = xcalloc(buckets, sizeof(*cache->buckets));
	cache->mask = buckets - 1;
	return cache;
}

static void entry_free(struct dns_cache_entry *e)
{
	ldns_pkt_free(e->packet);
	free(e);
}

/* Out of the table and the LRU list; freed now unless held. */
static void evict(struct dns_cache *cache, struct dns_cache_entry *e)
{
	struct dns_cache_entry **link = &cache->buckets[e->hash & cache->mask];
	while (*link != e)
		link = &(*link)->chain;
	*link = e->chain;
	if (e->newer)
		e->newer->older = e->older;
	else
		cache->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		cache->oldest = e->newer;
	cache->count--;
	e->evicted = true;
	if (e->holds == 0)
		entry_free(e);
}

void dns_cache_destroy(struct dns_cache **cache_r)
{
	struct dns_cache *cache = *cache_r;
	if (cache == NULL)
		return;
	while (cache->oldest)
		evict(cache, cache->oldest);
	free(cache->buckets);
	x_free(cache_r);
}

static void make_newest(struct dns_cache *cache, struct dns_cache_entry *e)
{
	if (cache->newest == e)
		return;
	/* unlink (e has a newer neighbour, since it is not the newest) */
	e->newer->older = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		cache->oldest = e->newer;
	e->older = cache->newest;
	e->newer = NULL;
	cache->newest->newer = e;
	cache->newest = e;
}

static void age_section(ldns_rr_list *list, uint32_t delta)
{
	size_t n = ldns_rr_list_rr_count(list);
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(list, i);
		uint32_t ttl = ldns_rr_ttl(rr);
		ldns_rr_set_ttl(rr, ttl > delta ? ttl - delta : 0);
	}
}

/* TTLs count down: a client shown a cached answer at 40 s sees 40 s less. */
static void age(struct dns_cache_entry *e, uint32_t now)
{
	uint32_t age = now - e->stored_at;
	if (age <= e->aged)
		return;
	uint32_t delta = age - e->aged;
	age_section(ldns_pkt_answer(e->packet), delta);
	age_section(ldns_pkt_authority(e->packet), delta);
	age_section(ldns_pkt_additional(e->packet), delta);
	e->aged = age;
}

static struct dns_cache_entry *lookup(struct dns_cache *cache,
                                      const struct dns_cache_key *key)
{
	struct dns_cache_entry *e = cache->buckets[key->hash & cache->mask];
	for (; e; e = e->chain)
		if (e->hash == key->hash && e->type == key->type &&
		    e->length == key->length && memcmp(e->name, key->name, key->length) == 0)
			return e;
	return NULL;
}

struct dns_cache_entry *dns_cache_find(struct dns_cache *cache,
                                       const struct dns_cache_key *key, uint32_t now,
                                       struct dns_cache_answer *answer_r)
{
	if (cache == NULL)
		return NULL;
	struct dns_cache_entry *e = lookup(cache, key);
	if (e == NULL)
		return NULL;
	if (now >= e->expires_at || now < e->stored_at) {
		evict(cache, e);
		return NULL;
	}
	make_newest(cache, e);
	age(e, now);
	dns_cache_answer_of(e, answer_r);
	return e;
}

void dns_cache_answer_of(const struct dns_cache_entry *e, struct dns_cache_answer *answer_r)
{
	answer_r->status = e->status;
	answer_r->secure = e->secure;
	answer_r->packet = e->packet;
}

static uint32_t min_ttl(const ldns_rr_list *list)
{
	uint32_t ttl = UINT32_MAX;
	size_t n = ldns_rr_list_rr_count(list);
	for (size_t i = 0; i < n; i++) {
		uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(list, i));
		if (t < ttl)
			ttl = t;
	}
	return ttl;
}

/* RFC 2308 5: the negative TTL is the smaller of the SOA's own TTL and
 * its MINIMUM field; 0 (do not cache) without a SOA. */
static uint32_t negative_ttl(const ldns_pkt *packet)
{
	const ldns_rr_list *authority = ldns_pkt_authority(packet);
	size_t n = ldns_rr_list_rr_count(authority);
	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(authority, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7)
			continue;
		uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
		uint32_t ttl = ldns_rr_ttl(rr);
		return ttl < minimum ? ttl : minimum;
	}
	return 0;
}

bool dns_cache_store(struct dns_cache *cache, const struct dns_cache_key *key,
                     uint32_t now, int status, bool secure, ldns_pkt *packet)
{
	if (cache == NULL || packet == NULL)
		return false;
	uint32_t ttl;
	if (status == DNS_NOERROR) {
		ttl = min_ttl(ldns_pkt_answer(packet));
		if (ttl == UINT32_MAX)
			ttl = 0;
		if (ttl > cache->limits.max_ttl)
			ttl = cache->limits.max_ttl;
	} else if (status == DNS_NXDOMAIN || status == DNS_NODATA) {
		ttl = negative_ttl(packet);
		if (ttl > cache->limits.max_negative_ttl)
			ttl = cache->limits.max_negative_ttl;
	} else {
		return false;
	}
	if (ttl == 0)
		return false;
	struct dns_cache_entry *old = lookup(cache, key);
	if (old)
		evict(cache, old);
	if (cache->count >= cache->limits.max_entries)
		evict(cache, cache->oldest);
	struct dns_cache_entry *e = xcalloc(1, sizeof(*e) + key->length + 1);
	memcpy(e->name, key->name, key->length);
	e->hash = key->hash;
	e->type = key->type;
	e->length = key->length;
	e->status = status;
	e->secure = secure;
	e->packet = packet;
	e->stored_at = now;
	e->expires_at = now + ttl;
	struct dns_cache_entry **bucket = &cache->buckets[key->hash & cache->mask];
	e->chain = *bucket;
	*bucket = e;
	e->older = cache->newest;
	if (cache->newest)
		cache->newest->newer = e;
	else
		cache->oldest = e;
	cache->newest = e;
	cache->count++;
	return true;
}

void dns_cache_hold(struct dns_cache_entry *entry)
{
	entry->holds++;
}

void dns_cache_release(struct dns_cache_entry *entry)
{
	if (--entry->holds == 0 && entry->evicted)
		entry_free(entry);
}

size_t dns_cache_count(const struct dns_cache *cache)
{
	return cache ? cache->count : 0;
}
