/*
 * imap_write.h — IMAP response data (RFC 9051 section 9 and 7.5.2):
 * strings as quoted strings or literals (NIL when absent), and the
 * ENVELOPE of a message from its header section.
 *
 * Pure: output goes to the caller's write function, a piece at a time;
 * nothing here knows a socket.
 */
#ifndef PETREL_IMAP_WRITE_H
#define PETREL_IMAP_WRITE_H

#include <stdbool.h>
#include <stddef.h>

struct imap_writer {
	void (*write)(void *ctx, const char *data, size_t len);
	void *ctx;
	bool utf8; /* UTF8=ACCEPT enabled: UTF-8 may go in quoted strings */
};

void imap_write_raw(const struct imap_writer *w, const char *data, size_t len);

/* nstring: NIL when s is NULL; a quoted string when it can be one
 * (printable, no CR/LF, not long); else a literal. NUL octets, which no
 * IMAP string may hold, are left out. */
void imap_write_nstring(const struct imap_writer *w, const char *s, size_t len);

/* The ENVELOPE of a message whose header section is header[0..len):
 * (date subject from sender reply-to to cc bcc in-reply-to message-id),
 * the first of each field, unfolded; Sender and Reply-To are From's when
 * absent or empty. */
void imap_write_envelope(const struct imap_writer *w, const char *header, size_t len);

#endif
