/*
 * workpool.c — thread pool with loop-side completions (see workpool.h).
 */
#include "lib/workpool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/xalloc.h"

struct workpool {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct work *todo_head, *todo_tail;
	struct work *finished;
	bool stopping;
	pthread_t *threads;
	unsigned thread_count;
	unsigned pending; /* loop thread only */
	struct event *wakeup;
};

static void *pool_thread(void *arg)
{
	struct workpool *pool = arg;
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->todo_head == NULL && !pool->stopping)
			pthread_cond_wait(&pool->ready, &pool->lock);
		struct work *work = pool->todo_head;
		if (work == NULL)
			break;
		pool->todo_head = work->next;
		if (pool->todo_head == NULL)
			pool->todo_tail = NULL;
		pthread_mutex_unlock(&pool->lock);
		work->run(work);
		pthread_mutex_lock(&pool->lock);
		work->next = pool->finished;
		pool->finished = work;
		event_active(pool->wakeup, EV_READ, 0);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

static void run_completions(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct workpool *pool = arg;
	pthread_mutex_lock(&pool->lock);
	struct work *list = pool->finished;
	pool->finished = NULL;
	pthread_mutex_unlock(&pool->lock);
	while (list) {
		struct work *work = list;
		list = work->next;
		pool->pending--;
		work->done(work);
	}
}

struct workpool *workpool_create(struct event_base *base, unsigned threads)
{
	struct workpool *pool = xcalloc(1, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->ready, NULL);
	pool->wakeup = event_new(base, -1, 0, run_completions, pool);
	pool->thread_count = threads ? threads : 1;
	pool->threads = xcalloc(pool->thread_count, sizeof(*pool->threads));
	for (unsigned i = 0; i < pool->thread_count; i++)
		if (pthread_create(&pool->threads[i], NULL, pool_thread, pool) != 0)
			log_msg(L_FATAL, "event=thread-create-failed");
	return pool;
}

void workpool_submit(struct workpool *pool, struct work *work)
{
	work->next = NULL;
	pool->pending++;
	pthread_mutex_lock(&pool->lock);
	if (pool->todo_tail)
		pool->todo_tail->next = work;
	else
		pool->todo_head = work;
	pool->todo_tail = work;
	pthread_cond_signal(&pool->ready);
	pthread_mutex_unlock(&pool->lock);
}

unsigned workpool_pending(const struct workpool *pool)
{
	return pool->pending;
}

void workpool_destroy(struct workpool **poolp)
{
	struct workpool *pool = *poolp;
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->ready);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->thread_count; i++)
		pthread_join(pool->threads[i], NULL);
	run_completions(-1, 0, pool);
	event_free(pool->wakeup);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->ready);
	free(pool->threads);
	x_free(poolp);
}
