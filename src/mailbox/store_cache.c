/*
 * store_cache.c — stores shared by a user's sessions (see store_cache.h).
 */
#include "mailbox/store_cache.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mailbox/maildir.h"

/* At most this many stores nobody uses stay open (for linger seconds): a
 * client that reconnects finds its index open and its folder's snapshot
 * loaded. */
#define LINGER_MAX 16

struct cached_store {
	char *user;
	struct mail_store *store;
	unsigned users;
	time_t idle_since; /* monotonic seconds; when users is 0 */
	struct cached_store *next;
};

struct mail_store_cache {
	char *home, *hostname;
	unsigned linger;
	struct cached_store *stores;
};

struct mail_store_cache *mail_store_cache_new(const char *home, const char *hostname,
                                              unsigned linger)
{
	struct mail_store_cache *cache = xcalloc(1, sizeof(*cache));
	cache->linger = linger;
	cache->home = xstrdup(home);
	cache->hostname = xstrdup(hostname);
	return cache;
}

void mail_store_cache_free(struct mail_store_cache **cache_p)
{
	struct mail_store_cache *cache = *cache_p;
	if (cache == NULL)
		return;
	while (cache->stores) {
		struct cached_store *s = cache->stores;
		cache->stores = s->next;
		mail_store_close(&s->store);
		free(s->user);
		free(s);
	}
	free(cache->home);
	free(cache->hostname);
	free(cache);
	*cache_p = NULL;
}

static time_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void drop(struct cached_store **p)
{
	struct cached_store *s = *p;
	*p = s->next;
	mail_store_close(&s->store);
	free(s->user);
	free(s);
}

void mail_store_cache_expire(struct mail_store_cache *cache)
{
	time_t now = now_seconds();
	unsigned idle = 0;
	/* Newest first (a store is put at the head when opened, and an idle
	 * one moved there when given back): the ones past LINGER_MAX are
	 * the oldest. */
	for (struct cached_store **p = &cache->stores; *p;) {
		struct cached_store *s = *p;
		if (s->users == 0 &&
		    (++idle > LINGER_MAX || now - s->idle_since >= (time_t)cache->linger))
			drop(p);
		else
			p = &s->next;
	}
}

struct mail_store *mail_store_cache_get(struct mail_store_cache *cache, const char *user,
                                        const char **error_r)
{
	for (struct cached_store **p = &cache->stores; *p; p = &(*p)->next) {
		struct cached_store *s = *p;
		if (strcmp(s->user, user) != 0)
			continue;
		/* A lingering store whose index was replaced meanwhile: open
		 * the new one. */
		if (s->users == 0 && mail_store_replaced(s->store)) {
			drop(p);
			break;
		}
		s->users++;
		return s->store;
	}
	struct buf root = BUF_INIT;
	maildir_user_root(cache->home, user, &root);
	struct mail_store *store;
	int r = mail_store_open(root.data, &store, error_r);
	buf_free(&root);
	if (r < 0)
		return NULL;
	mail_store_set_hostname(store, cache->hostname);
	struct cached_store *s = xcalloc(1, sizeof(*s));
	s->user = xstrdup(user);
	s->store = store;
	s->users = 1;
	s->next = cache->stores;
	cache->stores = s;
	return store;
}

void mail_store_cache_put(struct mail_store_cache *cache, struct mail_store **store)
{
	for (struct cached_store **p = &cache->stores; *p; p = &(*p)->next) {
		struct cached_store *s = *p;
		if (s->store != *store)
			continue;
		if (--s->users == 0) {
			s->idle_since = now_seconds();
			*p = s->next;
			s->next = cache->stores;
			cache->stores = s;
		}
		break;
	}
	*store = NULL;
	mail_store_cache_expire(cache);
}
