/*
 * commands.h — the IMAP command table: each command with the states it
 * is allowed in and its flags, checked once by the dispatcher (as
 * Dovecot's imap-commands.c does), and the handlers, one file each.
 */
#ifndef PETREL_IMAP_COMMANDS_H
#define PETREL_IMAP_COMMANDS_H

#include "imapd/client.h"

enum {
	IMAP_CMD_NOT_AUTH = 1 << 0, /* allowed before login */
	IMAP_CMD_AUTH = 1 << 1,     /* allowed once logged in */
	IMAP_CMD_SELECTED = 1 << 2, /* needs a selected folder */
	IMAP_CMD_UID = 1 << 3,      /* has a UID form */
	/* Without UID, sequence numbers must not move under it: expunges
	 * wait (RFC 9051 7.5.1). */
	IMAP_CMD_KEEPS_SEQS = 1 << 4,
};

#define IMAP_CMD_ANY (IMAP_CMD_NOT_AUTH | IMAP_CMD_AUTH | IMAP_CMD_SELECTED)

typedef void imap_command_fn(struct imap_client *c, const struct imap_arg *args,
                             unsigned count);

struct imap_command {
	const char *name;
	imap_command_fn *run;
	unsigned flags;
};

/* Runs the parsed command (c->tag and c->command set). */
void imap_command_dispatch(struct imap_client *c, const struct imap_arg *args,
                           unsigned count);

/* Whether the folder's expunges may be announced before the tagged
 * reply of the current command. */
bool imap_command_allows_expunge(const struct imap_client *c);

/* The command that c->command names, or NULL. */
const struct imap_command *imap_command_find(const char *name);

imap_command_fn imap_cmd_capability, imap_cmd_noop, imap_cmd_logout, imap_cmd_starttls,
    imap_cmd_login, imap_cmd_authenticate, imap_cmd_select, imap_cmd_create,
    imap_cmd_delete, imap_cmd_rename, imap_cmd_subscribe, imap_cmd_list, imap_cmd_status,
    imap_cmd_append, imap_cmd_close, imap_cmd_expunge, imap_cmd_search, imap_cmd_fetch,
    imap_cmd_store, imap_cmd_copy, imap_cmd_idle, imap_cmd_namespace, imap_cmd_id,
    imap_cmd_enable, imap_cmd_getquota, imap_cmd_setquota, imap_cmd_sort, imap_cmd_thread,
    imap_cmd_compress;

/* sequence.c: the messages a sequence set (UIDs when uid) names in the
 * selected folder, as ascending sequence numbers (malloc'd); false after
 * a BAD reply. Ranges are merged first, so "1:4,*:1" names each once. */
bool client_sequence_set(struct imap_client *c, const struct imap_arg *arg, bool uid,
                         uint32_t **seqs_r, size_t *count_r);

/* sequence.c: ascending numbers as a compact set ("1:4,7"), appended. */
void client_uid_set(struct buf *out, const uint32_t *uids, size_t count);

/* cmd_search.c: the sequence numbers (ascending, malloc'd) of the
 * messages matching keys; false after a reply. */
struct search_result {
	uint64_t highest_modseq; /* of the matches */
	bool modseq_key;         /* a MODSEQ key was used (CONDSTORE) */
};
bool client_search(struct imap_client *c, const struct imap_arg *keys, uint32_t **seqs_r,
                   size_t *count_r, struct search_result *result);
/* cmd_search.c: CHARSET name, as SORT and THREAD take it: true if it is
 * one petrel searches in (UTF-8, US-ASCII), else false after a reply. */
bool client_search_charset(struct imap_client *c, const struct imap_arg *arg);

/* cmd_status.c: STATUS items of a list; "* STATUS name (...)". */
bool client_status_items(const struct imap_arg *list, unsigned *items_r);
int client_write_status(struct imap_client *c, const char *name, unsigned items,
                        const char **error_r);

/* cmd_authenticate.c: a SASL exchange with the auth process begins
 * (response malloc'd, NULL: no initial response); LOGIN uses it too. */
void client_sasl_start(struct imap_client *c, unsigned mechanism, char *response,
                       size_t len);
/* cmd_authenticate.c: a continuation line of AUTHENTICATE. */
void client_sasl_line(struct imap_client *c, const char *line, size_t len);
/* cmd_append.c: a streamed literal announced; the octets go to the
 * append (client.c reads them). */
void client_append_stream(struct imap_client *c, const struct imap_arg *args,
                          unsigned count, uint64_t size);
/* cmd_append.c: the client goes away while its APPEND's octets are
 * being synced on a thread: the message is dropped when that is over
 * (it was never acknowledged). */
void client_append_detach(struct imap_client *c);
/* cmd_idle.c: a line while idling. */
void client_idle_line(struct imap_client *c, const char *line, size_t len);

#endif
