/*
 * envelope.h — the envelope of a queued message and its spool format.
 *
 * A spool file is the envelope followed by the message:
 *
 *   PETREL-SPOOL 1\n
 *   <tag> <length>:<octets>\n       one record per field, repeated
 *   M <length>:\n<message octets>   always last
 *
 * N (NOTIFY) and O (ORCPT) records belong to the R record before them.
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

/* Appends the spool header and the "M <len>:\n" record for a message of
 * message_len octets; the message itself follows it in the file. */
void envelope_serialize(const struct envelope *env, size_t message_len, struct buf *out);

/*
 * Parses a whole spool file. On success returns 0, fills *env (owned;
 * free with envelope_clear) and points *message_r into data. Returns -1
 * with *error_r for anything malformed or truncated — a partial file.
 */
int envelope_parse(const char *data, size_t len, struct envelope *env,
                   const char **message_r, size_t *message_len_r, const char **error_r);

#endif
