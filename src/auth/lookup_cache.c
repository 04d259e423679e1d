/*
 * lookup_cache.c — see lookup_cache.h.
 *
 * A table of SLOTS entries, one per hash value: a newer answer takes the
 * slot of an older one whose key hashed alike, so the table never grows
 * (at most SLOTS x (FRAME_MAX + a key), about 2 MB, usually a few KB) and
 * a flood of distinct addresses only evicts. An entry keeps the answer
 * as its wire frame (auth_proto.h), decoded again on every use.
 */
#include "auth/lookup_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/metrics.h"
#include "lib/shm.h"
#include "lib/xalloc.h"

#define SLOTS         1024
#define FRAME_MAX     1024 /* a larger expansion is asked each time */
#define GUARD_SECONDS 60

struct userdb_version {
	_Atomic uint64_t value;
};

static struct userdb_version *current;

struct userdb_version *userdb_version_create(const char **error_r)
{
	return shm_map(sizeof(struct userdb_version), "the user database version",
	               error_r);
}

void userdb_version_destroy(struct userdb_version **version)
{
	if (*version == NULL)
		return;
	if (current == *version)
		current = NULL;
	shm_unmap(*version, sizeof(**version));
	*version = NULL;
}

void userdb_version_set_current(struct userdb_version *version)
{
	current = version;
}

void userdb_version_advance(void)
{
	if (current)
		atomic_fetch_add(&current->value, 1);
}

/* --- the table ------------------------------------------------------------ */

struct entry {
	uint64_t hash;
	uint64_t version;
	time_t given; /* monotonic seconds; 0: empty */
	struct buf key, frame;
};

struct lookup_cache {
	pthread_mutex_t lock; /* the queue's delivery threads share one */
	struct entry slots[SLOTS];
};

/* A request's key: its type, name and other, each NUL-ended. */
struct key {
	char data[1 + 2 * AUTH_NAME_SIZE];
	size_t len;
	uint64_t hash;
};

struct lookup_cache *lookup_cache_new(const struct config *config)
{
	if (current == NULL || config->auth.backend != AUTH_BACKEND_SQLITE)
		return NULL;
	struct lookup_cache *cache = xcalloc(1, sizeof(*cache));
	pthread_mutex_init(&cache->lock, NULL);
	return cache;
}

void lookup_cache_free(struct lookup_cache **cache)
{
	if (*cache == NULL)
		return;
	for (size_t i = 0; i < SLOTS; i++) {
		buf_free(&(*cache)->slots[i].key);
		buf_free(&(*cache)->slots[i].frame);
	}
	pthread_mutex_destroy(&(*cache)->lock);
	x_free(cache);
}

uint64_t lookup_cache_version(const struct lookup_cache *cache)
{
	(void)cache;
	return current ? atomic_load(&current->value) : 0;
}

static time_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec + 1; /* never 0, the empty mark */
}

static bool is_lookup(enum auth_request_type type)
{
	return type == AUTH_LOCAL_RCPT || type == AUTH_EXPAND || type == AUTH_SENDER;
}

static void append(struct key *k, const char *s)
{
	size_t n = strnlen(s, AUTH_NAME_SIZE - 1);
	memcpy(k->data + k->len, s, n);
	k->len += n;
	k->data[k->len++] = '\0';
}

/* FNV-1a: keys come from peers, but a collision costs only a slot. */
static void key_of(const struct auth_request *r, struct key *k)
{
	k->len = 0;
	k->data[k->len++] = (char)r->type;
	append(k, r->name);
	append(k, r->other);
	k->hash = 14695981039346656037ULL;
	for (size_t i = 0; i < k->len; i++)
		k->hash = (k->hash ^ (unsigned char)k->data[i]) * 1099511628211ULL;
}

bool lookup_cache_get(struct lookup_cache *cache, const struct auth_request *request,
                      struct auth_response *response)
{
	if (cache == NULL || !is_lookup(request->type))
		return false;
	struct key k;
	key_of(request, &k);
	pthread_mutex_lock(&cache->lock);
	struct entry *e = &cache->slots[k.hash % SLOTS];
	bool hit = e->given != 0 && e->hash == k.hash && e->key.len == k.len &&
	           memcmp(e->key.data, k.data, k.len) == 0 &&
	           e->version == lookup_cache_version(cache) &&
	           now_seconds() - e->given < GUARD_SECONDS &&
	           auth_response_decode(request->type, e->frame.data, e->frame.len,
	                                response) == 0;
	pthread_mutex_unlock(&cache->lock);
	metrics_add(METRIC_AUTH_LOOKUPS, hit ? "cache=\"hit\"" : "cache=\"miss\"", 1);
	return hit;
}

void lookup_cache_put(struct lookup_cache *cache, const struct auth_request *request,
                      uint64_t version, const struct auth_response *response)
{
	if (cache == NULL || !is_lookup(request->type) || response->result < 0 ||
	    version != lookup_cache_version(cache))
		return;
	struct buf frame = BUF_INIT;
	if (auth_response_encode(request->type, response, &frame) < 0 ||
	    frame.len > FRAME_MAX) {
		buf_free(&frame);
		return;
	}
	struct key k;
	key_of(request, &k);
	pthread_mutex_lock(&cache->lock);
	struct entry *e = &cache->slots[k.hash % SLOTS];
	e->hash = k.hash;
	e->version = version;
	e->given = now_seconds();
	buf_reset(&e->key);
	buf_append(&e->key, k.data, k.len);
	struct buf old = e->frame;
	e->frame = frame;
	pthread_mutex_unlock(&cache->lock);
	buf_free(&old);
}
