/*
 * mailbox_internal.h — the view's insides, for the files of src/mailbox
 * that work on an open folder (mailbox.c, flags.c, cursor.c, copy.c).
 */
#ifndef PETREL_MAILBOX_INTERNAL_H
#define PETREL_MAILBOX_INTERNAL_H

#include "mailbox/mailbox.h"
#include "mailbox/store_internal.h"

struct mailbox {
	struct mail_store *store;
	char *name, *path;
	bool readonly;
	struct folder_row row; /* as of the last refresh */
	uint64_t modseq;       /* changes up to this one are in the view */
	struct mailbox_message *messages;
	uint32_t count, cap;
	uint32_t recent;
	struct mail_keywords keywords;
};

/* Syncs the folder with its files, then reloads the row. */
int mailbox_sync_row(struct mailbox *mb, const char **error_r);

#endif
