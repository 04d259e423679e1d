/*
 * store.h — one user's mail: a Maildir++ directory (INBOX at its root,
 * each other folder a ".Name" directory beside it, as Dovecot and
 * Courier lay them out) and its index, an SQLite database in the same
 * directory (petrel-index.db).
 *
 * The files are the truth. The index keeps what is not in them (UIDs,
 * UIDVALIDITY, modification sequences, subscriptions, special use) and
 * caches what is expensive to recompute (envelope, body structure); it is
 * checked against the directories on every sync and rebuilt when missing
 * or corrupt (mailbox/sync.h). SQLite gives the crash safety (WAL,
 * synchronous=FULL: a UID is on disk before any client hears of it) and
 * the locking between the queue, IMAP, POP3 and LMTP processes.
 *
 * Folder names here are UTF-8 with "." between levels ("Archive.2026");
 * on disk they are written in modified UTF-7 as Dovecot does. "INBOX" in
 * any case is the root.
 *
 * Blocking (local disk and short SQLite transactions), like Dovecot's
 * index code: sessions call it directly.
 */
#ifndef PETREL_MAIL_STORE_H
#define PETREL_MAIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAIL_STORE_SEPARATOR '.'
#define MAIL_STORE_INDEX     "petrel-index.db"

struct mail_store;
struct sqlite3;

/* RFC 6154 special uses petrel knows. */
enum mail_special_use {
	MAIL_SPECIAL_NONE,
	MAIL_SPECIAL_DRAFTS,
	MAIL_SPECIAL_SENT,
	MAIL_SPECIAL_TRASH,
	MAIL_SPECIAL_JUNK,
	MAIL_SPECIAL_ARCHIVE,
	MAIL_SPECIAL_ALL,
	MAIL_SPECIAL_FLAGGED,
	MAIL_SPECIAL_COUNT,
};

/* "\\Sent" for MAIL_SPECIAL_SENT; NULL for NONE. */
const char *mail_special_use_name(enum mail_special_use use);
/* Case-insensitive "\\Sent" → MAIL_SPECIAL_SENT; NONE when unknown. */
enum mail_special_use mail_special_use_parse(const char *name, size_t len);

/*
 * Opens (creating when needed) the store rooted at root, the user's
 * Maildir. A store seen for the first time gets its index, its INBOX and
 * the standard folders (Drafts, Sent, Trash, Junk, Archive, with their
 * special use) unless folders by those names exist. An index that SQLite
 * finds corrupt is moved aside (petrel-index.db.corrupt) and rebuilt.
 */
int mail_store_open(const char *root, struct mail_store **store_r, const char **error_r);
/* The index file at the root is gone or another one (the Maildir was
 * restored or moved, the index deleted to be rebuilt) than this store's. */
bool mail_store_replaced(const struct mail_store *store);
void mail_store_close(struct mail_store **store);

const char *mail_store_root(const struct mail_store *store);
struct sqlite3 *mail_store_db(struct mail_store *store);

/* The directory of a folder (root for INBOX), into out. 0, or -1 with
 * *error_r when the name is not one petrel accepts. */
int mail_store_folder_path(const struct mail_store *store, const char *name,
                           char **path_r, const char **error_r);

/* "INBOX" for any spelling of it; otherwise name itself. */
const char *mail_store_canonical_name(const char *name);

struct mail_folder {
	char *name; /* UTF-8, canonical ("INBOX") */
	enum mail_special_use special_use;
	bool subscribed;
	bool exists;       /* a Maildir on disk (false: only subscribed) */
	bool has_children; /* another folder is below it */
};

/* Every folder on disk, plus subscribed names without one, sorted by
 * name with INBOX first. Free with mail_folder_list_free(). */
int mail_store_list(struct mail_store *store, struct mail_folder **folders_r,
                    size_t *count_r, const char **error_r);
void mail_folder_list_free(struct mail_folder *folders, size_t count);

/* Creates a folder (and its missing parents, as RFC 9051 6.3.4 allows).
 * -1 with *error_r: the name is refused, or it exists. */
int mail_store_create(struct mail_store *store, const char *name,
                      enum mail_special_use use, const char **error_r);
/* Deletes a folder and its messages (not INBOX, not one with children
 * still present: RFC 9051 6.3.5 lets the server refuse). */
int mail_store_delete(struct mail_store *store, const char *name, const char **error_r);
/* Renames a folder and every folder below it; renaming INBOX moves its
 * messages into the new folder and leaves INBOX empty (RFC 9051 6.3.6). */
int mail_store_rename(struct mail_store *store, const char *from, const char *to,
                      const char **error_r);
int mail_store_subscribe(struct mail_store *store, const char *name, bool subscribe,
                         const char **error_r);

/* The user's quota in octets (0: none), for APPEND and COPY; the
 * session sets it from the user database after login. */
void mail_store_set_quota(struct mail_store *store, uint64_t limit);
uint64_t mail_store_quota(const struct mail_store *store);
/* The host name for new file names. */
void mail_store_set_hostname(struct mail_store *store, const char *hostname);
const char *mail_store_hostname(const struct mail_store *store);

/* STATUS (RFC 9051 6.3.11) of a folder, synced with its files first. */
struct mail_folder_status {
	uint32_t messages, recent, unseen, uidnext, uidvalidity;
	uint64_t highestmodseq, size;
};
int mail_store_status(struct mail_store *store, const char *name,
                      struct mail_folder_status *status, const char **error_r);

/* `petrel mailbox`: a full rescan of a folder against its files (UIDs
 * kept), and its message count after; the messages marked \Deleted
 * removed (counted); the index compacted. */
int mail_store_reindex(struct mail_store *store, const char *name, uint32_t *messages_r,
                       const char **error_r);
int mail_store_purge(struct mail_store *store, const char *name, uint32_t *removed_r,
                     const char **error_r);
int mail_store_compact(struct mail_store *store, const char **error_r);
/* Whether the last open found the index corrupt and began a new one. */
bool mail_store_was_rebuilt(const struct mail_store *store);

/* Runs sql (no result rows) on the store's database. */
int mail_store_exec(struct mail_store *store, const char *sql, const char **error_r);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int mail_store_begin(struct mail_store *store, const char **error_r);
int mail_store_commit(struct mail_store *store, const char **error_r);
void mail_store_rollback(struct mail_store *store);
/* The last SQLite error, formatted as "what: message". */
const char *mail_store_error(struct mail_store *store, const char *what);

#endif
