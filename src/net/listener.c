/*
 * listener.c — listening sockets (see listener.h).
 */
#include "net/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/error.h"

/* A unix socket listener (LMTP): any local user may connect, as to
 * Dovecot's lmtp socket; the path's directory decides who can reach it. */
static int bind_unix(const struct listen_config *lc, const char *home,
                     const char **error_r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int n = lc->unix_path[0] == '/'
	            ? snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", lc->unix_path)
	            : snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", home,
	                       lc->unix_path);
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		*error_r = error_fmt("%s: path too long for a socket", lc->address);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = error_errno("socket");
		return -1;
	}
	unlink(sun.sun_path); /* a previous run's */
	mode_t old = umask(0);
	int r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0 || chmod(sun.sun_path, 0666) < 0 || listen(fd, 4096) < 0) {
		*error_r = error_fmt("bind %s: %s", sun.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int listener_bind(const struct listen_config *lc, const char *home, const char **error_r)
{
	if (lc->unix_path)
		return bind_unix(lc, home, error_r);
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

struct evconnlistener *listener_unix_private(struct event_base *base, const char *path,
                                             int backlog, evconnlistener_cb accept,
                                             void *arg, const char **error_r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = error_fmt("%s: path too long for a socket", path);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);
	mode_t old = umask(0077);
	struct evconnlistener *l = evconnlistener_new_bind(
	    base, accept, arg, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, backlog,
	    (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (l == NULL)
		*error_r = error_errno(path);
	return l;
}
