/*
 * envelope.h — the envelope of a queued message and its spool format.
 *
 * A spool file is written as the message arrives, its envelope last:
 *
 *   PETREL-SPOOL 2\n
 *   <the message as received>             streamed while DATA/BDAT goes on
 *   <tag> <length>:<octets>\n             one record per envelope field
 *   W <length>:<header section>\n         delivered in place of the one
 *                                         received (ours prepended: Received,
 *                                         then whatever the stages added)
 *   G <length>:<offset>\n                 where, in the message as received,
 *                                         the body (what follows the header
 *                                         section) starts
 *   PETREL-END <20-digit offset of the first record>\n
 *
 * The message delivered is W followed by the received octets from G on.
 * N (NOTIFY) and O (ORCPT) records belong to the R record before them.
 * A file is complete only with its footer, so one cut short by a crash
 * is refused (it was never acknowledged).
 *
 * Version 1 files (records first, then "M <length>:\n" and the message),
 * written before streaming, are still read.
 *
 * Every value is length-prefixed, so arbitrary octets (CR, LF, NUL)
 * round-trip and can never forge a record (Exim CVE-2020-28021 class).
 * The parser is pure and fuzzed like the protocol parsers.
 */
#ifndef PETREL_ENVELOPE_H
#define PETREL_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "message/queue_id.h"

/* RCPT NOTIFY= (RFC 3461 4.1); none given: failures and delays. */
enum dsn_notify {
	NOTIFY_SUCCESS = 1 << 0,
	NOTIFY_FAILURE = 1 << 1,
	NOTIFY_DELAY = 1 << 2,
	NOTIFY_NEVER = 1 << 3,
};

struct envelope_rcpt {
	char *address;   /* as given in RCPT TO, without <> */
	unsigned notify; /* enum dsn_notify bits; 0: NOTIFY= not given */
	char *orcpt;     /* ORCPT= decoded: "rfc822;user@example.net", or NULL */
	char *original;  /* the address the client named when an alias led
	                    here (logged as orig_to), or NULL */
};

struct envelope {
	char id[QUEUE_ID_LEN + 1];
	int64_t arrival; /* seconds since the epoch */
	char *sender;    /* "" for the null reverse-path */
	char *helo;      /* HELO/EHLO argument */
	char *client;    /* client IP address */
	char *tls;       /* "TLSv1.3 TLS_AES_256_GCM_SHA384", or NULL */
	char *body;      /* "7BIT" or "8BITMIME" */
	bool smtputf8;
	char *envid;     /* MAIL ENVID= decoded, or NULL */
	char *ret;       /* MAIL RET=: "FULL", "HDRS", or NULL */
	char *parent;    /* a DSN: the queue ID of the message it reports on */
	char *auth_user; /* SASL identity of the submitter, or NULL */
	/* A verified client certificate (net/tls.h), kept for policy. */
	char *cert_subject, *cert_issuer, *cert_sha256, *cert_san, *cert_not_after;
	struct envelope_rcpt *rcpts;
	size_t rcpt_count;
};

struct envelope_rcpt *envelope_add_rcpt(struct envelope *env, const char *address);
void envelope_clear(struct envelope *env);

#define SPOOL_MAGIC_LEN  15 /* "PETREL-SPOOL 2\n" */
#define SPOOL_FOOTER_LEN 32 /* "PETREL-END " 20 digits "\n" */

/* The first line of a spool file; the message as received follows. */
void envelope_spool_begin(struct buf *out);

/*
 * What ends a spool file whose message as received took content_len
 * octets: the records, the header section to deliver (header), where the
 * body starts in the received message (body_offset), and the footer.
 */
void envelope_spool_end(const struct envelope *env, const char *header, size_t header_len,
                        uint64_t body_offset, uint64_t content_len, struct buf *out);

/* Where the message of a spool file is. */
struct spool_layout {
	const char *header; /* the header section to deliver (into the data parsed) */
	size_t header_len;
	uint64_t body_offset; /* file offset of what follows it */
	uint64_t body_len;
};

/* From the last SPOOL_FOOTER_LEN octets of a file of file_size octets:
 * the offset of its first record. -1 if they are no footer. */
int envelope_trailer_offset(const char *footer, uint64_t file_size, uint64_t *offset_r);

/*
 * Parses the records of a version 2 file: data[0..len) is the file from
 * trailer_offset to its footer. Fills *env (owned; free with
 * envelope_clear) and *layout (pointing into data). -1 with *error_r for
 * anything malformed.
 */
int envelope_parse_trailer(const char *data, size_t len, uint64_t trailer_offset,
                           struct envelope *env, struct spool_layout *layout,
                           const char **error_r);

/* Parses a whole spool file in memory, version 1 or 2. Returns 0, or -1
 * with *error_r for anything malformed or truncated (a partial file). */
int envelope_parse(const char *data, size_t len, struct envelope *env,
                   struct spool_layout *layout, const char **error_r);

#endif
