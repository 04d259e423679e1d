/*
 * listener.h — listening sockets, bound by the master before it forks.
 */
#ifndef PETREL_LISTENER_H
#define PETREL_LISTENER_H

#include "lib/config.h"

/* Returns a non-blocking listening socket, or -1 with *error_r. */
int listener_bind(const struct listen_config *lc, const char **error_r);

#endif
