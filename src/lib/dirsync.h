/*
 * dirsync.h — group commit of directory fsyncs.
 *
 * After creating, renaming or unlinking an entry, a thread calls
 * dirsync_after_change(dir). Threads that changed the same directory
 * concurrently share one fsync, as long as it started after their own
 * change: N concurrent commits cost one directory sync, not N. Blocking;
 * for I/O threads only. Thread-safe, process-wide.
 */
#ifndef PETREL_DIRSYNC_H
#define PETREL_DIRSYNC_H

/* Returns 0 once dir's entry changes up to now are on stable storage. */
int dirsync_after_change(const char *dir, const char **error_r);

#endif
