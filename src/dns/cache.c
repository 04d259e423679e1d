/*
 * cache.c — petrel's answer cache (see cache.h).
 *
 * Chained hash table plus a second-chance (CLOCK) list standing in for
 * LRU: a hit only sets a flag in its own entry, where true LRU would
 * rewrite two neighbours too, costing cache misses on the hit path.
 * Entries are reference counted only
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
	bool referenced; /* hit since the clock hand last passed */
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

/* A hit's cost is mostly making its key, so the name is handled eight
 * octets at a time (SWAR): each word is folded to lower case and searched
 * for dots without a branch per octet, then mixed into the hash; a
 * murmur3-style finish makes the low bits (the bucket) depend on every
 * octet. */
#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static uint64_t mix(uint64_t hash, uint64_t word)
{
	hash = (hash ^ word) * 0x9e3779b97f4a7c15ULL;
	return hash ^ (hash >> 32);
}

static size_t padded(size_t length)
{
	return (length + 7) & ~(size_t)7;
}

/* 0x80 in each octet of word equal to c, 0 elsewhere (exact). */
static uint64_t octets_equal(uint64_t word, unsigned char c)
{
	uint64_t x = word ^ (ONES * c);
	uint64_t t = (x & ~HIGHS) + ~HIGHS;
	return ~(t | x | ~HIGHS);
}

/* ASCII A-Z to a-z; octets over 0x7f untouched. */
static uint64_t lower_case(uint64_t word)
{
	uint64_t seven = word & ~HIGHS;
	uint64_t from_a = (seven + ONES * (0x80 - 'A')) & HIGHS;
	uint64_t past_z = (seven + ONES * (0x80 - 'Z' - 1)) & HIGHS;
	uint64_t upper = from_a & ~past_z & ~word & HIGHS;
	return word | (upper >> 2);
}

int dns_cache_key_make(struct dns_cache_key *key, const char *name, uint16_t type)
{
	size_t length = strlen(name);
	if (length > 1 && name[length - 1] == '.' && name[length - 2] != '.')
		length--; /* the optional trailing dot; "." is the root */
	if (length == 0 || length > 253)
		return -1;
	uint64_t hash = length;
	size_t label_start = 0; /* where the current label begins */
	for (size_t i = 0; i < length; i += 8) {
		uint64_t word = 0;
		memcpy(&word, name + i, length - i < 8 ? length - i : 8);
		word = lower_case(word);
		memcpy(key->name + i, &word, sizeof(word));
		hash = mix(hash, word);
		for (uint64_t dots = octets_equal(word, '.'); dots; dots &= dots - 1) {
			size_t dot = i + (size_t)__builtin_ctzll(dots) / 8;
			if (dot >= length)
				break; /* padding */
			if ((dot == label_start && length > 1) || dot - label_start > 63)
				return -1; /* empty or over-long label */
			label_start = dot + 1;
		}
	}
	if ((label_start == length && length > 1) || length - label_start > 63)
		return -1;
	key->name[length] = '\0';
	hash *= 0xff51afd7ed558ccdULL;
	key->hash = (hash ^ (hash >> 33)) ^ type;
	key->length = (uint8_t)length;
	key->type = type;
	return 0;
}

/* Both names are NUL-padded to whole words. */
static bool same_name(const char *a, const char *b, size_t length)
{
	for (size_t i = 0; i < length; i += 8) {
		uint64_t x, y;
		memcpy(&x, a + i, sizeof(x));
		memcpy(&y, b + i, sizeof(y));
		if (x != y)
			return false;
	}
	return true;
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

static void append_newest(struct dns_cache *cache, struct dns_cache_entry *e)
{
	e->newer = NULL;
	e->older = cache->newest;
	if (cache->newest)
		cache->newest->newer = e;
	else
		cache->oldest = e;
	cache->newest = e;
}

/* The oldest entry not hit since it was last looked at goes; hit ones
 * get a second chance at the new end. */
static void evict_one(struct dns_cache *cache)
{
	for (;;) {
		struct dns_cache_entry *e = cache->oldest;
		if (!e->referenced) {
			evict(cache, e);
			return;
		}
		e->referenced = false;
		cache->oldest = e->newer;
		cache->oldest->older = NULL;
		append_newest(cache, e);
	}
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
		    e->length == key->length &&
		    same_name(e->name, key->name, key->length))
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
	if (!e->referenced)
		e->referenced = true;
	age(e, now);
	dns_cache_answer_of(e, answer_r);
	return e;
}

void dns_cache_answer_of(const struct dns_cache_entry *e,
                         struct dns_cache_answer *answer_r)
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
		evict_one(cache);
	struct dns_cache_entry *e = xcalloc(1, sizeof(*e) + padded(key->length + 1));
	memcpy(e->name, key->name, padded(key->length));
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
	append_newest(cache, e);
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
