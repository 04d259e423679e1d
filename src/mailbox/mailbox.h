/*
 * mailbox.h — one session's view of a folder: the messages it has been
 * told about, numbered 1..count (IMAP sequence numbers), with their UIDs,
 * flags, keywords and modification sequences.
 *
 * Other sessions and deliveries change the folder at any time; the view
 * learns of it only in mailbox_refresh(), which the protocol calls where
 * it may announce changes (RFC 9051 7.5.1: never an EXPUNGE during FETCH,
 * STORE or SEARCH; such expunges wait in the view, marked). Changes are
 * found by modification sequence: everything with a higher one than the
 * view's was changed or added since, and expunges are kept with theirs.
 *
 * Changes this session makes (STORE, EXPUNGE, APPEND, COPY/MOVE) go to
 * the files first, then the index, in one transaction each.
 */
#ifndef PETREL_MAILBOX_H
#define PETREL_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox/keywords.h"
#include "mailbox/store.h"

/* IMAP system flags (RFC 9051 2.3.2) as petrel keeps them. */
enum {
	MAIL_SEEN = 1 << 0,
	MAIL_ANSWERED = 1 << 1,
	MAIL_FLAGGED = 1 << 2,
	MAIL_DELETED = 1 << 3,
	MAIL_DRAFT = 1 << 4,
	MAIL_RECENT = 1 << 5, /* this session's: never stored (mailbox_is_recent) */
	MAIL_FLAGS_STORED =
	    MAIL_SEEN | MAIL_ANSWERED | MAIL_FLAGGED | MAIL_DELETED | MAIL_DRAFT,
};

/* Maildir letters (S R F T D) <-> the flags above; other letters a file
 * name has are kept through flag changes. */
uint16_t mail_flags_from_maildir(uint32_t upper);
uint32_t mail_flags_to_maildir(uint32_t upper, uint16_t flags);

struct mailbox_message {
	uint32_t uid;
	uint16_t flags;
	bool expunged; /* gone; not yet announced */
	uint64_t keywords;
	uint64_t modseq;
};

struct mailbox;

/* What mailbox_refresh() has to tell; any may be NULL. */
struct mailbox_notify {
	/* Message seq is gone (the view has shrunk already). */
	void (*expunge)(void *ctx, uint32_t seq, uint32_t uid);
	/* Its flags, keywords or modseq changed. */
	void (*flags)(void *ctx, uint32_t seq, const struct mailbox_message *m);
	/* The folder has count messages now (it grew). */
	void (*exists)(void *ctx, uint32_t count);
	void (*recent)(void *ctx, uint32_t count);
	/* New keywords exist (IMAP sends FLAGS again). */
	void (*keywords)(void *ctx);
};

/* Opens a folder; with readonly (EXAMINE) nothing changes, not even
 * \Recent. -1 with *error_r and errno (ENOENT no such folder, EINVAL a
 * name refused). */
int mailbox_open(struct mail_store *store, const char *name, bool readonly,
                 struct mailbox **mb_r, const char **error_r);
void mailbox_close(struct mailbox **mb);

const char *mailbox_name(const struct mailbox *mb);
const char *mailbox_path(const struct mailbox *mb);
struct mail_store *mailbox_store(const struct mailbox *mb);
bool mailbox_readonly(const struct mailbox *mb);
uint32_t mailbox_count(const struct mailbox *mb);
uint32_t mailbox_recent_count(const struct mailbox *mb);
uint32_t mailbox_uidvalidity(const struct mailbox *mb);
uint32_t mailbox_uidnext(const struct mailbox *mb);
uint64_t mailbox_highestmodseq(const struct mailbox *mb);
enum mail_special_use mailbox_special_use(const struct mailbox *mb);
const struct mail_keywords *mailbox_keywords(const struct mailbox *mb);
/* Whether message seq is \Recent in this view (its flags never say). */
bool mailbox_is_recent(const struct mailbox *mb, uint32_t seq);
/* Sequence number seq (1..count); NULL beyond. */
const struct mailbox_message *mailbox_get(const struct mailbox *mb, uint32_t seq);
/* The sequence number of uid, or 0; *next_r (if given) the sequence
 * number of the first message with a UID at or above it (count + 1 if
 * none). */
uint32_t mailbox_seq_of_uid(const struct mailbox *mb, uint32_t uid, uint32_t *next_r);

/* Syncs with the disk and the index and reports what changed. */
int mailbox_refresh(struct mailbox *mb, bool allow_expunge,
                    const struct mailbox_notify *notify, void *ctx, const char **error_r);

/* The same, reading the directories even where this process changed
 * them a moment ago (see folder_note_own_change()): inotify said someone
 * did. */
int mailbox_rescan(struct mailbox *mb, bool allow_expunge,
                   const struct mailbox_notify *notify, void *ctx, const char **error_r);

/* Without looking at the files: what the index says, after
 * another view of the folder in this process has just synced it (many
 * IDLE sessions woken by one delivery do not rescan it each). */
int mailbox_refresh_index(struct mailbox *mb, bool allow_expunge,
                          const struct mailbox_notify *notify, void *ctx,
                          const char **error_r);

/* The keyword's number in this folder (creating it unless create is
 * false: then 0 when unknown). See mail_keywords_find(). */
int mailbox_keyword(struct mailbox *mb, const char *name, bool create, unsigned *id_r,
                    const char **error_r);

enum mailbox_flags_op { MAILBOX_FLAGS_SET, MAILBOX_FLAGS_ADD, MAILBOX_FLAGS_REMOVE };

