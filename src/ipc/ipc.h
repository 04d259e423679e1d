/*
 * ipc.h — typed, length-checked messages between petrel's processes.
 *
 * Workers tell the queue process about newly committed messages over an
 * AF_UNIX datagram socket pair made by the master. A lost notification
 * costs only latency: the queue also rescans the spool periodically.
 */
#ifndef PETREL_IPC_H
#define PETREL_IPC_H

#include <stdint.h>

#include "message/queue_id.h"

enum ipc_type { IPC_QUEUED = 1 };

struct ipc_message {
	uint32_t type;
	char id[QUEUE_ID_LEN + 1];
};

int ipc_socketpair(int fds[2]);
/* Non-blocking send; -1 if the queue is not keeping up (errno EAGAIN). */
int ipc_send_queued(int fd, const char *id);
/* Reads one message: 1 valid, 0 nothing more, -1 error. Malformed
 * datagrams are dropped and reading goes on. */
int ipc_receive(int fd, struct ipc_message *message);

#endif
