/*
 * mailbox.c — a session's view of a folder: opening, accessors and
 * refresh (see mailbox.h). Flag changes and expunges are in flags.c.
 */
#include "mailbox/mailbox_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/xalloc.h"
#include "mailbox/sync.h"
#include "proto/maildir_name.h"

static const struct {
	uint32_t maildir;
	uint16_t flag;
} flag_letters[] = {
    {MAILDIR_SEEN, MAIL_SEEN},       {MAILDIR_REPLIED, MAIL_ANSWERED},
    {MAILDIR_FLAGGED, MAIL_FLAGGED}, {MAILDIR_TRASHED, MAIL_DELETED},
    {MAILDIR_DRAFT, MAIL_DRAFT},
};

uint16_t mail_flags_from_maildir(uint32_t upper)
{
	uint16_t flags = 0;
	for (size_t i = 0; i < sizeof(flag_letters) / sizeof(*flag_letters); i++)
		if (upper & flag_letters[i].maildir)
			flags |= flag_letters[i].flag;
	return flags;
}

uint32_t mail_flags_to_maildir(uint32_t upper, uint16_t flags)
{
	for (size_t i = 0; i < sizeof(flag_letters) / sizeof(*flag_letters); i++) {
		upper &= ~flag_letters[i].maildir;
		if (flags & flag_letters[i].flag)
			upper |= flag_letters[i].maildir;
	}
	return upper;
}

int mailbox_sync_row(struct mailbox *mb, bool force, const char **error_r)
{
	return folder_sync(mb->store, mb->name, mb->path, force, &mb->row, error_r);
}

static void release_shared(struct mailbox *mb)
{
	struct mailbox_snapshot *snap = mb->shared;
	if (snap == NULL)
		return;
	mb->shared = NULL;
	mb->messages = NULL;
	mb->cap = 0;
	if (--snap->refs > 0)
		return;
	for (struct mailbox_snapshot **p = &mb->store->snapshots; *p; p = &(*p)->next)
		if (*p == snap) {
			*p = snap->next;
			break;
		}
	free(mb->store->spare);
	mb->store->spare = snap;
}

/* A snapshot of the folder as the index is now (mb->row just read), in
 * use or spare: the view takes it instead of loading the rows. */
static bool adopt_snapshot(struct mailbox *mb)
{
	struct mail_store *store = mb->store;
	struct mailbox_snapshot *snap = store->snapshots;
	while (snap &&
	       !(snap->folder == mb->row.id && snap->uidvalidity == mb->row.uidvalidity &&
	         snap->modseq == mb->row.highestmodseq))
		snap = snap->next;
	if (snap == NULL && store->spare && store->spare->folder == mb->row.id &&
	    store->spare->uidvalidity == mb->row.uidvalidity &&
	    store->spare->modseq == mb->row.highestmodseq) {
		snap = store->spare;
		store->spare = NULL;
		snap->next = store->snapshots;
		store->snapshots = snap;
	}
	if (snap == NULL)
		return false;
	snap->refs++;
	free(mb->messages);
	mb->shared = snap;
	mb->messages = snap->messages;
	mb->count = mb->cap = snap->count;
	return true;
}

void mailbox_make_private(struct mailbox *mb)
{
	if (mb->shared == NULL)
		return;
	struct mailbox_message *own = xcalloc(mb->count + 1, sizeof(*own));
	if (mb->count)
		memcpy(own, mb->messages, mb->count * sizeof(*own));
	uint32_t count = mb->count;
	release_shared(mb);
	mb->messages = own;
	mb->count = count;
	mb->cap = count + 1;
}

/* The view is the index at mb->modseq: share the array with the other
 * views that are, or offer it to them. */
