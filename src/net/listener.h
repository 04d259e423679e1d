/*
 * listener.h — listening sockets, bound by the master before it forks.
 */
#ifndef PETREL_LISTENER_H
#define PETREL_LISTENER_H

#include "lib/config.h"

#include <event2/listener.h>

/* Returns a non-blocking listening socket, or -1 with *error_r. A unix
 * socket's relative path is below home. */
int listener_bind(const struct listen_config *lc, const char *home, const char **error_r);

/* A control socket at path that only its owner may use (mode 0600),
 * replacing one a previous run left; NULL with *error_r. */
struct evconnlistener *listener_unix_private(struct event_base *base, const char *path,
                                             int backlog, evconnlistener_cb accept,
                                             void *arg, const char **error_r);

#endif
