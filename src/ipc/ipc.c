/*
 * ipc.c — process messages (see ipc.h).
 */
#include "ipc/ipc.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int ipc_socketpair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
		return -1;
	int size = 1 << 20;
	setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

int ipc_send_queued(int fd, const char *id)
{
	struct ipc_message message = {.type = IPC_QUEUED};
	memcpy(message.id, id, QUEUE_ID_LEN);
	ssize_t n;
	do {
		n = send(fd, &message, sizeof(message), MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(message) ? 0 : -1;
}

int ipc_receive(int fd, struct ipc_message *message)
{
	for (;;) {
		ssize_t n = recv(fd, message, sizeof(*message), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		if (n == (ssize_t)sizeof(*message) && message->type == IPC_QUEUED &&
		    queue_id_valid(message->id,
		                   strnlen(message->id, sizeof(message->id))))
			return 1;
	}
}
