/*
 * message_source.h — the octets of a queued message, read in pieces and
 * never held whole: the header section to deliver (in memory, from the
 * spool file's envelope) followed by the body (a range of the spool
 * file). Local delivery copies it into a Maildir, the SMTP client sends
 * it, DSNs quote its beginning.
 */
#ifndef PETREL_MESSAGE_SOURCE_H
#define PETREL_MESSAGE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct message_source {
	const char *header; /* the header section to deliver */
	size_t header_len;
	int fd;           /* the spool file; -1: the body is in memory */
	const char *body; /* when fd < 0 */
	uint64_t body_offset, body_len;
};

uint64_t message_source_size(const struct message_source *source);

/*
 * Copies up to len octets from position pos of the message into out.
 * Returns how many (0 at the end), or -1 with errno. Blocking: for
 * threads.
 */
ssize_t message_source_read(const struct message_source *source, uint64_t pos, char *out,
                            size_t len);

/* Whether any octet of the message is 8-bit (RFC 6152), read in pieces. */
int message_source_has_8bit(const struct message_source *source, bool *result_r);

#endif
