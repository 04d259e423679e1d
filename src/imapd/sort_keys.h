/*
 * sort_keys.h — per-message keys for SORT and THREAD (RFC 5256).
 */
#ifndef PETREL_IMAP_SORT_KEYS_H
#define PETREL_IMAP_SORT_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "imapd/client.h"

struct message_keys {
	uint32_t seq, uid;
	int64_t arrival, sent; /* sent: Date:, or arrival without one */
	bool has_sent;
	uint64_t size;
	char *subject; /* base subject (RFC 5256 2.1), "" when none */
	bool subject_reply;
	char *from, *to, *cc; /* the first address's mailbox (local part) */
	char *message_id, *references, *in_reply_to; /* raw, unfolded */
};

/* Keys of the messages seqs[0..count) of the selected folder. */
struct message_keys *sort_keys_load(struct imap_client *c, const uint32_t *seqs,
                                    size_t count);
void sort_keys_free(struct message_keys *keys, size_t count);
/* What SORT and THREAD start with: the charset at args, the search keys
 * after it, and the keys of the messages they find (*count_r); NULL
 * after a reply. */
struct message_keys *sort_keys_search(struct imap_client *c, const struct imap_arg *args,
                                      size_t *count_r);

#endif