struct mailbox_flags_change {
	enum mailbox_flags_op op;
	uint16_t flags; /* MAIL_FLAGS_STORED bits */
	uint64_t keywords;
	uint64_t unchanged_since; /* CONDSTORE; 0: unconditional */
};

/*
 * STORE on the messages seqs[0..count) (ascending). For each message
 * whose flags changed, changed(ctx, seq); for each refused by
 * unchanged_since, refused(ctx, seq). Messages expunged meanwhile are
 * skipped. 0, or -1 with *error_r.
 */
int mailbox_change_flags(struct mailbox *mb, const uint32_t *seqs, size_t count,
                         const struct mailbox_flags_change *change,
                         void (*changed)(void *ctx, uint32_t seq),
                         void (*refused)(void *ctx, uint32_t seq), void *ctx,
                         const char **error_r);

/* EXPUNGE (uids NULL) or UID EXPUNGE (only UIDs in uids[0..count), which
 * is sorted): messages marked \Deleted go, reported through notify. */
int mailbox_expunge(struct mailbox *mb, const uint32_t *uids, size_t count,
                    const struct mailbox_notify *notify, void *ctx, const char **error_r);

/* What a FETCH needs of each message, beyond the view. */
enum {
	MAILBOX_WANT_SIZE = 1 << 0,     /* RFC822.SIZE */
	MAILBOX_WANT_DATE = 1 << 1,     /* INTERNALDATE */
	MAILBOX_WANT_ENVELOPE = 1 << 2, /* cached IMAP text */
	MAILBOX_WANT_BODY = 1 << 3,
	MAILBOX_WANT_BODYSTRUCTURE = 1 << 4,
	MAILBOX_WANT_HEADERS = 1 << 5, /* the fields SORT and THREAD compare */
};

struct mailbox_record {
	uint32_t uid;
	bool expunged; /* the file is gone: nothing else is set */
	const char *path;
	uint64_t size;
	int64_t internaldate; /* seconds since the epoch */
	const char *envelope, *body, *bodystructure, *headers;
	size_t envelope_len, body_len, bodystructure_len, headers_len;
};

struct mailbox_cursor;

/*
 * Walks uids[0..count) (ascending; the array stays the caller's until
 * close) and gives what want asks for. What the index has not cached yet
 * is computed from the file and written back, a batch at a time, so a
 * folder's first FETCH costs once. Memory stays bounded by the batch.
 */
struct mailbox_cursor *mailbox_cursor_open(struct mailbox *mb, const uint32_t *uids,
                                           size_t count, unsigned want);
/* 1 and *rec (valid until the next call), 0 at the end, -1 with *error_r. */
int mailbox_cursor_next(struct mailbox_cursor *c, struct mailbox_record *rec,
                        const char **error_r);
void mailbox_cursor_close(struct mailbox_cursor **c);

/* UIDs expunged after modseq (QRESYNC's VANISHED (EARLIER)), ascending,
 * malloc'd. */
int mailbox_vanished_since(struct mailbox *mb, uint64_t modseq, uint32_t **uids_r,
                           size_t *count_r, const char **error_r);

/* Removes the messages marked expunged (by another session, or by a
 * MOVE), announcing each through notify. */
void mailbox_announce_expunged(struct mailbox *mb, const struct mailbox_notify *notify,
                               void *ctx);

/* What COPY and MOVE did (RFC 4315 COPYUID): the destination's
 * UIDVALIDITY and, pairwise, the UIDs copied and the UIDs they got. */
struct mailbox_copy_result {
	uint32_t uidvalidity;
	uint32_t *source_uids, *dest_uids;
	size_t count;
};
void mailbox_copy_result_clear(struct mailbox_copy_result *r);

/*
 * COPY (or MOVE) the messages seqs[0..count) (ascending) into the
 * folder dest of the same store, with their flags and keywords (and
 * \Recent there). Copies are hard links where the file system allows.
 * A MOVE marks the sources expunged in the view; the caller announces
 * them (mailbox_announce_expunged) after COPYUID. -1 with *error_r and
 * errno: ENOENT (no such destination: TRYCREATE), EDQUOT (over quota).
 */
int mailbox_copy(struct mailbox *mb, const uint32_t *seqs, size_t count, const char *dest,
                 bool move, struct mailbox_copy_result *result, const char **error_r);

/* APPEND: the message is written to the folder's tmp/ as it comes. */
struct mail_append;

/* ENOENT: no such folder (TRYCREATE); EDQUOT: size (declared) would go
 * over the store's quota. */
int mail_append_begin(struct mail_store *store, const char *name, uint64_t size,
                      struct mail_append **append_r, const char **error_r);
int mail_append_write(struct mail_append *a, const void *data, size_t len,
                      const char **error_r);
/* The message's octets on disk (fdatasync): the slow half of finishing,
 * safe on another thread since it touches only the append's own file
 * (nothing else may use a meanwhile). finish() does it when this was
 * not called; a failure here makes finish() fail (an fsync error is
 * reported once: never retried). 0, or -1 with errno. */
int mail_append_sync(struct mail_append *a);
/* Makes it durable and gives it its UID: flags (MAIL_FLAGS_STORED),
 * keywords by name, internal date (0: now). Frees a. */
int mail_append_finish(struct mail_append **a, uint16_t flags,
                       const char *const *keywords, size_t keyword_count, int64_t date,
                       uint32_t *uidvalidity_r, uint32_t *uid_r, const char **error_r);
void mail_append_abort(struct mail_append **a);

#endif
