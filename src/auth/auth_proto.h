/*
 * auth_proto.h — what workers and the queue ask the auth process, and
 * what it answers (ipc/wire.h frames). Encoding and decoding are pure,
 * so the parser of what reaches the auth process is unit-tested and
 * fuzzed apart from any socket.
 *
 * Lookups answer 1 (yes / found), 0 (no) or -1 (the database could not
 * say, with an error). A SASL exchange lives in the auth process,
 * named by a conversation number its client chose; the first step
 * carries the mechanism and what EXTERNAL needs to know of the client.
 */
#ifndef PETREL_AUTH_PROTO_H
#define PETREL_AUTH_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/userdb.h"
#include "lib/buf.h"
#include "lib/client_cert.h"
#include "proto/sasl.h"

enum auth_request_type {
	/* name: an address → 0 its domain is not ours, 1 it is, and user
	 * names who gets its mail ("" no one): one question per delivery */
	AUTH_LOCAL_RCPT = 1,
	AUTH_EXPAND, /* name: an address → where its mail goes */
	AUTH_SENDER, /* name: a user, other: a sender it may use */
	AUTH_SASL_STEP,
	AUTH_SASL_END, /* the client gave up the exchange */
};

#define AUTH_NAME_SIZE  (SASL_NAME_MAX + 1)
#define AUTH_ERROR_SIZE 256

struct auth_request {
	enum auth_request_type type;
	char name[AUTH_NAME_SIZE];
	char other[AUTH_NAME_SIZE];
	/* AUTH_SASL_STEP, AUTH_SASL_END */
	uint64_t conversation;
	bool first; /* the exchange begins: the fields below are set */
	uint32_t mechanism;
	char client_ip[64];
	struct client_cert cert;
	bool has_response; /* false: no initial response */
	const void *response;
	size_t response_len;
};

struct auth_response {
	int32_t result; /* lookups: 1, 0, -1; SASL: enum sasl_result */
	char error[AUTH_ERROR_SIZE];
	char user[AUTH_NAME_SIZE];         /* AUTH_LOCAL_RCPT */
	uint64_t quota;                    /* ... and a SASL success: the user's */
	struct userdb_expansion expansion; /* AUTH_EXPAND */
	/* AUTH_SASL_STEP */
	struct buf challenge;
	char login[AUTH_NAME_SIZE];
	char identity[AUTH_NAME_SIZE];
	char reason[192];
	bool rehashed, cached;
};

/* -1 when the request does not fit a frame. */
int auth_request_encode(const struct auth_request *request, struct buf *out);
/* 0, or -1 for anything malformed (unknown type, a field too long or
 * cut short, octets left over). request->response points into frame. */
int auth_request_decode(const void *frame, size_t len, struct auth_request *request);

int auth_response_encode(enum auth_request_type type,
                         const struct auth_response *response, struct buf *out);
/* Fills response (allocating the expansion and the challenge); 0 or -1. */
int auth_response_decode(enum auth_request_type type, const void *frame, size_t len,
                         struct auth_response *response);
void auth_response_clear(struct auth_response *response);

#endif
