/*
 * sasl_session.h — one SASL exchange of a protocol session (IMAP
 * AUTHENTICATE and LOGIN, POP3 AUTH and USER/PASS), driven from an event
 * loop: each client response goes to the auth process (auth_service.h),
 * whose answer comes back as a challenge to send or a result. The
 * protocol keeps only its own syntax: how a challenge is prefixed and
 * what a result is answered with.
 *
 * Responses are base64 on the wire (RFC 4422 as IMAP, POP3 and SMTP
 * carry them); "*" cancels. The mechanisms themselves run in the auth
 * process (auth/sasl.c), never here.
 */
#ifndef PETREL_SASL_SESSION_H
#define PETREL_SASL_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/auth_client.h"
#include "auth/auth_service.h"

struct sasl_session;

struct sasl_session_handlers {
	/* Send this challenge (base64, NUL-terminated) and wait for a line. */
	void (*challenge)(void *owner, const char *base64);
	/* The exchange is over: x says who (x->identity on success), why
	 * (x->reason) and the user's quota; valid during the call only. */
	void (*done)(void *owner, enum sasl_result result, const struct auth_exchange *x);
};

struct sasl_session *sasl_session_new(struct auth_service *service,
                                      const struct sasl_session_handlers *handlers,
                                      void *owner);
/* Gives up an exchange under way (the auth process is told) and frees. */
void sasl_session_free(struct sasl_session **session);

/* Starts an exchange; response (malloc'd, taken) is the initial one, or
 * NULL when the client gave none. */
void sasl_session_start(struct sasl_session *session, unsigned mechanism,
                        const char *client_ip, const struct client_cert *cert,
                        char *response, size_t len);
/* A client line while a challenge waits: 0 sent on; -1 when it was "*"
 * (cancelled) or not base64 (*error_r): the exchange is over, the
 * caller answers. */
int sasl_session_line(struct sasl_session *session, const char *line, size_t len,
                      const char **error_r);
/* Waiting for the auth process (input should wait too). */
bool sasl_session_busy(const struct sasl_session *session);
/* A challenge was sent: the next line belongs to the exchange. */
bool sasl_session_wants_line(const struct sasl_session *session);
/* Ends an exchange under way without a result (the auth process told). */
void sasl_session_abandon(struct sasl_session *session);

/* Strict base64 into a fresh NUL-terminated buffer; -1 if malformed. */
int sasl_decode_base64(const char *text, size_t len, char **out_r, size_t *len_r);

#endif
