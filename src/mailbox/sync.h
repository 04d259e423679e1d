/*
 * sync.h — brings a folder's index in line with its Maildir.
 *
 * The directories are the truth: a file the index does not know gets the
 * next UID (a file in new/ moves to cur/ on the way, as every Maildir
 * reader does), a file whose flags changed in its name updates the index,
 * and a file gone is an expunge (recorded with its modification sequence
 * so that other sessions and QRESYNC learn of it). Each change raises the
 * folder's HIGHESTMODSEQ. All of it happens in one write transaction, so
 * the queue, IMAP and POP3 processes syncing the same folder at once
 * cannot hand out a UID twice.
 *
 * The first sync of a folder that Dovecot wrote keeps Dovecot's UIDs,
 * UIDVALIDITY and keywords (dovecot-uidlist, dovecot-keywords): clients
 * do not download everything again.
 *
 * A sync costs two stat() calls when the directories have not changed
 * since the last full scan; a directory changed within the last second
 * is scanned again next time (its mtime cannot tell a later change in
 * the same tick apart).
 */
#ifndef PETREL_MAIL_SYNC_H
#define PETREL_MAIL_SYNC_H

#include <stdbool.h>

#include "mailbox/store_internal.h"

/*
 * Syncs the folder name (directory path) and fills *row with its state
 * afterwards; force scans even when the mtimes say nothing changed. The
 * folder must exist on disk (ENOENT otherwise). 0, or -1 with *error_r.
 */
int folder_sync(struct mail_store *store, const char *name, const char *path, bool force,
                struct folder_row *row, const char **error_r);

/*
 * This process has just changed the folder's directories itself (a
 * flag's rename, an expunge, an APPEND, a COPY) and the index says so.
 * Until a second after this process last read the directories, a sync
 * that finds them with the mtimes they have now skips the rescan: a busy
 * folder's directory is otherwise "unsettled" after every change and
 * rescanned by every command. What another process did meanwhile in the
 * same clock tick is seen at the latest when that second is over, and at
 * once by an inotify wake (folder_sync with force).
 */
void folder_note_own_change(struct mail_store *store, int64_t folder, const char *path);

#endif
