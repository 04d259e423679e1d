/*
 * maintenance.c — what `petrel mailbox reindex|purge` does to a store
 * (see store.h): a full rescan of a folder against its files, messages
 * marked \Deleted removed, the index compacted.
 */
#include <errno.h>
#include <stdlib.h>

#include "mailbox/mailbox_internal.h"
#include "mailbox/sync.h"

int mail_store_reindex(struct mail_store *store, const char *name, uint32_t *messages_r,
                       const char **error_r)
{
	char *path;
	if (mail_store_folder_path(store, name, &path, error_r) < 0) {
		errno = EINVAL;
		return -1;
	}
	struct folder_row row;
	int r = folder_sync(store, mail_store_canonical_name(name), path, true, &row,
	                    error_r);
	free(path);
	if (r < 0)
		return -1;
	struct mail_folder_status status;
	if (mail_store_status(store, name, &status, error_r) < 0)
		return -1;
	*messages_r = status.messages;
	return 0;
}

int mail_store_purge(struct mail_store *store, const char *name, uint32_t *removed_r,
                     const char **error_r)
{
	struct mailbox *mb;
	/* Opened as an observer (no \Recent taken from the user), then
	 * allowed to expunge. */
	if (mailbox_open(store, name, true, &mb, error_r) < 0)
		return -1;
	uint32_t before = mailbox_count(mb);
	mb->readonly = false;
	int r = mailbox_expunge(mb, NULL, 0, NULL, NULL, error_r);
	*removed_r = before - mailbox_count(mb);
	mailbox_close(&mb);
	return r;
}

int mail_store_compact(struct mail_store *store, const char **error_r)
{
	return mail_store_exec(store, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;",
	                       error_r);
}