static void share(struct mailbox *mb)
{
	if (mb->shared)
		return;
	for (uint32_t i = 0; i < mb->count; i++)
		if (mb->messages[i].expunged)
			return; /* a view of its own until announced */
	for (struct mailbox_snapshot *snap = mb->store->snapshots; snap;
	     snap = snap->next)
		if (snap->folder == mb->row.id &&
		    snap->uidvalidity == mb->row.uidvalidity &&
		    snap->modseq == mb->modseq && snap->count == mb->count) {
			free(mb->messages);
			snap->refs++;
			mb->shared = snap;
			mb->messages = snap->messages;
			mb->cap = mb->count;
			return;
		}
	struct mailbox_snapshot *snap =
	    xmalloc(sizeof(*snap) + (size_t)mb->count * sizeof(*mb->messages));
	*snap = (struct mailbox_snapshot){.refs = 1,
	                                  .folder = mb->row.id,
	                                  .uidvalidity = mb->row.uidvalidity,
	                                  .modseq = mb->modseq,
	                                  .count = mb->count,
	                                  .next = mb->store->snapshots};
	if (mb->count)
		memcpy(snap->messages, mb->messages, mb->count * sizeof(*mb->messages));
	mb->store->snapshots = snap;
	free(mb->messages);
	mb->shared = snap;
	mb->messages = snap->messages;
	mb->cap = mb->count;
}

static void push(struct mailbox *mb, const struct mailbox_message *m)
{
	mailbox_make_private(mb);
	if (mb->count == mb->cap) {
		size_t cap = mb->cap;
		xgrow((void **)&mb->messages, &cap, (size_t)mb->count + 1,
		      sizeof(*mb->messages));
		mb->cap = (uint32_t)cap;
	}
	mb->messages[mb->count++] = *m;
}

static bool uid_recent(const struct mailbox *mb, uint32_t uid)
{
	for (size_t i = 0; i < mb->recent_range_count; i++)
		if (uid >= mb->recent_ranges[i].lo && uid <= mb->recent_ranges[i].hi)
			return true;
	return false;
}

bool mailbox_is_recent(const struct mailbox *mb, uint32_t seq)
{
	return seq >= 1 && seq <= mb->count && uid_recent(mb, mb->messages[seq - 1].uid);
}

static struct mailbox_message row_message(sqlite3_stmt *stmt)
{
	return (struct mailbox_message){
	    .uid = (uint32_t)sqlite3_column_int64(stmt, 0),
	    .flags = mail_flags_from_maildir((uint32_t)sqlite3_column_int64(stmt, 1)),
	    .keywords = (uint64_t)sqlite3_column_int64(stmt, 2),
	    .modseq = (uint64_t)sqlite3_column_int64(stmt, 3),
	};
}

/* Takes \Recent for the messages from the row's recent_uid on: only one
 * session gets it (the UPDATE succeeds for one of them). */
static uint32_t claim_recent(struct mailbox *mb)
{
	static const char sql[] =
	    "UPDATE folders SET recent_uid = ?3 WHERE id = ?1 AND recent_uid = ?2";
	const char *error;
	if (mb->readonly || mb->row.recent_uid >= mb->row.uidnext)
		return 0;
	sqlite3_stmt *stmt = mail_store_prepare(mb->store, sql, &error);
	if (stmt == NULL)
		return 0;
	sqlite3_bind_int64(stmt, 1, mb->row.id);
	sqlite3_bind_int64(stmt, 2, mb->row.recent_uid);
	sqlite3_bind_int64(stmt, 3, mb->row.uidnext);
	if (sqlite3_step(stmt) != SQLITE_DONE ||
	    sqlite3_changes(mail_store_db(mb->store)) != 1)
		return 0;
	uint32_t from = mb->row.recent_uid;
	mb->row.recent_uid = mb->row.uidnext;
	return from;
}

/* The view's messages from from_uid to the last are \Recent here. */
static void mark_recent(struct mailbox *mb, uint32_t from_uid)
{
	if (from_uid == 0 || mb->count == 0 || mb->messages[mb->count - 1].uid < from_uid)
		return;
	uint32_t hi = mb->messages[mb->count - 1].uid;
	for (uint32_t i = mb->count; i > 0 && mb->messages[i - 1].uid >= from_uid; i--)
		if (!uid_recent(mb, mb->messages[i - 1].uid))
			mb->recent++;
	xgrow((void **)&mb->recent_ranges, &(size_t){mb->recent_range_count},
	      mb->recent_range_count + 1, sizeof(*mb->recent_ranges));
	mb->recent_ranges[mb->recent_range_count++] = (struct uid_range){from_uid, hi};
}

