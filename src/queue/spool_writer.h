/*
 * spool_writer.h — durable spool commits off the event loop.
 *
 * A worker hands a finished message to the writer; I/O threads write it
 * to tmp/, rename it into queue/, fsync the file and the directory, then
 * the job's done callback runs back on the event loop, where the session
 * can finally say "250". Directory fsyncs are shared (lib/dirsync.h): one
 * covers every rename made before it started, which is what lets many
 * concurrent sessions commit at the disk's pace rather than one fsync
 * round-trip each.
 */
#ifndef PETREL_SPOOL_WRITER_H
#define PETREL_SPOOL_WRITER_H

#include <event2/event.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/workpool.h"
#include "message/queue_id.h"
#include "queue/spool.h"

struct spool_job;
typedef void spool_job_done(struct spool_job *job);

struct spool_job {
	struct work work; /* first: the pool hands it back */
	struct spool_writer *writer;
	char id[QUEUE_ID_LEN + 1];
	struct buf head; /* envelope records and the Received header */
	struct buf body; /* the message as received */
	/* Results, valid in done(): 0 or -1, and errno of the failure. */
	int result;
	int error_errno;
	spool_job_done *done;
	void *owner;   /* cleared by an owner that goes away before done() */
	void *context; /* outlives the job (the server) */
};

struct spool_writer;

struct spool_writer *spool_writer_create(struct event_base *base,
                                         const struct spool *spool, unsigned threads);
/* Waits for queued jobs, runs their callbacks, stops the threads. */
void spool_writer_destroy(struct spool_writer **writer);

void spool_writer_submit(struct spool_writer *writer, struct spool_job *job);

/* Free octets on the spool file system, as last measured by a thread. */
uint64_t spool_writer_free_space(struct spool_writer *writer);

void spool_job_free(struct spool_job **job);

/* The same durable commit, blocking, on the caller's thread (for
 * messages the queue makes itself: DSNs). 0, or -1 with job->error_errno. */
int spool_commit_now(const struct spool *spool, struct spool_job *job);

#endif
