/*
 * queue.h — the queue process: finds committed messages in the spool,
 * delivers each recipient, retries what failed temporarily, and retires
 * a spool entry once every recipient is done.
 */
#ifndef PETREL_QUEUE_H
#define PETREL_QUEUE_H

#include "lib/config.h"

/* Runs until SIGTERM. notify_fd receives IPC_QUEUED datagrams. */
int queue_run(const struct config *config, int notify_fd, const char **error_r);

#endif
