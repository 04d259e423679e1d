/*
 * credential_cache.c — see credential_cache.h.
 *
 * Open addressing with a short probe; when the run is full, the entry
 * that expires first gives way. Expired entries count as empty.
 */
#include "auth/credential_cache.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "lib/shm.h"

#define PROBE      8
#define NAME_MAX_  256
#define REASON_MAX 64

struct entry {
	unsigned char key[32]; /* HMAC(secret, login NUL password) */
	time_t expires;        /* 0: empty */
	bool ok;
	char login[NAME_MAX_];
	char user[NAME_MAX_];    /* ok: what the login resolved to */
	char reason[REASON_MAX]; /* failed: why */
};

struct credential_cache {
	pthread_mutex_t lock;
	unsigned char secret[32];
	unsigned slots;
	size_t size; /* of the mapping */
	struct entry entries[];
};

static struct credential_cache *current;

struct credential_cache *credential_cache_create(unsigned slots, const char **error_r)
{
	if (slots == 0)
		return NULL;
	size_t size =
	    sizeof(struct credential_cache) + (size_t)slots * sizeof(struct entry);
	void *map = shm_map(size, "the credential cache", error_r);
	if (map == NULL)
		return NULL;
	struct credential_cache *c = map; /* zeroed by mmap */
	c->slots = slots;
	c->size = size;
	if (RAND_bytes(c->secret, sizeof(c->secret)) != 1) {
		shm_unmap(map, size);
		*error_r = "no randomness for the credential cache";
		return NULL;
	}
	shm_mutex_init(&c->lock);
	return c;
}

void credential_cache_destroy(struct credential_cache **cache)
{
	if (*cache == NULL)
		return;
	if (current == *cache)
		current = NULL;
	OPENSSL_cleanse((*cache)->secret, sizeof((*cache)->secret));
	shm_unmap(*cache, (*cache)->size);
	*cache = NULL;
}

void credential_cache_set_current(struct credential_cache *cache)
{
	current = cache;
}

struct credential_cache *credential_cache_current(void)
{
	return current;
}

static void lock(struct credential_cache *c)
{
	shm_lock(&c->lock);
}

/* Login names compare without case, as the user database does. False
 * for a login or password too long to be worth remembering. */
static bool make_key(const struct credential_cache *c, const char *login,
                     const char *password, size_t len, unsigned char key[32])
{
	unsigned char text[NAME_MAX_ + 2048];
	size_t login_len = strlen(login);
	if (login_len >= NAME_MAX_ || len > sizeof(text) - NAME_MAX_ - 1)
		return false;
	for (size_t i = 0; i < login_len; i++)
		text[i] =
		    (unsigned char)(login[i] >= 'A' && login[i] <= 'Z' ? login[i] + 32
		                                                       : login[i]);
	text[login_len] = '\0';
	memcpy(text + login_len + 1, password, len);
	unsigned int out = 32;
	HMAC(EVP_sha256(), c->secret, sizeof(c->secret), text, login_len + 1 + len, key,
	     &out);
	OPENSSL_cleanse(text, login_len + 1 + len);
	return true;
}

static uint64_t slot_of(const unsigned char key[32])
{
	uint64_t h;
	memcpy(&h, key, sizeof(h));
	return h;
}

enum cache_answer credential_cache_get(struct credential_cache *c, const char *login,
                                       const char *password, size_t len, time_t now,
                                       char *user, size_t user_size, char *reason,
                                       size_t reason_size)
{
	if (c == NULL)
		return CACHE_MISS;
	unsigned char key[32];
	if (!make_key(c, login, password, len, key))
		return CACHE_MISS;
	uint64_t start = slot_of(key);
	enum cache_answer answer = CACHE_MISS;
	lock(c);
	for (unsigned i = 0; i < PROBE; i++) {
		struct entry *e = &c->entries[(start + i) % c->slots];
		if (e->expires <= now || CRYPTO_memcmp(e->key, key, sizeof(key)) != 0)
			continue;
		if (e->ok) {
			snprintf(user, user_size, "%s", e->user);
			answer = CACHE_OK;
		} else {
			snprintf(reason, reason_size, "%s", e->reason);
			answer = CACHE_FAILED;
		}
		break;
	}
	pthread_mutex_unlock(&c->lock);
	OPENSSL_cleanse(key, sizeof(key));
	return answer;
}

void credential_cache_put(struct credential_cache *c, const char *login,
                          const char *password, size_t len, time_t now, bool ok,
                          const char *user_or_reason, unsigned ttl)
{
	if (c == NULL || ttl == 0)
		return;
	unsigned char key[32];
	if (!make_key(c, login, password, len, key))
		return;
	uint64_t start = slot_of(key);
	lock(c);
	struct entry *victim = NULL;
	for (unsigned i = 0; i < PROBE; i++) {
		struct entry *e = &c->entries[(start + i) % c->slots];
		if (e->expires > now && CRYPTO_memcmp(e->key, key, sizeof(key)) == 0) {
			victim = e; /* the same key: replaced */
			break;
		}
		if (victim == NULL || e->expires < victim->expires)
			victim = e; /* empty or expired first, then the soonest to go */
	}
	memcpy(victim->key, key, sizeof(key));
	victim->expires = now + (time_t)ttl;
	victim->ok = ok;
	snprintf(victim->login, sizeof(victim->login), "%s", login);
	snprintf(victim->user, sizeof(victim->user), "%s", ok ? user_or_reason : "");
	snprintf(victim->reason, sizeof(victim->reason), "%s", ok ? "" : user_or_reason);
	pthread_mutex_unlock(&c->lock);
	OPENSSL_cleanse(key, sizeof(key));
}

unsigned credential_cache_flush(struct credential_cache *c, const char *name)
{
	if (c == NULL)
		return 0;
	unsigned flushed = 0;
	lock(c);
	for (unsigned i = 0; i < c->slots; i++) {
		struct entry *e = &c->entries[i];
		if (e->expires == 0)
			continue;
		if (name == NULL || strcasecmp(e->login, name) == 0 ||
		    strcasecmp(e->user, name) == 0) {
			memset(e, 0, sizeof(*e));
			flushed++;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return flushed;
}
