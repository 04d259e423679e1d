/*
 * dirsync.c — shared directory fsyncs (see dirsync.h).
 *
 * Each directory in use has a slot: changes are numbered, synced_seq
 * covers every change numbered up to it, and at most one fsync of the
 * directory runs at a time. A slot with no waiters may be reused.
 */
#include "lib/dirsync.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/error.h"
#include "lib/fsutil.h"

#define SLOTS    64
#define PATH_LEN 512

struct slot {
	char path[PATH_LEN];
	uint64_t change_seq, synced_seq;
	bool running;
	int users; /* threads waiting on this slot */
	int last_errno;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t synced = PTHREAD_COND_INITIALIZER;
static struct slot slots[SLOTS];

static struct slot *find_slot(const char *dir)
{
	struct slot *free_slot = NULL;
	for (int i = 0; i < SLOTS; i++) {
		if (strcmp(slots[i].path, dir) == 0)
			return &slots[i];
		if (free_slot == NULL && slots[i].users == 0)
			free_slot = &slots[i];
	}
	if (free_slot) {
		memset(free_slot, 0, sizeof(*free_slot));
		memcpy(free_slot->path, dir, strlen(dir) + 1);
	}
	return free_slot;
}

int dirsync_after_change(const char *dir, const char **error_r)
{
	if (strlen(dir) >= PATH_LEN)
		return fs_fsync_dir(dir, error_r);
	pthread_mutex_lock(&lock);
	struct slot *slot;
	while ((slot = find_slot(dir)) == NULL)
		pthread_cond_wait(&synced, &lock); /* every slot busy: rare */
	slot->users++;
	uint64_t mine = ++slot->change_seq;
	int result = 0;
	while (slot->synced_seq < mine) {
		if (slot->running) {
			pthread_cond_wait(&synced, &lock);
			continue;
		}
		uint64_t target = slot->change_seq;
		slot->running = true;
		pthread_mutex_unlock(&lock);
		const char *error = NULL;
		int r = fs_fsync_dir(dir, &error);
		int saved = errno;
		pthread_mutex_lock(&lock);
		slot->running = false;
		pthread_cond_broadcast(&synced);
		if (r < 0) {
			/* Whoever's change this sync was to cover must fail; the
			 * next caller tries again with a fresh fsync. */
			slot->last_errno = saved;
			result = -1;
			*error_r = error_fmt("fsync %s: %s", dir, strerror(saved));
			break;
		}
		slot->synced_seq = target;
	}
	slot->users--;
	pthread_cond_broadcast(&synced);
	pthread_mutex_unlock(&lock);
	if (result < 0)
		errno = slot->last_errno;
	return result;
}
