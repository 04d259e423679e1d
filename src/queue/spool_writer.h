/*
 * spool_writer.h — messages written to the spool as they arrive, and
 * committed durably off the event loop.
 *
 * A session opens a stream when DATA (or the first BDAT) starts and
 * appends the message as it arrives; whenever SPOOL_CHUNK octets have
 * gathered they go to tmp/ID on an I/O thread, so memory per message is
 * a small constant whatever its size. One write is in flight at a time:
 * when the next chunk is full before it is done, the session stops
 * reading its client until the `ready` callback (back-pressure from the
 * disk to the network). A message that ends within its first chunk
 * never touches the disk before its commit: one write, as before.
 *
 * The commit appends the envelope (message/envelope.h), renames the file
 * into queue/, and fsyncs the file and the directory; only then does
 * `done` run on the loop and the session say "250". Directory fsyncs are
 * shared (lib/dirsync.h): one covers every rename made before it started,
 * so many concurrent sessions commit at the disk's pace rather than one
 * fsync round-trip each.
 */
#ifndef PETREL_SPOOL_WRITER_H
#define PETREL_SPOOL_WRITER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/workpool.h"
#include "message/envelope.h"
#include "message/queue_id.h"
#include "queue/spool.h"

/* Octets gathered before they are written out. */
#define SPOOL_CHUNK (64 * 1024)

struct spool_writer;
struct spool_stream;

/* The commit's outcome, on the loop: result 0, or -1 with error_errno. */
typedef void spool_committed_fn(void *owner, void *context, const char *id, int result,
                                int error_errno);
/* A write has finished: the session may append again. */
typedef void spool_ready_fn(void *owner);

struct spool_writer *spool_writer_create(struct event_base *base,
                                         const struct spool *spool, unsigned threads);
/* Waits for queued work, runs its callbacks, stops the threads. */
void spool_writer_destroy(struct spool_writer **writer);

/* Free octets on the spool file system, as last measured by a thread. */
uint64_t spool_writer_free_space(struct spool_writer *writer);

/* A new message, named by a new queue ID. Nothing is written yet. */
struct spool_stream *spool_stream_open(struct spool_writer *writer, spool_ready_fn *ready,
                                       void *owner);
const char *spool_stream_id(const struct spool_stream *stream);

/* Where the caller appends the message's next octets. */
struct buf *spool_stream_buffer(struct spool_stream *stream);

/*
 * After appending: a full buffer goes to an I/O thread. Returns false
 * when the caller must stop appending (the previous write is still in
 * flight and the buffer is full): ready() follows.
 */
bool spool_stream_flush(struct spool_stream *stream);

/*
 * Writes everything appended so far, whatever its size, so that the file
 * holds the whole message (the end-of-data hooks read it from there).
 * True when it already does; otherwise ready() follows once it does.
 */
bool spool_stream_write_out(struct spool_stream *stream);

/*
 * After write_out: a descriptor of the file to read the message from
 * (the caller closes it), *offset_r the position of its first octet; -1
 * with errno when nothing could be written (or nothing was: an empty
 * message has no file yet).
 */
int spool_stream_reader(const struct spool_stream *stream, uint64_t *offset_r);

/* Octets of message appended so far. */
uint64_t spool_stream_length(const struct spool_stream *stream);

/*
 * Ends the message and commits it: env is its envelope, header the header
 * section to deliver in place of the first body_offset octets received
 * (ours prepended, as the stages left it). done(owner, context, ...) runs
 * on the loop when the message is durable or has failed. *stream becomes
 * NULL: it is the writer's. The session hands over a finished message
 * with this one call; the writer names it, serializes the envelope and
 * syncs.
 */
void spool_stream_commit(struct spool_stream **stream, const struct envelope *env,
                         const char *header, size_t header_len, uint64_t body_offset,
                         spool_committed_fn *done, void *context);

/* The owner is going away: callbacks still run, with owner NULL. */
void spool_stream_disown(struct spool_stream *stream);

/* Abandons the message: what was written is removed. *stream becomes NULL. */
void spool_stream_abort(struct spool_stream **stream);

/* The same durable commit for a whole message in memory, blocking, on the
 * caller's thread (messages the queue makes itself: DSNs). */
int spool_commit_now(const struct spool *spool, const char *id, const struct buf *content,
                     const struct buf *trailer, int *error_errno_r);

#endif
