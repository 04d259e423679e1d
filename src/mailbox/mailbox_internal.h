/*
 * mailbox_internal.h — the view's insides, for the files of src/mailbox
 * that work on an open folder (mailbox.c, flags.c, cursor.c, copy.c).
 */
#ifndef PETREL_MAILBOX_INTERNAL_H
#define PETREL_MAILBOX_INTERNAL_H

#include "mailbox/mailbox.h"
#include "mailbox/store_internal.h"

/*
 * The messages of a folder as the index had them at one modseq, shared
 * by every view of this process that is up to date with it: a thousand
 * IDLE sessions on one INBOX hold one array, not a thousand. A view
 * writes only to an array of its own (mailbox_make_private), and shares
 * again once a refresh has brought it up to date. \Recent and pending
 * expunges are per view, so they are never in a shared array.
 */
struct mailbox_snapshot {
	unsigned refs;
	int64_t folder;
	uint32_t uidvalidity;
	uint64_t modseq;
	uint32_t count;
	struct mailbox_snapshot *next; /* the store's list */
	struct mailbox_message messages[];
};

struct uid_range {
	uint32_t lo, hi;
};

struct mailbox {
	struct mail_store *store;
	char *name, *path;
	bool readonly;
	struct folder_row row;            /* as of the last refresh */
	uint64_t modseq;                  /* changes up to this one are in the view */
	struct mailbox_message *messages; /* the snapshot's, or the view's own */
	uint32_t count, cap;
	struct mailbox_snapshot *shared; /* messages belong to it (read-only) */
	struct uid_range *recent_ranges; /* this view's \Recent UIDs */
	size_t recent_range_count;
	uint32_t recent;
	struct mail_keywords keywords;
};

/* Before changing mb->messages: an array of the view's own. */
void mailbox_make_private(struct mailbox *mb);

/* Syncs the folder with its files, then reloads the row. */
int mailbox_sync_row(struct mailbox *mb, bool force, const char **error_r);

#endif