static int load(struct mailbox *mb, const char **error_r)
{
	static const char sql[] = "SELECT uid, flags, keywords, modseq FROM messages "
	                          "WHERE folder = ?1 ORDER BY uid";
	if (mail_store_exec(mb->store, "BEGIN", error_r) < 0)
		return -1;
	int found =
	    mail_store_folder_row(mb->store, mb->name, false, 0, &mb->row, error_r);
	sqlite3_stmt *stmt =
	    found > 0 ? mail_store_prepare(mb->store, sql, error_r) : NULL;
	if (stmt == NULL) {
		if (found == 0)
			*error_r = "no such folder";
		mail_store_rollback(mb->store);
		return -1;
	}
	int rc = SQLITE_DONE;
	if (!adopt_snapshot(mb)) {
		sqlite3_bind_int64(stmt, 1, mb->row.id);
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			struct mailbox_message m = row_message(stmt);
			push(mb, &m);
		}
		sqlite3_reset(stmt);
	}
	mb->modseq = mb->row.highestmodseq;
	int r = rc == SQLITE_DONE
	            ? mail_keywords_load(mb->store, mb->row.id, &mb->keywords, error_r)
	            : (*error_r = mail_store_error(mb->store, "load"), -1);
	if (r == 0)
		r = mail_store_commit(mb->store, error_r);
	else
		mail_store_rollback(mb->store);
	return r;
}

int mailbox_open(struct mail_store *store, const char *name, bool readonly,
                 struct mailbox **mb_r, const char **error_r)
{
	struct mailbox *mb = xcalloc(1, sizeof(*mb));
	mb->store = store;
	mb->name = xstrdup(mail_store_canonical_name(name));
	mb->readonly = readonly;
	if (mail_store_folder_path(store, mb->name, &mb->path, error_r) < 0) {
		errno = EINVAL;
		goto fail;
	}
	if (mailbox_sync_row(mb, false, error_r) < 0 || load(mb, error_r) < 0) {
		if (errno != ENOENT)
			errno = EIO;
		goto fail;
	}
	mark_recent(mb, claim_recent(mb));
	share(mb);
	*mb_r = mb;
	return 0;
fail:
	mailbox_close(&mb);
	return -1;
}

void mailbox_close(struct mailbox **mb_p)
{
	struct mailbox *mb = *mb_p;
	if (mb == NULL)
		return;
	mail_keywords_clear(&mb->keywords);
	if (mb->shared)
		release_shared(mb);
	else
		free(mb->messages);
	free(mb->recent_ranges);
	free(mb->name);
	free(mb->path);
	free(mb);
	*mb_p = NULL;
}

const char *mailbox_name(const struct mailbox *mb)
{
	return mb->name;
}
const char *mailbox_path(const struct mailbox *mb)
{
	return mb->path;
}
struct mail_store *mailbox_store(const struct mailbox *mb)
{
	return mb->store;
}
bool mailbox_readonly(const struct mailbox *mb)
{
	return mb->readonly;
}
uint32_t mailbox_count(const struct mailbox *mb)
{
	return mb->count;
}
uint32_t mailbox_recent_count(const struct mailbox *mb)
{
	return mb->recent;
}
uint32_t mailbox_uidvalidity(const struct mailbox *mb)
{
	return mb->row.uidvalidity;
}
uint32_t mailbox_uidnext(const struct mailbox *mb)
{
	/* Never below what the view holds: UIDs it has seen are used. */
	uint32_t last = mb->count ? mb->messages[mb->count - 1].uid + 1 : 1;
	return mb->row.uidnext > last ? mb->row.uidnext : last;
}
uint64_t mailbox_highestmodseq(const struct mailbox *mb)
{
	return mb->modseq;
}
enum mail_special_use mailbox_special_use(const struct mailbox *mb)
{
	return mb->row.special_use;
}
const struct mail_keywords *mailbox_keywords(const struct mailbox *mb)
{
	return &mb->keywords;
}

const struct mailbox_message *mailbox_get(const struct mailbox *mb, uint32_t seq)
{
	return seq >= 1 && seq <= mb->count ? &mb->messages[seq - 1] : NULL;
}

