/*
 * ip_count.c — see ip_count.h.
 *
 * Every map (the totals, and each worker's region) is an open-addressing
 * table with linear probing and backward-shift deletion (no tombstones to
 * pile up), indexed by SipHash under a secret key (crypto_shorthash): a
 * client choosing its IPv6 addresses cannot build long probe runs.
 */
#include "service/ip_count.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "lib/error.h"
#include "lib/shm.h"

struct entry {
	struct ip_key key;
	uint32_t count; /* 0: empty */
};

struct map {
	unsigned used;
	unsigned mask; /* capacity - 1, a power of two minus one */
	struct entry *entries;
};

struct ip_count_table {
	pthread_mutex_t lock;
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
	size_t size; /* of the mapping */
	unsigned region_count;
	unsigned total_capacity, region_capacity;
	/* then: bool claimed[region_count], unsigned region_used[region_count],
	 * the totals' entries, each region's entries */
	unsigned total_used;
	unsigned char layout[];
};

static unsigned round_up_pow2(unsigned n)
{
	unsigned p = 16;
	while (p < n && p < (1u << 24))
		p <<= 1;
	return p;
}

/* Where the parts of the mapping are (the same in every process). */
static bool *claimed(struct ip_count_table *t)
{
	return (bool *)t->layout;
}

static unsigned *region_used(struct ip_count_table *t)
{
	return (unsigned *)(t->layout +
	                    ((t->region_count * sizeof(bool) + 7) & ~(size_t)7));
}

static struct entry *total_entries(struct ip_count_table *t)
{
	return (struct entry *)((unsigned char *)region_used(t) +
	                        ((t->region_count * sizeof(unsigned) + 7) & ~(size_t)7));
}

static struct entry *region_entries(struct ip_count_table *t, int region)
{
	return total_entries(t) + t->total_capacity + (size_t)region * t->region_capacity;
}

static size_t table_size(unsigned regions, unsigned total_capacity,
                         unsigned region_capacity)
{
	return sizeof(struct ip_count_table) +
	       ((regions * sizeof(bool) + 7) & ~(size_t)7) +
	       ((regions * sizeof(unsigned) + 7) & ~(size_t)7) +
	       ((size_t)total_capacity + (size_t)regions * region_capacity) *
	           sizeof(struct entry);
}

struct ip_count_table *ip_count_create(unsigned regions, unsigned per_region,
                                       const char **error_r)
{
	/* At most half full: probe runs stay short. */
	unsigned region_capacity = round_up_pow2(per_region * 2);
	unsigned total_capacity = round_up_pow2(regions * per_region);
	size_t size = table_size(regions, total_capacity, region_capacity);
	void *map = shm_map(size, "the per-IP connection table", error_r);
	if (map == NULL)
		return NULL;
	struct ip_count_table *t = map; /* zeroed by mmap */
	t->size = size;
	t->region_count = regions;
	t->total_capacity = total_capacity;
	t->region_capacity = region_capacity;
	crypto_shorthash_keygen(t->hash_key);
	shm_mutex_init(&t->lock);
	return t;
}

void ip_count_destroy(struct ip_count_table **table)
{
	if (*table == NULL)
		return;
	shm_unmap(*table, (*table)->size);
	*table = NULL;
}

static void lock(struct ip_count_table *t)
{
	shm_lock(&t->lock);
}

static void unlock(struct ip_count_table *t)
{
	pthread_mutex_unlock(&t->lock);
}

static unsigned slot_of(const struct ip_count_table *t, const struct ip_key *key,
                        unsigned mask)
{
	uint64_t h;
	crypto_shorthash((unsigned char *)&h, (const unsigned char *)key, sizeof(*key),
	                 t->hash_key);
	return (unsigned)h & mask;
}

/* The entry of key, or the empty one where it would go (NULL: the map is
 * as full as it may get). */
static struct entry *map_find(const struct ip_count_table *t, struct map *m,
                              const struct ip_key *key)
{
	for (unsigned i = slot_of(t, key, m->mask), n = 0; n <= m->mask;
	     i = (i + 1) & m->mask, n++) {
		struct entry *e = &m->entries[i];
		if (e->count == 0 || memcmp(&e->key, key, sizeof(*key)) == 0)
			return e;
	}
	return NULL;
}

static bool map_add(const struct ip_count_table *t, struct map *m,
                    const struct ip_key *key)
{
	struct entry *e = map_find(t, m, key);
	if (e == NULL || (e->count == 0 && m->used + 1 > (m->mask + 1) / 2))
		return false;
	if (e->count == 0) {
		e->key = *key;
		m->used++;
	}
	e->count++;
	return true;
}

/* Backward-shift deletion: moves later entries of the probe run into
 * the hole, so that every lookup still finds them. */
