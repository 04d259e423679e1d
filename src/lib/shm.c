/*
 * shm.c — see shm.h.
 */
#include "lib/shm.h"

#include <errno.h>
#include <sys/mman.h>

#include "lib/error.h"

void *shm_map(size_t size, const char *what, const char **error_r)
{
	void *map =
	    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		*error_r = error_errno(error_fmt("mapping %s", what));
		return NULL;
	}
	return map; /* zeroed by mmap */
}

void shm_unmap(void *map, size_t size)
{
	munmap(map, size);
}

void shm_mutex_init(pthread_mutex_t *lock)
{
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(lock, &attr);
	pthread_mutexattr_destroy(&attr);
}

void shm_lock(pthread_mutex_t *lock)
{
	if (pthread_mutex_lock(lock) == EOWNERDEAD)
		pthread_mutex_consistent(lock);
}
