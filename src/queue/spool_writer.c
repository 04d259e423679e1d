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
#include <stddef.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/dirsync.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "message/envelope.h"

#define FREE_BATCH 256

#define SPARE_BUFFERS 16

struct spool_writer {
	const struct spool *spool;
	struct workpool *pool;
	uint64_t free_space;
	int64_t free_measured_ms; /* when, on the monotonic clock */
	struct work measure;      /* a measurement asked for from the loop */
	bool measuring;
	/* Names of emptied spool files seen in free/, to reuse (spool.h). */
	pthread_mutex_t free_lock;
	char free_names[FREE_BATCH][QUEUE_ID_LEN + 8];
	size_t free_count;
	struct timespec free_scanned_mtime; /* free/ as of the last scan */
	/* Message buffers of finished streams, for the next ones (loop only):
	 * a fresh 128 KB buffer per message is a fresh mapping, and faulting
	 * its pages in cost 3% of the machine with 100 KB messages. */
	struct buf spare[SPARE_BUFFERS];
	size_t spare_count;
};

/* Free space is measured on a thread: after writes at most every
 * FREE_SPACE_MS (not a statvfs per message), always after a file went,
 * and when the loop finds the figure older than FREE_SPACE_STALE_MS
 * (space freed by someone else shows, and a full disk is not believed
 * full for ever). */
#define FREE_SPACE_MS       100
#define FREE_SPACE_STALE_MS 1000