static void map_remove_entry(const struct ip_count_table *t, struct map *m,
                             struct entry *e)
{
	unsigned hole = (unsigned)(e - m->entries);
	m->entries[hole].count = 0;
	m->used--;
	for (unsigned j = (hole + 1) & m->mask; m->entries[j].count != 0;
	     j = (j + 1) & m->mask) {
		unsigned home = slot_of(t, &m->entries[j].key, m->mask);
		/* Stays if its home lies cyclically in (hole, j]. */
		bool stays =
		    hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (stays)
			continue;
		m->entries[hole] = m->entries[j];
		m->entries[j].count = 0;
		hole = j;
	}
}

/* Takes n from key's count; returns what was taken (at most its count). */
static unsigned map_sub(const struct ip_count_table *t, struct map *m,
                        const struct ip_key *key, unsigned n)
{
	struct entry *e = map_find(t, m, key);
	if (e == NULL || e->count == 0)
		return 0;
	if (n > e->count)
		n = e->count;
	e->count -= n;
	if (e->count == 0)
		map_remove_entry(t, m, e);
	return n;
}

static struct map totals(struct ip_count_table *t)
{
	return (struct map){t->total_used, t->total_capacity - 1, total_entries(t)};
}

static struct map region_map(struct ip_count_table *t, int region)
{
	return (struct map){region_used(t)[region], t->region_capacity - 1,
	                    region_entries(t, region)};
}

static void store(struct ip_count_table *t, const struct map *total, int region,
                  const struct map *own)
{
	t->total_used = total->used;
	if (own)
		region_used(t)[region] = own->used;
}

static bool valid_region(const struct ip_count_table *t, int region)
{
	return region >= 0 && (unsigned)region < t->region_count;
}

int ip_count_claim_region(struct ip_count_table *t)
{
	int found = -1;
	lock(t);
	for (unsigned i = 0; i < t->region_count; i++)
		if (!claimed(t)[i]) {
			claimed(t)[i] = true;
			found = (int)i;
			break;
		}
	unlock(t);
	return found;
}

unsigned ip_count_release_region(struct ip_count_table *t, int region)
{
	if (!valid_region(t, region))
		return 0;
	unsigned returned = 0;
	lock(t);
	struct map total = totals(t);
	struct entry *own = region_entries(t, region);
	for (unsigned i = 0; i < t->region_capacity; i++)
		if (own[i].count) {
			returned += map_sub(t, &total, &own[i].key, own[i].count);
			own[i].count = 0;
		}
	region_used(t)[region] = 0;
	claimed(t)[region] = false;
	store(t, &total, region, NULL);
	unlock(t);
	return returned;
}

void ip_key_make(struct ip_key *key, const struct sockaddr *peer, const char *scope)
{
	memset(key, 0, sizeof(*key));
	if (peer->sa_family == AF_INET) {
		key->addr[10] = key->addr[11] = 0xff;
		memcpy(key->addr + 12, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	} else if (peer->sa_family == AF_INET6) {
		memcpy(key->addr, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	}
	uint32_t h = 2166136261u; /* FNV-1a of the listener's address */
	for (const char *p = scope; p && *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	key->scope = h;
}

bool ip_count_acquire(struct ip_count_table *t, int region, const struct ip_key *key,
                      unsigned limit, unsigned *count_r)
{
	*count_r = 0;
	if (!valid_region(t, region))
		return true; /* a worker without a region does not count */
	lock(t);
	struct map total = totals(t), own = region_map(t, region);
	struct entry *e = map_find(t, &total, key);
	unsigned count = e ? e->count : 0;
	/* Both maps are sized for more than the connections a worker takes;
	 * full means a reload raised the limits past them. */
	bool ok = count < limit && map_add(t, &own, key);
	if (ok && !map_add(t, &total, key)) {
		map_sub(t, &own, key, 1);
		ok = false;
	}
	store(t, &total, region, &own);
	unlock(t);
	*count_r = ok ? count + 1 : count;
	return ok;
}

void ip_count_release(struct ip_count_table *t, int region, const struct ip_key *key)
{
	if (!valid_region(t, region))
		return;
	lock(t);
	struct map total = totals(t), own = region_map(t, region);
	/* Only what this worker added: never another worker's count. */
	if (map_sub(t, &own, key, 1) == 1)
		map_sub(t, &total, key, 1);
	store(t, &total, region, &own);
	unlock(t);
}

unsigned ip_count_get(struct ip_count_table *t, const struct ip_key *key)
{
	lock(t);
	struct map total = totals(t);
	struct entry *e = map_find(t, &total, key);
	unsigned count = e ? e->count : 0;
	unlock(t);
	return count;
}
