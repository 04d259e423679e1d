/*
 * userdb_setup.h — getting the user database ready before anything uses
 * it: the SQLite directory and file owned by the unprivileged account,
 * the schema migrated, and (for `petrel serve`) the YAML users seeded.
 */
#ifndef PETREL_USERDB_SETUP_H
#define PETREL_USERDB_SETUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/config.h"

/* Runs as root or as the account itself; uid/gid own the SQLite files. */
int userdb_prepare(const struct config *config, uid_t uid, gid_t gid, bool seed,
                   const char **error_r);

#endif
