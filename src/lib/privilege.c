/*
 * privilege.c — privilege drop (see privilege.h).
 */
#include "lib/privilege.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
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

/* In a child that has dropped privileges: the first path the account
 * cannot use as mode asks, with the reason, into fd. */
static void check_as_account(const char *const *paths, int mode, int fd)
{
	for (size_t i = 0; paths[i]; i++) {
		if (access(paths[i], mode) == 0)
			continue;
		dprintf(fd, "%s: %s", paths[i], strerror(errno));
		_exit(1);
	}
	_exit(0);
}

int privilege_check_access(const char *const *paths, int mode, uid_t uid, gid_t gid,
                           const char **error_r)
{
	int fds[2];
	if (pipe(fds) < 0) {
		*error_r = error_errno("pipe");
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		*error_r = error_errno("fork");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		const char *error;
		if (privilege_drop(uid, gid, &error) < 0) {
			dprintf(fds[1], "%s", error);
			_exit(1);
		}
		check_as_account(paths, mode, fds[1]);
	}
	close(fds[1]);
	char reason[512];
	ssize_t n, len = 0;
	while (len < (ssize_t)sizeof(reason) - 1 &&
	       (n = read(fds[0], reason + len, sizeof(reason) - 1 - (size_t)len)) > 0)
		len += n;
	reason[len] = '\0';
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	*error_r = error_fmt("%s", len > 0 ? reason : "access check failed");
	return -1;
}
