/*
 * spool_writer.c — I/O threads with group-committed directory fsyncs
 * (see spool_writer.h).
 */
#include "queue/spool_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct spool_writer {
	const struct spool *spool;
	struct workpool *pool;
	/* Group commit: renames are numbered; synced_seq covers all renames
	 * up to it. Only one directory fsync runs at a time. */
	pthread_mutex_t lock;
	pthread_cond_t dir_synced;
	uint64_t rename_seq, synced_seq;
	bool dir_sync_running;
	int dir_sync_errno;
	uint64_t free_space;
};

void spool_job_free(struct spool_job **job)
{
	if (*job == NULL)
		return;
	buf_free(&(*job)->head);
	buf_free(&(*job)->body);
	x_free(job);
}

static void measure_free_space(struct spool_writer *w)
{
	struct statvfs st;
	if (statvfs(w->spool->queue_dir, &st) == 0) {
		uint64_t bytes = (uint64_t)st.f_bavail * st.f_frsize;
		__atomic_store_n(&w->free_space, bytes, __ATOMIC_RELAXED);
	}
}

uint64_t spool_writer_free_space(struct spool_writer *w)
{
	return __atomic_load_n(&w->free_space, __ATOMIC_RELAXED);
}

/* Makes the rename numbered seq durable, sharing fsyncs between threads. */
static int wait_dir_synced(struct spool_writer *w, uint64_t seq)
{
	while (w->synced_seq < seq) {
		if (w->dir_sync_running) {
			pthread_cond_wait(&w->dir_synced, &w->lock);
			continue;
		}
		uint64_t target = w->rename_seq;
		w->dir_sync_running = true;
		pthread_mutex_unlock(&w->lock);
		const char *error;
		int r = fs_fsync_dir(w->spool->queue_dir, &error);
		int saved = errno;
		pthread_mutex_lock(&w->lock);
		w->dir_sync_running = false;
		if (r < 0) {
			w->dir_sync_errno = saved;
			pthread_cond_broadcast(&w->dir_synced);
			return -1;
		}
		w->synced_seq = target;
		pthread_cond_broadcast(&w->dir_synced);
	}
	return 0;
}

/* Write + fsync into tmp/, then rename into queue/. Lock not held. */
static int write_and_rename(struct spool_writer *w, struct spool_job *job)
{
	struct buf tmp_path = BUF_INIT, queue_path = BUF_INIT;
	spool_path(&tmp_path, w->spool->tmp_dir, job->id, "");
	spool_path(&queue_path, w->spool->queue_dir, job->id, "");
	int result = -1;
	int fd = open(tmp_path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	struct iovec iov[2] = {{job->head.data, job->head.len}, {job->body.data, job->body.len}};
	size_t total = job->head.len + job->body.len;
	size_t done = 0;
	int iov_index = 0;
	while (done < total) {
		ssize_t n = writev(fd, iov + iov_index, 2 - iov_index);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail_unlink;
		}
		done += (size_t)n;
		/* Advance past what was written, across the two parts. */
		size_t left = (size_t)n;
		while (iov_index < 2 && left >= iov[iov_index].iov_len) {
			left -= iov[iov_index].iov_len;
			iov_index++;
		}
		if (iov_index < 2) {
			iov[iov_index].iov_base = (char *)iov[iov_index].iov_base + left;
			iov[iov_index].iov_len -= left;
		}
	}
	if (fdatasync(fd) < 0)
		goto fail_unlink;
	if (close(fd) < 0) {
		fd = -1;
		goto fail_unlink;
	}
	fd = -1;
	if (rename(tmp_path.data, queue_path.data) < 0)
		goto fail_unlink;
	result = 0;
	goto out;
fail_unlink:
	/* Never leave a half-written message behind (disk full etc.). */
	job->error_errno = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp_path.data);
	errno = job->error_errno;
out:
	if (result < 0 && job->error_errno == 0)
		job->error_errno = errno;
	buf_free(&tmp_path);
	buf_free(&queue_path);
	return result;
}

/* On a pool thread: the whole durable commit of one message. */
static void commit_job(struct work *work)
{
	struct spool_job *job = (struct spool_job *)work;
	struct spool_writer *w = job->writer;
	job->result = write_and_rename(w, job);
	measure_free_space(w);
	if (job->result < 0)
		return;
	pthread_mutex_lock(&w->lock);
	uint64_t seq = ++w->rename_seq;
	if (wait_dir_synced(w, seq) < 0) {
		/* The rename may or may not survive a crash; the client gets a
		 * 4xx and retries (a possible duplicate, never a loss). */
		job->result = -1;
		job->error_errno = w->dir_sync_errno;
	}
	pthread_mutex_unlock(&w->lock);
}

static void job_committed(struct work *work)
{
	struct spool_job *job = (struct spool_job *)work;
	job->done(job);
}

struct spool_writer *spool_writer_create(struct event_base *base, const struct spool *spool,
					 unsigned threads)
{
	struct spool_writer *w = xcalloc(1, sizeof(*w));
	w->spool = spool;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->dir_synced, NULL);
	measure_free_space(w);
	w->pool = workpool_create(base, threads);
	return w;
}

void spool_writer_submit(struct spool_writer *w, struct spool_job *job)
{
	job->work.run = commit_job;
	job->work.done = job_committed;
	job->writer = w;
	job->result = 0;
	job->error_errno = 0;
	workpool_submit(w->pool, &job->work);
}

void spool_writer_destroy(struct spool_writer **writer)
{
	struct spool_writer *w = *writer;
	if (w == NULL)
		return;
	workpool_destroy(&w->pool);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->dir_synced);
	x_free(writer);
}