uint32_t mailbox_seq_of_uid(const struct mailbox *mb, uint32_t uid, uint32_t *next_r)
{
	uint32_t lo = 0, hi = mb->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (mb->messages[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (next_r)
		*next_r = lo + 1;
	return lo < mb->count && mb->messages[lo].uid == uid ? lo + 1 : 0;
}

int mailbox_keyword(struct mailbox *mb, const char *name, bool create, unsigned *id_r,
                    const char **error_r)
{
	if (!create || mb->readonly)
		return mail_keywords_find(mb->store, mb->row.id, mb->path, &mb->keywords,
		                          name, false, id_r, error_r);
	if (mail_store_begin(mb->store, error_r) < 0)
		return -1;
	/* Another session may have numbered it meanwhile. */
	int r = mail_keywords_load(mb->store, mb->row.id, &mb->keywords, error_r);
	if (r == 0)
		r = mail_keywords_find(mb->store, mb->row.id, mb->path, &mb->keywords,
		                       name, true, id_r, error_r);
	if (r < 0) {
		int saved = errno;
		mail_store_rollback(mb->store);
		errno = saved;
		return -1;
	}
	return mail_store_commit(mb->store, error_r) < 0 ? -1 : 1;
}

/* Removes message index i from the view. */
static void remove_at(struct mailbox *mb, uint32_t i)
{
	mailbox_make_private(mb);
	if (uid_recent(mb, mb->messages[i].uid))
		mb->recent--;
	memmove(&mb->messages[i], &mb->messages[i + 1],
	        (mb->count - i - 1) * sizeof(*mb->messages));
	mb->count--;
}

void mailbox_announce_expunged(struct mailbox *mb, const struct mailbox_notify *n,
                               void *ctx)
{
	/* Highest first: each announced number stays right for the next. */
	for (uint32_t i = mb->count; i > 0; i--)
		if (mb->messages[i - 1].expunged) {
			uint32_t uid = mb->messages[i - 1].uid;
			remove_at(mb, i - 1);
			if (n && n->expunge)
				n->expunge(ctx, i, uid);
		}
}

/* Announces (or, when not allowed now, marks) the expunges since the
 * view's modseq, from the index. */
static int apply_expunges(struct mailbox *mb, bool allow, uint64_t since,
                          const struct mailbox_notify *n, void *ctx, const char **error_r)
{
	static const char sql[] =
	    "SELECT uid FROM expunged WHERE folder = ?1 AND modseq > ?2";
	sqlite3_stmt *stmt = mail_store_prepare(mb->store, sql, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mb->row.id);
	sqlite3_bind_int64(stmt, 2, (int64_t)since);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		uint32_t seq =
		    mailbox_seq_of_uid(mb, (uint32_t)sqlite3_column_int64(stmt, 0), NULL);
		if (seq) {
			mailbox_make_private(mb);
			mb->messages[seq - 1].expunged = true;
		}
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		*error_r = mail_store_error(mb->store, "expunges");
		return -1;
	}
	if (allow)
		mailbox_announce_expunged(mb, n, ctx);
	return 0;
}

int mailbox_refresh(struct mailbox *mb, bool allow_expunge,
                    const struct mailbox_notify *n, void *ctx, const char **error_r)
{
	if (mailbox_sync_row(mb, false, error_r) < 0)
		return -1;
	return mailbox_refresh_index(mb, allow_expunge, n, ctx, error_r);
}

int mailbox_rescan(struct mailbox *mb, bool allow_expunge, const struct mailbox_notify *n,
                   void *ctx, const char **error_r)
{
	if (mailbox_sync_row(mb, true, error_r) < 0)
		return -1;
	return mailbox_refresh_index(mb, allow_expunge, n, ctx, error_r);
}

int mailbox_refresh_index(struct mailbox *mb, bool allow_expunge,
                          const struct mailbox_notify *n, void *ctx, const char **error_r)
{
	static const char sql[] = "SELECT uid, flags, keywords, modseq FROM messages "
	                          "WHERE folder = ?1 AND modseq > ?2 ORDER BY uid";
	int found =
	    mail_store_folder_row(mb->store, mb->name, false, 0, &mb->row, error_r);
	if (found <= 0) {
		if (found == 0)
			*error_r = "the folder was deleted";
		return -1;
	}
	bool pending = false;
	for (uint32_t i = 0; i < mb->count && !pending; i++)
		pending = mb->messages[i].expunged;
	if (mb->row.highestmodseq == mb->modseq && !(pending && allow_expunge))
		return 0;
	/* One snapshot for the changes, the expunges and the row. */
	if (mail_store_exec(mb->store, "BEGIN", error_r) < 0)
		return -1;
	uint32_t old_recent = mb->recent;
	found = mail_store_folder_row(mb->store, mb->name, false, 0, &mb->row, error_r);
	sqlite3_stmt *stmt =
	    found > 0 ? mail_store_prepare(mb->store, sql, error_r) : NULL;
	if (stmt == NULL) {
		if (found == 0)
			*error_r = "the folder was deleted";
		mail_store_rollback(mb->store);
		return -1;
	}
	uint64_t since = mb->modseq;
	if (apply_expunges(mb, allow_expunge, since, n, ctx, error_r) < 0) {
		mail_store_rollback(mb->store);
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, mb->row.id);
	sqlite3_bind_int64(stmt, 2, (int64_t)since);
	int rc;
	uint32_t last_uid = mb->count ? mb->messages[mb->count - 1].uid : 0, added = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct mailbox_message m = row_message(stmt);
		if (m.uid > last_uid) {
			push(mb, &m);
			added++;
			continue;
		}
		uint32_t seq = mailbox_seq_of_uid(mb, m.uid, NULL);
		if (seq == 0)
			continue;
		mailbox_make_private(mb);
		struct mailbox_message *old = &mb->messages[seq - 1];
		bool differs = old->flags != m.flags || old->keywords != m.keywords;
		old->modseq = m.modseq;
		old->flags = m.flags;
		old->keywords = m.keywords;
		if (differs && n && n->flags)
			n->flags(ctx, seq, old);
	}
	sqlite3_reset(stmt);
	bool new_keywords = false;
	int r = rc == SQLITE_DONE
	            ? 0
	            : (*error_r = mail_store_error(mb->store, "changes"), -1);
	if (r == 0) {
		uint64_t mask = 0;
		for (int i = 0; i < MAIL_KEYWORDS_MAX; i++)
			mask |= mb->keywords.names[i] ? 1ull << i : 0;
		r = mail_keywords_load(mb->store, mb->row.id, &mb->keywords, error_r);
		for (int i = 0; i < MAIL_KEYWORDS_MAX && r == 0; i++)
			new_keywords |= mb->keywords.names[i] && !(mask & (1ull << i));
	}
	if (r == 0)
		r = mail_store_commit(mb->store, error_r);
	else
		mail_store_rollback(mb->store);
	if (r < 0)
		return -1;
	mb->modseq = mb->row.highestmodseq;
	mark_recent(mb, claim_recent(mb));
	share(mb);
	if (n && new_keywords && n->keywords)
		n->keywords(ctx);
	if (n && added && n->exists)
		n->exists(ctx, mb->count);
	if (n && (mb->recent != old_recent || added) && n->recent)
		n->recent(ctx, mb->recent);
	return 0;
}

int mailbox_vanished_since(struct mailbox *mb, uint64_t modseq, uint32_t **uids_r,
                           size_t *count_r, const char **error_r)
{
	static const char sql[] =
	    "SELECT uid FROM expunged WHERE folder = ?1 AND modseq > ?2 "
	    "ORDER BY uid";
	*uids_r = NULL;
	*count_r = 0;
	sqlite3_stmt *stmt = mail_store_prepare(mb->store, sql, error_r);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mb->row.id);
	sqlite3_bind_int64(stmt, 2, (int64_t)modseq);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		xgrow((void **)uids_r, &cap, *count_r + 1, sizeof(**uids_r));
		(*uids_r)[(*count_r)++] = (uint32_t)sqlite3_column_int64(stmt, 0);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		*error_r = mail_store_error(mb->store, "vanished");
		return -1;
	}
	return 0;
}
