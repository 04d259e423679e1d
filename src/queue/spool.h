/*
 * spool.h — where queued messages live on disk.
 *
 *   <home>/spool/tmp/ID     being written; never acknowledged; removed at start
 *   <home>/spool/queue/ID   committed: fsynced, renamed, directory fsynced
 *   <home>/spool/queue/ID.done   recipients already delivered (appended)
 *   <home>/spool/free/NAME  emptied files of delivered messages, for reuse
 *
 * Spool files are recycled rather than deleted: creating and deleting an
 * inode per message is the dominant cost on file systems whose inode
 * allocator skips recently deleted inodes (ext4 without a journal scans
 * past every inode freed in the last minutes, on every create).
 *
 * A message is acknowledged with "250" only once it is in queue/ and
 * the directory entry is on stable storage (see spool_writer.h).
 */
#ifndef PETREL_SPOOL_H
#define PETREL_SPOOL_H

#include "lib/buf.h"

struct spool {
	char *tmp_dir;
	char *queue_dir;
	char *free_dir;
	unsigned free_hint; /* about how many files free/ holds (atomic) */
};

/* How many emptied files free/ may keep. */
#define SPOOL_FREE_MAX 20000

/* Creates the directories under home. Returns 0 or -1 with *error_r. */
int spool_open(struct spool *spool, const char *home, const char **error_r);
void spool_close(struct spool *spool);

/* Builds "<dir>/<name><suffix>" into out. */
void spool_path(struct buf *out, const char *dir, const char *name, const char *suffix);

/* Removes leftovers in tmp/: messages whose "250" was never sent. */
void spool_discard_partial(const struct spool *spool);

/*
 * Retires the spool file of a fully delivered message: emptied and moved
 * to free/ for reuse, or removed when free/ holds enough. Blocking.
 */
void spool_retire(struct spool *spool, const char *id);

/* Counts free/ (blocking) and refreshes free_hint. */
void spool_count_free(struct spool *spool);

#endif
