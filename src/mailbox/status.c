/*
 * status.c — STATUS of a folder without opening a view (see store.h):
 * synced with its files first, then counted in the index.
 */
#include <errno.h>
#include <stdlib.h>

#include "mailbox/mailbox.h"
#include "mailbox/store_internal.h"
#include "mailbox/sync.h"
#include "proto/maildir_name.h"

int mail_store_status(struct mail_store *store, const char *name,
                      struct mail_folder_status *status, const char **error_r)
{
	static const char sql[] =
	    "SELECT count(*), coalesce(sum(uid >= ?2), 0), coalesce(sum((flags & ?3) = "
	    "0), 0), "
	    "coalesce(sum(size), 0) FROM messages WHERE folder = ?1";
	char *path;
	if (mail_store_folder_path(store, name, &path, error_r) < 0) {
		errno = EINVAL;
		return -1;
	}
	struct folder_row row;
	int r = folder_sync(store, mail_store_canonical_name(name), path, false, &row,
	                    error_r);
	free(path);
	if (r < 0)
		return -1;
	sqlite3_stmt *stmt = mail_store_prepare(store, sql, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, row.id);
	sqlite3_bind_int64(stmt, 2, row.recent_uid);
	sqlite3_bind_int64(stmt, 3, MAILDIR_SEEN);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		*error_r = mail_store_error(store, "status");
		sqlite3_reset(stmt);
		return -1;
	}
	*status = (struct mail_folder_status){
	    .messages = (uint32_t)sqlite3_column_int64(stmt, 0),
	    .recent = (uint32_t)sqlite3_column_int64(stmt, 1),
	    .unseen = (uint32_t)sqlite3_column_int64(stmt, 2),
	    .size = (uint64_t)sqlite3_column_int64(stmt, 3),
	    .uidnext = row.uidnext,
	    .uidvalidity = row.uidvalidity,
	    .highestmodseq = row.highestmodseq,
	};
	sqlite3_reset(stmt);
	return 0;
}
