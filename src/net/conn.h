/*
 * conn.h — one connection, for every protocol and both sides: the SMTP
 * server's sessions, the SMTP client, the control socket, and later IMAP,
 * POP3, the proxy and HTTP. Protocol code asks for a line or for octets,
 * writes replies, and never touches a bufferevent.
 *
 * What the layer does for every protocol, once:
 *   - implicit TLS, and STARTTLS in either role, discarding whatever was
 *     buffered in the clear before the handshake (CVE-2011-0411, and the
 *     same injection against clients: "NO STARTTLS", USENIX 2021);
 *   - a line reader with a limit chosen per call (per protocol state),
 *     which discards an overlong line to its end and reports it once;
 *   - raw octets (BDAT now; IMAP literals and proxying later);
 *   - back-pressure: input is not delivered while more than
 *     output_high_water octets wait for a peer that does not read;
 *   - an idle deadline (no progress either way) and a total deadline;
 *   - pause/resume while the protocol waits for an asynchronous job;
 *   - what policy needs: peer address, TLS version and cipher, the client
 *     certificate and its verification, octet counts.
 *
 * Callbacks run on the event loop. Any of them may free the connection
 * (conn_free); the layer never touches it afterwards.
 */
#ifndef PETREL_CONN_H
#define PETREL_CONN_H

#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "lib/client_cert.h"

struct conn;

/* Why a connection is over (the `end` callback). */
enum conn_end {
	CONN_END_CLOSED,   /* conn_close_after_flush() finished */
	CONN_END_EOF,      /* the peer closed its side */
	CONN_END_ERROR,    /* a socket error (errno in conn_info) */
	CONN_END_TLS,      /* the TLS handshake or a TLS record failed */
	CONN_END_IDLE,     /* no progress for idle_seconds */
	CONN_END_DEADLINE, /* total_seconds since the start */
	CONN_END_CONNECT,  /* client role: the connection could not be made */
};

enum conn_role { CONN_SERVER, CONN_CLIENT };

struct conn_handlers {
	/* Input is waiting, or the connection was resumed: read it with
	 * conn_read_line(), conn_read() or conn_peek(). Not called while
	 * paused, closing, or over the output high-water mark. */
	void (*input)(struct conn *c, void *arg);
	/* The TLS handshake is done (implicit TLS or STARTTLS). */
	void (*tls_up)(struct conn *c, void *arg);
	/* Client role: the TCP connection is made. */
	void (*connected)(struct conn *c, void *arg);
	/* Output fell to output_low_water (a sender of large data refills). */
	void (*output_low)(struct conn *c, void *arg);
	/* A deadline passed. NULL: the connection ends (CONN_END_IDLE or
	 * CONN_END_DEADLINE). Otherwise the protocol decides: typically a
	 * last reply and conn_close_after_flush() with a short idle time. */
	void (*timeout)(struct conn *c, void *arg, enum conn_end which);
	/* The connection is over; the owner frees it (conn_free). */
	void (*end)(struct conn *c, void *arg, enum conn_end why);
};

struct conn_settings {
	unsigned idle_seconds;    /* 0: none */
	unsigned total_seconds;   /* 0: none */
	size_t input_max;         /* octets read ahead of the protocol */
	size_t output_high_water; /* input waits while more is queued */
	size_t output_low_water;  /* output_low() and resuming, at or below */
};

/* What the layer knows of the connection, for logs and policy. */
struct conn_info {
	enum conn_role role;
	struct sockaddr_storage peer;
	char peer_ip[INET6_ADDRSTRLEN];
	uint16_t peer_port;
	bool tls;                  /* the handshake is done */
	char tls_version[16];      /* "TLSv1.3" */
	char tls_cipher[64];       /* "TLS_AES_256_GCM_SHA384" */
	char tls_description[128]; /* "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384" */
	/* server role: the client's certificate, NULL when none was shown
	 * (kept only then: a connection without one stays small) */
	struct client_cert *cert;
	uint64_t bytes_in, bytes_out;
	int error_errno;     /* CONN_END_ERROR, CONN_END_CONNECT */
	char tls_error[160]; /* CONN_END_TLS: the first OpenSSL error */
};

/*
 * Server role: takes an accepted socket. With ssl, TLS starts at once
 * (implicit TLS) and tls_up() follows the handshake; without, the
 * connection is plain until conn_starttls().
 */