static int64_t monotonic_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void measure_free_space(struct spool_writer *w, bool always)
{
	int64_t ms = monotonic_ms();
	int64_t last = __atomic_load_n(&w->free_measured_ms, __ATOMIC_RELAXED);
	if (always)
		__atomic_store_n(&w->free_measured_ms, ms, __ATOMIC_RELAXED);
	else if (ms - last < FREE_SPACE_MS ||
	         !__atomic_compare_exchange_n(&w->free_measured_ms, &last, ms, false,
	                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return; /* measured lately, or being measured */
	struct statvfs st;
	if (statvfs(w->spool->queue_dir, &st) == 0) {
		uint64_t bytes = (uint64_t)st.f_bavail * st.f_frsize;
		__atomic_store_n(&w->free_space, bytes, __ATOMIC_RELAXED);
	}
}

static struct spool_writer *writer_of_measure(struct work *work)
{
	return (struct spool_writer *)((char *)work -
	                               offsetof(struct spool_writer, measure));
}

static void measure_run(struct work *work)
{
	measure_free_space(writer_of_measure(work), true);
}

static void measure_done(struct work *work)
{
	writer_of_measure(work)->measuring = false;
}

uint64_t spool_writer_free_space(struct spool_writer *w)
{
	int64_t last = __atomic_load_n(&w->free_measured_ms, __ATOMIC_RELAXED);
	if (!w->measuring && monotonic_ms() - last >= FREE_SPACE_STALE_MS) {
		w->measuring = true;
		w->measure.run = measure_run;
		w->measure.done = measure_done;
		workpool_submit(w->pool, &w->measure);
	}
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
			fd = open(tmp_path, O_RDWR | O_TRUNC | O_CLOEXEC);
			break;
		}
	}
	buf_free(&free_path);
	if (fd < 0)
		fd = open(tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	return fd;
}

struct spool_stream {
	struct work work; /* first: the pool hands it back */
	struct spool_writer *writer;
	char id[QUEUE_ID_LEN + 1];
	int fd;              /* tmp/ID, once the first write opened it */
	uint64_t written;    /* message octets in the file (the threads' count) */
	uint64_t handed;     /* octets handed to the threads (the loop's count) */
	struct buf pending;  /* the loop appends here */
	struct buf flushing; /* a thread writes this */
	struct buf trailer;  /* the envelope, at the commit */
	bool in_flight;
	bool writing_out; /* spool_stream_write_out: every octet, any size */
	bool committing;
	bool aborted;
	int error_errno; /* the first failure; sticky */
	int result;      /* of the commit */
	spool_ready_fn *ready;
	spool_committed_fn *done;
	void *owner, *context;
};

static void stream_path(struct buf *out, const struct spool *spool,
                        const struct spool_stream *s, bool queued)
{
	spool_path(out, queued ? spool->queue_dir : spool->tmp_dir, s->id, "");
}

/* Writes all of data at the end of the file; -1 with errno. */
static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* On a thread: tmp/ID opened and begun, if it is not yet. */
static int ensure_open(struct spool_stream *s, const char *tmp_path)
{
	if (s->fd >= 0)
		return 0;
	s->fd = open_spool_file(s->writer, tmp_path);
	if (s->fd < 0)
		return -1;
	struct buf magic = BUF_INIT;
	envelope_spool_begin(&magic);
	int r = write_all(s->fd, magic.data, magic.len);
	buf_free(&magic);
	return r;
}

static void write_run(struct work *work)
{
	struct spool_stream *s = (struct spool_stream *)work;
	if (s->error_errno == 0) {
		struct buf path = BUF_INIT;
		stream_path(&path, s->writer->spool, s, false);
		if (ensure_open(s, path.data) < 0 ||
		    write_all(s->fd, s->flushing.data, s->flushing.len) < 0)
			s->error_errno = errno ? errno : EIO;
		else
			s->written += s->flushing.len;
		buf_free(&path);
	}
	buf_reset(&s->flushing);
	measure_free_space(s->writer, false);
}

/*
 * On a thread: the rest of the message and the envelope, then the rename
 * into queue/ and the syncs. The rename comes before the syncs so that one
 * journal commit carries both the data and the new name; a crash before
 * the syncs can leave at most a file cut short, which has no footer, is
 * refused by the parser, and was never acknowledged.
 */
static void commit_run(struct work *work)
{
	struct spool_stream *s = (struct spool_stream *)work;
	const struct spool *spool = s->writer->spool;
	struct buf tmp = BUF_INIT, queued = BUF_INIT;
	stream_path(&tmp, spool, s, false);
	stream_path(&queued, spool, s, true);
	const char *error;
	bool renamed = false;
	s->result = -1;
	if (s->error_errno) {
		errno = s->error_errno;
		goto fail;
	}
	if (ensure_open(s, tmp.data) < 0 ||
	    write_all(s->fd, s->pending.data, s->pending.len) < 0 ||
	    write_all(s->fd, s->trailer.data, s->trailer.len) < 0)
		goto fail;
	if (rename(tmp.data, queued.data) < 0)
		goto fail;
	renamed = true;
	if (fdatasync(s->fd) < 0 || dirsync_after_change(spool->queue_dir, &error) < 0)
		goto fail;
	s->result = 0;
	goto out;
fail:
	/* Never leave a half-written or unacknowledged message behind. */
	s->error_errno = errno ? errno : EIO;
	if (s->fd >= 0 || renamed)
		unlink(renamed ? queued.data : tmp.data);
out:
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	buf_free(&tmp);
	buf_free(&queued);
	measure_free_space(s->writer, s->result < 0);
}

/* On a thread: an abandoned message's file goes. */
static void abort_run(struct work *work)
{
	struct spool_stream *s = (struct spool_stream *)work;
	if (s->fd >= 0) {
		struct buf path = BUF_INIT;
		stream_path(&path, s->writer->spool, s, false);
		unlink(path.data);
		buf_free(&path);
		close(s->fd);
		s->fd = -1;
		measure_free_space(s->writer, true);
	}
}

static void take_spare(struct spool_writer *w, struct buf *b)
{
	if (w->spare_count > 0)
		*b = w->spare[--w->spare_count];
}

/* Keeps b for another stream if there is room and it is of the usual
 * size (up to two chunks); frees it otherwise. */
static void give_spare(struct spool_writer *w, struct buf *b)
{
	if (b->data && b->cap <= 2 * SPOOL_CHUNK + 16384 &&
	    w->spare_count < SPARE_BUFFERS) {
		buf_reset(b);
		w->spare[w->spare_count++] = *b;
		*b = (struct buf)BUF_INIT;
		return;
	}
	buf_free(b);
}

static void stream_free(struct spool_stream *s)
{
	give_spare(s->writer, &s->pending);
	give_spare(s->writer, &s->flushing);
	buf_free(&s->trailer);
	free(s);
}

static void submit(struct spool_stream *s, void (*run)(struct work *),
                   void (*done)(struct work *))
{
	s->work.run = run;
	s->work.done = done;
	s->in_flight = true;
	workpool_submit(s->writer->pool, &s->work);
}

static void write_done(struct work *work);
static void commit_done(struct work *work);
static void abort_done(struct work *work);

static void start_write(struct spool_stream *s)
{
	struct buf swap = s->flushing;
	s->flushing = s->pending;
	s->pending = swap;
	buf_reset(&s->pending);
	s->handed += s->flushing.len;
	submit(s, write_run, write_done);
}

static void write_done(struct work *work)
{
	struct spool_stream *s = (struct spool_stream *)work;
	s->in_flight = false;
	if (s->aborted) {
		submit(s, abort_run, abort_done);
		return;
	}
	if (s->committing) {
		submit(s, commit_run, commit_done);
		return;
	}
	if ((s->pending.len >= SPOOL_CHUNK || (s->writing_out && s->pending.len > 0)) &&
	    s->error_errno == 0) {
		start_write(s);
		if (s->writing_out)
			return; /* ready() when all of it is in the file */
	}
	if (s->owner && s->ready)
		s->ready(s->owner);
}

static void commit_done(struct work *work)
{
	struct spool_stream *s = (struct spool_stream *)work;
	s->done(s->owner, s->context, s->id, s->result, s->error_errno);
	stream_free(s);
}

static void abort_done(struct work *work)
{
	stream_free((struct spool_stream *)work);
}

struct spool_stream *spool_stream_open(struct spool_writer *w, spool_ready_fn *ready,
                                       void *owner)
{
	struct spool_stream *s = xcalloc(1, sizeof(*s));
	s->writer = w;
	s->fd = -1;
	s->ready = ready;
	s->owner = owner;
	take_spare(w, &s->pending);
	take_spare(w, &s->flushing);
	queue_id_new(s->id);
	return s;
}

const char *spool_stream_id(const struct spool_stream *s)
{
	return s->id;
}

struct buf *spool_stream_buffer(struct spool_stream *s)
{
	return &s->pending;
}

bool spool_stream_flush(struct spool_stream *s)
{
	if (!s->in_flight && s->error_errno) {
		/* Nothing more can be kept; the commit will say why. */
		s->handed += s->pending.len;
		buf_reset(&s->pending);
		return true;
	}
	if (s->pending.len < SPOOL_CHUNK)
		return true;
	if (s->in_flight)
		return false;
	start_write(s);
	return true;
}

bool spool_stream_write_out(struct spool_stream *s)
{
	s->writing_out = true;
	if (s->in_flight)
		return false;
	if (s->pending.len == 0 || s->error_errno)
		return true;
	start_write(s);
	return false;
}

int spool_stream_reader(const struct spool_stream *s, uint64_t *offset_r)
{
	if (s->in_flight || s->pending.len > 0 || s->error_errno || s->fd < 0) {
		errno = s->error_errno ? s->error_errno : EAGAIN;
		return -1;
	}
	struct buf magic = BUF_INIT;
	envelope_spool_begin(&magic);
	*offset_r = magic.len;
	buf_free(&magic);
	return fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
}

uint64_t spool_stream_length(const struct spool_stream *s)
{
	return s->handed + s->pending.len;
}

void spool_stream_commit(struct spool_stream **stream, const struct envelope *env,
                         const char *header, size_t header_len, uint64_t body_offset,
                         spool_committed_fn *done, void *context)
{
	struct spool_stream *s = *stream;
	*stream = NULL;
	envelope_spool_end(env, header, header_len, body_offset, spool_stream_length(s),
	                   &s->trailer);
	s->done = done;
	s->context = context;
	s->committing = true;
	if (!s->in_flight)
		submit(s, commit_run, commit_done);
}

void spool_stream_disown(struct spool_stream *s)
{
	s->owner = NULL;
}

void spool_stream_abort(struct spool_stream **stream)
{
	struct spool_stream *s = *stream;
	*stream = NULL;
	if (s == NULL)
		return;
	s->aborted = true;
	s->owner = NULL;
	if (s->in_flight)
		return; /* write_done finishes the job */
	if (s->fd < 0) {
		stream_free(s);
		return;
	}
	submit(s, abort_run, abort_done);
}

int spool_commit_now(const struct spool *spool, const char *id, const struct buf *content,
                     const struct buf *trailer, int *error_errno_r)
{
	struct spool_writer w = {.spool = spool};
	pthread_mutex_init(&w.free_lock, NULL);
	struct spool_stream s = {.writer = &w, .fd = -1};
	memcpy(s.id, id, QUEUE_ID_LEN + 1);
	s.pending = *content;
	s.trailer = *trailer;
	commit_run(&s.work);
	pthread_mutex_destroy(&w.free_lock);
	*error_errno_r = s.error_errno;
	return s.result;
}

struct spool_writer *spool_writer_create(struct event_base *base,
                                         const struct spool *spool, unsigned threads)
{
	struct spool_writer *w = xcalloc(1, sizeof(*w));
	w->spool = spool;
	pthread_mutex_init(&w->free_lock, NULL);
	measure_free_space(w, true);
	w->pool = workpool_create(base, threads);
	return w;
}

void spool_writer_destroy(struct spool_writer **writer)
{
	struct spool_writer *w = *writer;
	if (w == NULL)
		return;
	workpool_destroy(&w->pool);
	while (w->spare_count > 0)
		buf_free(&w->spare[--w->spare_count]);
	pthread_mutex_destroy(&w->free_lock);
	x_free(writer);
}
