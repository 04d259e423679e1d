/*
 * userdb_setup.c — see userdb_setup.h.
 */
#include "auth/userdb_setup.h"

#include <libgen.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/userdb.h"
#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "lib/privilege.h"

/* The file and its WAL companions, if they exist, go to uid/gid: a
 * root-owned journal would lock the daemon out of its own database. */
static int chown_sqlite_files(const char *path, uid_t uid, gid_t gid,
                              const char **error_r)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		struct buf name = BUF_INIT;
		buf_appendf(&name, "%s%s", path, suffixes[i]);
		struct stat st;
		int r = 0;
		if (stat(name.data, &st) == 0)
			r = privilege_chown(name.data, uid, gid, error_r);
		buf_free(&name);
		if (r < 0)
			return -1;
	}
	return 0;
}

int userdb_prepare(const struct config *config, uid_t uid, gid_t gid, bool seed,
                   const char **error_r)
{
	const struct auth_config *auth = &config->auth;
	if (auth->backend == AUTH_BACKEND_SQLITE) {
		/* Home as the master makes it (0755), so the account can reach
		 * its database directory inside. */
		char *copy = xstrdup(auth->dsn);
		const char *dir = dirname(copy);
		int r = fs_mkdir_p(config->home, 0755, error_r);
		if (r == 0)
			r = fs_mkdir_p(dir, 0700, error_r);
		if (r == 0)
			r = privilege_chown(dir, uid, gid, error_r);
		free(copy);
		if (r < 0)
			return -1;
	}
	struct userdb *db;
	if (userdb_open(config, &db, error_r) < 0)
		return -1;
	int r = userdb_migrate(db, error_r);
	if (r == 0 && seed)
		r = userdb_seed(db, error_r);
	userdb_close(&db);
	if (r == 0 && auth->backend == AUTH_BACKEND_SQLITE)
		r = chown_sqlite_files(auth->dsn, uid, gid, error_r);
	return r;
}
