/*
 * privilege.c — privilege drop (see privilege.h).
 */
#include "master/privilege.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "lib/error.h"

int privilege_lookup(const char *user, uid_t *uid_r, gid_t *gid_r, const char **error_r)
{
	if (geteuid() != 0) {
		*uid_r = geteuid();
		*gid_r = getegid();
		return 0;
	}
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		*error_r =
		    error_fmt("user '%s' does not exist (config key `user`)", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		*error_r =
		    error_fmt("user '%s' is root; petrel will not serve as root", user);
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	return 0;
}

int privilege_chown(const char *path, uid_t uid, gid_t gid, const char **error_r)
{
	if (geteuid() != 0)
		return 0;
	if (chown(path, uid, gid) < 0) {
		*error_r = error_errno(path);
		return -1;
	}
	return 0;
}

int privilege_drop(uid_t uid, gid_t gid, const char **error_r)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		*error_r = error_errno("dropping privileges");
		return -1;
	}
	if (setuid(0) == 0 || geteuid() == 0) {
		*error_r = "could regain root after dropping privileges";
		return -1;
	}
	return 0;
}
