/*
 * spool_read.h — reading a spool file (message/envelope.h has the format)
 * without reading its message: a version 2 file's envelope is its
 * trailer, found from the footer, so listing the queue or scheduling a
 * 50 MB message costs a few kilobytes of reading. Blocking file I/O: for
 * the queue's threads.
 */
#ifndef PETREL_SPOOL_READ_H
#define PETREL_SPOOL_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "message/envelope.h"
#include "message/message_source.h"

struct spool_entry {
	struct envelope env;
	struct spool_layout layout; /* its header points into `data` */
	char *data;                 /* the trailer (version 1: the whole file) */
	bool whole;                 /* data holds the whole file */
	uint64_t message_size;      /* header section and body */
	int fd;                     /* spool_entry_source() opened it, or -1 */
};

/* 0, or -1 with *error_r (and errno: ENOENT for a message gone). */
int spool_entry_read(const char *path, struct spool_entry *entry, const char **error_r);

/* The message, to read in pieces: its file is opened (closed by
 * spool_entry_clear); the source is valid as long as the entry. */
int spool_entry_source(const char *path, struct spool_entry *entry,
                       struct message_source *source, const char **error_r);

void spool_entry_clear(struct spool_entry *entry);

#endif
