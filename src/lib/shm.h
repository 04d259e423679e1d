/*
 * shm.h — shared memory for the tables every petrel process uses (login
 * failures, credentials, per-IP counts, metrics): mapped anonymous and
 * shared by the master before it forks, guarded by a process-shared
 * robust mutex, so that a process dying with the lock held does not
 * wedge the others.
 */
#ifndef PETREL_SHM_H
#define PETREL_SHM_H

#include <pthread.h>
#include <stddef.h>

/* size octets, zeroed; NULL with *error_r ("mapping WHAT: ..."). */
void *shm_map(size_t size, const char *what, const char **error_r);
void shm_unmap(void *map, size_t size);

void shm_mutex_init(pthread_mutex_t *lock);
/* Takes the lock, taking it over from a process that died holding it:
 * the tables hold counts and caches, consistent enough to go on. */
void shm_lock(pthread_mutex_t *lock);

#endif
