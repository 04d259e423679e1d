/*
 * sessions.h — what every protocol's sessions do alike when they start
 * and end: their log id, the connect and disconnect events, TLS from the
 * first octet on an implicit-TLS listener, and the words for why a
 * connection ended. Each service keeps its own session struct; these
 * take the few fields they need.
 */
#ifndef PETREL_SERVICE_SESSIONS_H
#define PETREL_SERVICE_SESSIONS_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/config.h"
#include "net/conn.h"

#define SESSION_LOG_ID_SIZE 24

/* A session's id in the logs: its start (microseconds) mixed with its
 * descriptor, unique among the sessions alive at once. */
void session_log_id(char out[SESSION_LOG_ID_SIZE], uint64_t start_usec, int fd);

/* event=connect for a session just admitted on listener. */
void session_log_connect(const char *log_id, const char *ip,
                         const struct listen_config *listener, const char *protocol);

/* The connection of a session accepted on listener: TLS from the first
 * octet (asking for a client certificate as the listener says) when the
 * listener is implicit TLS, when the greeting waits for the handshake. */
struct conn *session_conn_accept(struct event_base *base, SSL_CTX *tls,
                                 const struct listen_config *listener, int fd,
                                 const struct sockaddr *peer, socklen_t peer_len,
                                 const struct conn_settings *settings,
                                 const struct conn_handlers *handlers, void *arg);

/* Why the connection ended, in the disconnect event's words; closed is
 * the reason when the server closed it itself ("logout", "quit"...). */
const char *session_end_reason(enum conn_end why, const char *closed, bool tls_active);

/* event=tls-error, when the connection recorded one. */
void session_log_tls_error(const struct conn_info *info, const char *log_id,
                           const char *ip);

/* event=disconnect of a mailbox session (IMAP, POP3): who, why, octets
 * both ways; info may be NULL when the connection is already gone. */
void session_log_disconnect(const char *log_id, const char *ip, const char *user,
                            const char *reason, unsigned errors,
                            const struct conn_info *info, bool tls_active,
                            const char *protocol);

#endif
