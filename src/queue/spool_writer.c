/*
 * spool_writer.c — I/O threads with group-committed directory fsyncs
 * (see spool_writer.h).
 */
#include "queue/spool_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/dirsync.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define FREE_BATCH 256

struct spool_writer {
	const struct spool *spool;
	struct workpool *pool;
	uint64_t free_space;
	/* Names of emptied spool files seen in free/, to reuse (spool.h). */
	pthread_mutex_t free_lock;
	char free_names[FREE_BATCH][QUEUE_ID_LEN + 8];
	size_t free_count;
	struct timespec free_scanned_mtime; /* free/ as of the last scan */
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

/* Refills the name cache from free/, unless free/ has not changed since
 * the last scan (then it holds nothing we have not tried). */
static void scan_free(struct spool_writer *w)
{
	struct stat st;
	if (stat(w->spool->free_dir, &st) < 0 ||
	    (st.st_mtim.tv_sec == w->free_scanned_mtime.tv_sec &&
	     st.st_mtim.tv_nsec == w->free_scanned_mtime.tv_nsec))
		return;
	w->free_scanned_mtime = st.st_mtim;
	DIR *dir = opendir(w->spool->free_dir);
	if (dir == NULL)
		return;
	struct dirent *entry;
	while (w->free_count < FREE_BATCH && (entry = readdir(dir)) != NULL) {
		size_t len = strlen(entry->d_name);
		if (entry->d_name[0] == '.' || len >= sizeof(w->free_names[0]))
			continue;
		memcpy(w->free_names[w->free_count++], entry->d_name, len + 1);
	}
	closedir(dir);
}

/*
 * Opens tmp/ID for writing: an emptied spool file taken from free/ when
 * there is one (no inode to allocate), else a new file. Another worker
 * process may take a name first; then the next one is tried.
 */
static int open_spool_file(struct spool_writer *w, const char *tmp_path)
{
	struct buf free_path = BUF_INIT;
	int fd = -1;
	while (w) {
		char name[QUEUE_ID_LEN + 8];
		pthread_mutex_lock(&w->free_lock);
		if (w->free_count == 0)
			scan_free(w);
		bool have = w->free_count > 0;
		if (have)
			memcpy(name, w->free_names[--w->free_count], sizeof(name));
		pthread_mutex_unlock(&w->free_lock);
		if (!have)
			break;
		spool_path(&free_path, w->spool->free_dir, name, "");
		if (rename(free_path.data, tmp_path) == 0) {
			fd = open(tmp_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
			break;
		}
	}
	buf_free(&free_path);
	if (fd < 0)
		fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	return fd;
}

/*
 * Writes the message to tmp/, renames it into queue/, then syncs the file
 * and the directory. The rename comes first so that one journal commit
 * carries both the data and the new name; a crash before the syncs can
 * leave at most a file cut short, which the spool parser refuses and
 * which was never acknowledged. Lock not held.
 */
static int commit_to_queue(const struct spool *spool, struct spool_writer *w,
                           struct spool_job *job)
{
	struct buf tmp_path = BUF_INIT, queue_path = BUF_INIT;
	spool_path(&tmp_path, spool->tmp_dir, job->id, "");
	spool_path(&queue_path, spool->queue_dir, job->id, "");
	int result = -1;
	const char *error;
	bool renamed = false;
	int fd = open_spool_file(w, tmp_path.data);
	if (fd < 0)
		goto fail;
	struct iovec iov[2] = {{job->head.data, job->head.len},
	                       {job->body.data, job->body.len}};
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
			goto fail;
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
	if (rename(tmp_path.data, queue_path.data) < 0)
		goto fail;
	renamed = true;
	if (fdatasync(fd) < 0 || dirsync_after_change(spool->queue_dir, &error) < 0)
		goto fail;
	result = 0;
	goto out;
fail:
	/* Never leave a half-written or unacknowledged message behind. */
	job->error_errno = errno ? errno : EIO;
	unlink(renamed ? queue_path.data : tmp_path.data);
out:
	if (fd >= 0)
		close(fd);
	buf_free(&tmp_path);
	buf_free(&queue_path);
	return result;
}

/* On a pool thread: the whole durable commit of one message. */
static void commit_job(struct work *work)
{
	struct spool_job *job = (struct spool_job *)work;
	struct spool_writer *w = job->writer;
	job->result = commit_to_queue(w->spool, w, job);
	measure_free_space(w);
}

static void job_committed(struct work *work)
{
	struct spool_job *job = (struct spool_job *)work;
	job->done(job);
}

int spool_commit_now(const struct spool *spool, struct spool_job *job)
{
	job->error_errno = 0;
	return commit_to_queue(spool, NULL, job);
}

struct spool_writer *spool_writer_create(struct event_base *base,
                                         const struct spool *spool, unsigned threads)
{
	struct spool_writer *w = xcalloc(1, sizeof(*w));
	w->spool = spool;
	pthread_mutex_init(&w->free_lock, NULL);
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
	pthread_mutex_destroy(&w->free_lock);
	x_free(writer);
}
