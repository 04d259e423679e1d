/*
 * privilege.h — giving up root after binding ports and reading keys.
 */
#ifndef PETREL_PRIVILEGE_H
#define PETREL_PRIVILEGE_H

#include <sys/types.h>

/* Looks up the account; when not running as root, returns our own ids. */
int privilege_lookup(const char *user, uid_t *uid_r, gid_t *gid_r, const char **error_r);
/* Gives ownership of a state directory to the unprivileged account. */
int privilege_chown(const char *path, uid_t uid, gid_t gid, const char **error_r);
/* setgroups/setgid/setuid, and verifies root cannot be regained. */
int privilege_drop(uid_t uid, gid_t gid, const char **error_r);
/* Checks, as the account uid/gid (in a child process when we are root),
 * that every path of the NULL-terminated list allows mode (access(2)'s
 * R_OK, W_OK, X_OK): the whole path, so a parent directory the account
 * cannot traverse is caught too. 0, or -1 with the first path that
 * fails. */
int privilege_check_access(const char *const *paths, int mode, uid_t uid, gid_t gid,
                           const char **error_r);

#endif
