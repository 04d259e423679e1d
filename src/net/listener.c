/*
 * listener.c — listening sockets (see listener.h).
 */
#include "net/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/error.h"

int listener_bind(const struct listen_config *lc, const char **error_r)
{
	int fd =
	    socket(lc->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = error_errno("socket");
		return -1;
	}
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (lc->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)&lc->addr, lc->addr_len) < 0) {
		*error_r = error_fmt("bind %s: %s", lc->address, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, 4096) < 0) {
		*error_r = error_fmt("listen %s: %s", lc->address, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
