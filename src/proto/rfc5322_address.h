/*
 * rfc5322_address.h — address lists of RFC 5322 header fields (From, To,
 * Cc, Reply-To...): mailboxes with their display names, and groups, as
 * IMAP's ENVELOPE shows them (RFC 9051 7.5.2) and as DMARC will need the
 * From domain.
 *
 * Tolerant, as a reader of real mail must be: comments are dropped,
 * obsolete routes kept, and an address that does not parse still yields
 * what could be read (a missing domain is NULL), never a failure of the
 * whole field. Pure: strings are handed to the callback in a scratch
 * buffer valid during the call. Bounded: at most RFC5322_ADDRESSES_MAX
 * addresses per field, each string cut at RFC5322_PART_MAX octets.
 */
#ifndef PETREL_RFC5322_ADDRESS_H
#define PETREL_RFC5322_ADDRESS_H

#include <stddef.h>

#define RFC5322_ADDRESSES_MAX 1000
#define RFC5322_PART_MAX      512

enum rfc5322_address_kind {
	RFC5322_MAILBOX,
	RFC5322_GROUP_START, /* name: the group's */
	RFC5322_GROUP_END,
};

struct rfc5322_address {
	enum rfc5322_address_kind kind;
	const char *name;   /* display name, unquoted; NULL if none */
	const char *route;  /* obsolete "@a,@b" route; NULL if none */
	const char *local;  /* local part, unquoted; NULL if none */
	const char *domain; /* NULL if none */
};

typedef void rfc5322_address_fn(void *ctx, const struct rfc5322_address *address);

/* Calls fn for each address (and group start/end) in value; returns how
 * many mailboxes it reported. */
size_t rfc5322_address_list(const char *value, size_t len, rfc5322_address_fn *fn,
                            void *ctx);

#endif
