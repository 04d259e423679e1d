/*
 * pid.c — see pid.h.
 */
#include "lib/pid.h"

#include <pthread.h>
#include <unistd.h>

static pid_t cached; /* 0: ask */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void forget(void)
{
	__atomic_store_n(&cached, 0, __ATOMIC_RELAXED);
}

static void watch_forks(void)
{
	pthread_atfork(NULL, NULL, forget);
}

pid_t pid_current(void)
{
	pid_t pid = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	if (pid == 0) {
		pthread_once(&once, watch_forks);
		pid = getpid();
		__atomic_store_n(&cached, pid, __ATOMIC_RELAXED);
	}
	return pid;
}
