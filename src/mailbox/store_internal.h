/*
 * store_internal.h — what the files of src/mailbox share about a store:
 * its database handle, cached statements, and the folder rows.
 */
#ifndef PETREL_MAIL_STORE_INTERNAL_H
#define PETREL_MAIL_STORE_INTERNAL_H

#include <sqlite3.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "mailbox/store.h"

struct mail_store {
	char *root;
	sqlite3 *db;
	bool created;    /* the index was made by this open */
	bool rebuilt;    /* ... because the old one was corrupt */
	dev_t index_dev; /* the index file this connection has open */
	ino_t index_ino;
	uint64_t quota;
	char hostname[256];
	struct mailbox_snapshot *snapshots; /* in use by views (mailbox.c) */
	/* The last snapshot no view uses any more: a session that selects
	 * the folder again (a client reconnecting) at the same modseq takes
	 * it instead of reading every row. */
	struct mailbox_snapshot *spare;
	/* Folders whose directories this process changed itself a moment
	 * ago, and their mtimes just after (sync.c) */
	struct dir_memo {
		int64_t folder;
		int64_t new_mtime, cur_mtime;
		int64_t when; /* monotonic ns */
	} memos[8];
	unsigned memo_next;
	struct {
		const char *sql; /* static text: the cache key is its address */
		sqlite3_stmt *stmt;
	} * stmts;
	size_t stmt_count, stmt_cap;
};

/* A folder's row in the index. */
struct folder_row {
	int64_t id;
	uint32_t uidvalidity, uidnext, recent_uid;
	uint64_t highestmodseq;
	int64_t new_mtime, cur_mtime; /* ns, at the last full scan; -1: never */
	enum mail_special_use special_use;
};

/* A prepared statement for sql (a static string), reset and unbound. */
sqlite3_stmt *mail_store_prepare(struct mail_store *store, const char *sql,
                                 const char **error_r);

int mail_store_new_uidvalidity(struct mail_store *store, uint32_t *uidvalidity_r,
                               const char **error_r);

/* The folder's row. Returns 1 found, 0 absent (and not created), -1 error.
 * With create, a missing row is made (in the caller's transaction) with
 * uidvalidity, or a new one when 0. */
int mail_store_folder_row(struct mail_store *store, const char *name, bool create,
                          uint32_t uidvalidity, struct folder_row *row,
                          const char **error_r);

int mail_store_set_special_use(struct mail_store *store, const char *name,
                               enum mail_special_use use, const char **error_r);

/* A Maildir++ "subscriptions" file (one name per line, mUTF-7) into the
 * new index. */
int mail_store_migrate_subscriptions(struct mail_store *store, const char **error_r);

/* A message row in the folder (in the caller's transaction): uid, or
 * the folder's next when 0; a new modseq; size and date -1 when unknown.
 * The caller saves the row (mail_store_save_folder) before committing. */
int mail_store_insert_message(struct mail_store *store, struct folder_row *row,
                              uint32_t uid, const char *base, size_t base_len,
                              const char *file, uint32_t upper, uint64_t keywords,
                              int64_t size, int64_t date, uint32_t *uid_r,
                              const char **error_r);
/* The row's UIDNEXT and HIGHESTMODSEQ into the index. */
int mail_store_save_folder(struct mail_store *store, const struct folder_row *row,
                           const char **error_r);

/* rm -r; best effort. */
void mail_store_remove_tree(const char *path);

#endif
