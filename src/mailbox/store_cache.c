/*
 * store_cache.c — stores shared by a user's sessions (see store_cache.h).
 */
#include "mailbox/store_cache.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"
#include "mailbox/maildir.h"

struct cached_store {
	char *user;
	struct mail_store *store;
	unsigned users;
	struct cached_store *next;
};

struct mail_store_cache {
	char *home, *hostname;
	struct cached_store *stores;
};

struct mail_store_cache *mail_store_cache_new(const char *home, const char *hostname)
{
	struct mail_store_cache *cache = xcalloc(1, sizeof(*cache));
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

struct mail_store *mail_store_cache_get(struct mail_store_cache *cache, const char *user,
                                        const char **error_r)
{
	for (struct cached_store *s = cache->stores; s; s = s->next)
		if (strcmp(s->user, user) == 0) {
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
			*p = s->next;
			mail_store_close(&s->store);
			free(s->user);
			free(s);
		}
		break;
	}
	*store = NULL;
}
