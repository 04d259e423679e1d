/*
 * penalty.c — see penalty.h.
 */
#include "auth/penalty.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/shm.h"

/* Linear probing stops here: the oldest entry in the run gives way. */
#define PROBE 8

struct penalty_slot {
	uint64_t key; /* keyed hash of kind and key; 0: empty */
	time_t last;  /* last failure */
	time_t locked_until;
	unsigned failures;
};

struct penalty_table {
	pthread_mutex_t lock;
	unsigned char secret[PENALTY_SECRET_LEN];
	unsigned slot_count;
	size_t size; /* of the mapping */
	struct penalty_slot slots[];
};

static struct penalty_table *current;

struct penalty_table *penalty_table_create(unsigned slots, const char **error_r)
{
	size_t size =
	    sizeof(struct penalty_table) + (size_t)slots * sizeof(struct penalty_slot);
	void *map = shm_map(size, "the login failure table", error_r);
	if (map == NULL)
		return NULL;
	struct penalty_table *t = map;
	memset(t, 0, size);
	t->slot_count = slots;
	t->size = size;
	if (RAND_bytes(t->secret, sizeof(t->secret)) != 1) {
		shm_unmap(map, size);
		*error_r = "no randomness for the login failure table";
		return NULL;
	}
	shm_mutex_init(&t->lock);
	return t;
}

void penalty_table_destroy(struct penalty_table **table)
{
	if (*table == NULL)
		return;
	if (current == *table)
		current = NULL;
	shm_unmap(*table, (*table)->size);
	*table = NULL;
}

void penalty_table_set_current(struct penalty_table *table)
{
	current = table;
}

struct penalty_table *penalty_table_current(void)
{
	return current;
}

const unsigned char *penalty_secret(const struct penalty_table *table)
{
	return table->secret;
}

static void lock(struct penalty_table *t)
{
	shm_lock(&t->lock);
}

/* Keyed hash of "kind:key" (user names compared without case). */
static uint64_t slot_key(const struct penalty_table *t, enum penalty_kind kind,
                         const char *key)
{
	unsigned char digest[32];
	unsigned int len = sizeof(digest);
	char text[600];
	size_t n = 0;
	text[n++] = kind == PENALTY_IP ? 'i' : 'u';
	for (const char *p = key; *p && n < sizeof(text) - 1; p++)
		text[n++] =
		    kind == PENALTY_USER && *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
	HMAC(EVP_sha256(), t->secret, sizeof(t->secret), (const unsigned char *)text, n,
	     digest, &len);
	uint64_t k;
	memcpy(&k, digest, sizeof(k));
	return k ? k : 1;
}

/* How willing we are to give a slot to a new key: empty first, then
 * forgotten, then the oldest; a live lockout last. */
static int reuse_rank(const struct penalty_slot *slot, time_t now, unsigned window)
{
	if (slot->key == 0)
		return 0;
	if (slot->locked_until > now)
		return 3;
	return slot->last + (time_t)window <= now ? 1 : 2;
}

/* The slot for k; with create, a slot given to k if it had none. */
static struct penalty_slot *find(struct penalty_table *t, uint64_t k, bool create,
                                 time_t now, unsigned window)
{
	struct penalty_slot *victim = NULL;
	int victim_rank = 4;
	for (unsigned i = 0; i < PROBE; i++) {
		struct penalty_slot *slot = &t->slots[(k + i) % t->slot_count];
		if (slot->key == k)
			return slot;
		int rank = reuse_rank(slot, now, window);
		if (rank < victim_rank ||
		    (rank == victim_rank && slot->last < victim->last)) {
			victim = slot;
			victim_rank = rank;
		}
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->key = k;
	return victim;
}

/* Expired failures and lockouts are forgotten as they are read. */
static void age(struct penalty_slot *slot, time_t now, unsigned window)
{
	if (slot->locked_until && slot->locked_until <= now) {
		slot->locked_until = 0;
		slot->failures = 0;
	}
	if (slot->last + (time_t)window <= now && slot->locked_until == 0)
		slot->failures = 0;
}

void penalty_get(struct penalty_table *t, enum penalty_kind kind, const char *key,
                 time_t now, const struct auth_config *auth, struct penalty_state *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t k = slot_key(t, kind, key);
	lock(t);
	struct penalty_slot *slot = find(t, k, false, now, auth->failure_window);
	if (slot) {
		age(slot, now, auth->failure_window);
		out->failures = slot->failures;
		out->locked_until = slot->locked_until;
	}
	pthread_mutex_unlock(&t->lock);
}

void penalty_fail(struct penalty_table *t, enum penalty_kind kind, const char *key,
                  time_t now, const struct auth_config *auth, struct penalty_state *out)
{
	uint64_t k = slot_key(t, kind, key);
	unsigned limit =
	    kind == PENALTY_IP ? auth->lockout_after_ip : auth->lockout_after_user;
	lock(t);
	struct penalty_slot *slot = find(t, k, true, now, auth->failure_window);
	age(slot, now, auth->failure_window);
	if (slot->failures < UINT32_MAX)
		slot->failures++;
	slot->last = now;
	if (limit && slot->failures >= limit && slot->locked_until == 0)
		slot->locked_until = now + (time_t)auth->lockout_seconds;
	out->failures = slot->failures;
	out->locked_until = slot->locked_until;
	pthread_mutex_unlock(&t->lock);
}

void penalty_clear(struct penalty_table *t, enum penalty_kind kind, const char *key)
{
	uint64_t k = slot_key(t, kind, key);
	lock(t);
	struct penalty_slot *slot = find(t, k, false, 0, 0);
	if (slot)
		memset(slot, 0, sizeof(*slot));
	pthread_mutex_unlock(&t->lock);
}

unsigned penalty_delay_ms(const struct auth_config *auth, unsigned failures)
{
	if (failures == 0 || auth->failure_delay_ms == 0)
		return 0;
	uint64_t delay = auth->failure_delay_ms;
	for (unsigned i = 1; i < failures && delay < auth->failure_max_delay_ms; i++)
		delay *= 2;
	return delay > auth->failure_max_delay_ms ? auth->failure_max_delay_ms
	                                          : (unsigned)delay;
}

unsigned penalty_login_failed(const struct auth_config *auth, const char *session,
                              const char *ip, const char *login, unsigned *failures_r)
{
	struct penalty_table *table = penalty_table_current();
	struct penalty_state by_ip = {0}, by_user = {0};
	time_t now = time(NULL);
	if (table) {
		penalty_fail(table, PENALTY_IP, ip, now, auth, &by_ip);
		if (login[0])
			penalty_fail(table, PENALTY_USER, login, now, auth, &by_user);
	}
	unsigned failures =
	    by_ip.failures > by_user.failures ? by_ip.failures : by_user.failures;
	if (by_ip.locked_until > now || by_user.locked_until > now)
		log_msg(L_WARN,
		        "event=auth-lockout session=%s client=%s user=%s until=%lld",
		        session, ip, LOG_Q(login),
		        (long long)(by_ip.locked_until > by_user.locked_until
		                        ? by_ip.locked_until
		                        : by_user.locked_until));
	*failures_r = failures;
	return penalty_delay_ms(auth, failures);
}

void penalty_login_succeeded(const char *ip, const char *login)
{
	struct penalty_table *table = penalty_table_current();
	if (table) {
		penalty_clear(table, PENALTY_IP, ip);
		penalty_clear(table, PENALTY_USER, login);
	}
}