struct conn *conn_accept(struct event_base *base, int fd, const struct sockaddr *peer,
                         socklen_t peer_len, SSL *ssl,
                         const struct conn_settings *settings,
                         const struct conn_handlers *handlers, void *arg);

/*
 * Either role, on a socket already connected: conn_accept() is the server
 * role; the client role serves a local socket, where connect() does not
 * wait (the auth process's).
 */
struct conn *conn_adopt(struct event_base *base, int fd, enum conn_role role,
                        const struct sockaddr *peer, socklen_t peer_len, SSL *ssl,
                        const struct conn_settings *settings,
                        const struct conn_handlers *handlers, void *arg);

/*
 * Client role: connects to addr (non-blocking), from source if given;
 * connected() follows, or end(CONN_END_CONNECT). With ssl, the TLS
 * handshake follows the connect and tls_up() comes instead of
 * connected(). NULL with errno if no socket could be made or bound.
 */
struct conn *conn_connect(struct event_base *base, const struct sockaddr *addr,
                          socklen_t addr_len, const struct sockaddr *source,
                          socklen_t source_len, SSL *ssl,
                          const struct conn_settings *settings,
                          const struct conn_handlers *handlers, void *arg);

/* Frees at once (closing the socket), or after the callback that called
 * it returns. *c becomes NULL. */
void conn_free(struct conn **c);

/*
 * Reads one line ending in LF (a CR before it is removed too). The limit
 * counts the line ending. Returns
 *   1  a line in *line_r (NUL-terminated, valid until the next read),
 *      *len_r octets without the line ending;
 *   0  no complete line yet;
 *  -1  a line over the limit ended and was discarded whole, as it came
 *      (memory stays bounded); *len_r is the limit it broke, the one in
 *      force when the line began.
 */
int conn_read_line(struct conn *c, size_t limit, char **line_r, size_t *len_r);

/* Up to max octets of input, copied into out; returns how many. */
size_t conn_read(struct conn *c, void *out, size_t max);
/* Input without copying: up to count spans, then conn_drain(). */
int conn_peek(struct conn *c, struct iovec *vec, int count);
void conn_drain(struct conn *c, size_t len);
/* Octets of input waiting (for pipelining checks). */
size_t conn_input_length(const struct conn *c);
/* True if the peer has sent anything, even not yet read by the layer. */
bool conn_peer_spoke(struct conn *c);
/* Copies up to len octets from the start of the input, consuming none. */
size_t conn_input_copy(const struct conn *c, void *out, size_t len);

void conn_write(struct conn *c, const void *data, size_t len);
void conn_printf(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void conn_vprintf(struct conn *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
size_t conn_output_length(const struct conn *c);

/* Input is not delivered until resumed. Reading goes on up to input_max,
 * so a peer closing meanwhile ends the connection. */
void conn_pause(struct conn *c);
/* Delivers waiting input again, from a fresh loop callback (also when
 * not paused: the protocol had stopped reading on its own). */
void conn_resume(struct conn *c);
/* Whether the protocol may read now. A protocol reading pipelined input
 * in a loop asks before each command: false when paused, closing, TLS is
 * starting, the connection ended, or the output is over the high-water
 * mark (input then resumes by itself once the peer has read). */
bool conn_readable(struct conn *c);

/*
 * STARTTLS. Server: call after queueing the "ready to start TLS" reply;
 * the handshake starts once it has left. Client: call after reading the
 * server's 220; the handshake starts at once. Either way, input buffered
 * until now came in the clear and is discarded: the return value is how
 * many octets were, for the log. tls_up() follows, or end(CONN_END_TLS).
 */
size_t conn_starttls(struct conn *c, SSL *ssl);

/* COMPRESS=DEFLATE (RFC 4978): from now on both directions are raw
 * deflate; call after queueing the OK that agrees to it (which leaves
 * uncompressed). */
void conn_compress(struct conn *c);

/* Stops reading; end(CONN_END_CLOSED) once the output has left. */
void conn_close_after_flush(struct conn *c);

void conn_set_idle_timeout(struct conn *c, unsigned seconds);

const struct conn_info *conn_info(const struct conn *c);
/* The TLS session, for checks the layer does not make itself (the SMTP
 * client's certificate checks); NULL before TLS. */
SSL *conn_ssl(const struct conn *c);

#endif
