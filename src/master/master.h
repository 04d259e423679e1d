/*
 * master.h — the supervisor: prepares the state directories, reads keys
 * and binds ports (as root if started so), starts the queue process and
 * the workers as the unprivileged user, restarts a child that dies,
 * reloads on SIGHUP and stops everything cleanly on SIGTERM.
 */
#ifndef PETREL_MASTER_H
#define PETREL_MASTER_H

#include "lib/config.h"

/* Takes ownership of config. Returns the process exit status. */
int master_run(struct config *config, const char *config_path, const char *home_override);

#endif
