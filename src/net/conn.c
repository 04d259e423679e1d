/*
 * conn.c — the connection layer on libevent bufferevents (see conn.h).
 *
 * A plain connection is a socket bufferevent; TLS replaces it with an
 * OpenSSL bufferevent on the same socket (the plain one is freed, never
 * stacked under a filter), so input read in the clear cannot survive the
 * switch. Callbacks into the protocol are bracketed so that one which
 * frees the connection only marks it; the memory goes when the outermost
 * bracket closes.
 */
#include "net/conn.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/netaddr.h"
#include "lib/xalloc.h"
#include "net/conn_deflate.h"
#include "net/tls.h"

struct conn {
	struct event_base *base;
	int fd;
	struct bufferevent *bev;
	SSL *ssl;
	struct conn_settings settings;
	const struct conn_handlers *handlers;
	void *arg;
	struct conn_info info;
	struct event *kick;     /* delivers input from a fresh loop callback */
	struct event *flush;    /* writes what the callbacks wrote, at once */
	struct event *deadline; /* total_seconds */
	struct buf line;        /* the line handed out by conn_read_line */
	size_t discard_limit;   /* inside an overlong line: the limit it broke */
	bool discarding;
	bool paused;
	bool throttled; /* output over the high-water mark */
	bool closing;
	bool tls_pending; /* server STARTTLS: handshake once the output left */
	bool connecting;
	bool direct; /* a plain socket: flush_output writes, not the bufferevent */
	bool ended;
	unsigned depth; /* protocol callbacks running */
	bool freed;     /* conn_free() inside one of them */
	/* COMPRESS: input inflated into plain_in; output deflated, flushed
	 * by zflush once per turn of the loop */
	struct conn_deflate *z;
	struct evbuffer *plain_in;
	struct event *zflush;
};

/* What the protocol reads: the socket's input, or its inflated form. */
static struct evbuffer *input_of(const struct conn *c)
{
	return c->z ? c->plain_in : bufferevent_get_input(c->bev);
}

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);
static void flush_output(evutil_socket_t fd, short what, void *arg);

/* --- callbacks into the protocol ----------------------------------------- */

static void destroy(struct conn *c)
{
	if (c->kick)
		event_free(c->kick);
	if (c->flush)
		event_free(c->flush);
	if (c->deadline)
		event_free(c->deadline);
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->zflush)
		event_free(c->zflush);
	if (c->plain_in)
		evbuffer_free(c->plain_in);
	conn_deflate_free(&c->z);
	if (c->fd >= 0)
		close(c->fd);
	buf_free(&c->line);
	free(c->info.cert);
	free(c);
}

/* Brackets a protocol callback; false when the connection is gone. */
static void enter(struct conn *c)
{
	c->depth++;
}

static bool leave(struct conn *c)
{
	if (--c->depth == 0 && c->freed) {
		destroy(c);
		return false;
	}
	return !c->freed;
}

void conn_free(struct conn **cp)
{
	struct conn *c = *cp;
	*cp = NULL;
	if (c == NULL)
		return;
	if (c->depth > 0) {
		/* Quiet now; the memory goes when the callback returns. */
		c->freed = true;
		if (c->bev)
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	destroy(c);
}

static void end(struct conn *c, enum conn_end why)
{
	if (c->ended)
		return;
	c->ended = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	enter(c);
	c->handlers->end(c, c->arg, why);
	leave(c);
}

bool conn_readable(struct conn *c)
{
	if (c->paused || c->closing || c->throttled || c->tls_pending || c->ended ||
	    c->freed)
		return false;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    c->settings.output_high_water) {
		/* A peer that sends but never reads: stop reading until it
		 * has taken our replies (on_write resumes). */
		c->throttled = true;
		bufferevent_disable(c->bev, EV_READ);
		return false;
	}
	return true;
}

/* Runs the input handler, which reads while it can make progress. */
static void deliver_input(struct conn *c)
{
	if (!conn_readable(c) || c->handlers->input == NULL)
		return;
	if (c->z && conn_deflate_inflate(c->z, bufferevent_get_input(c->bev), c->plain_in,
	                                 c->settings.input_max) < 0) {
		c->info.error_errno = EPROTO;
		end(c, CONN_END_ERROR); /* not deflate: nothing more can be read */
		return;
	}
	if (evbuffer_get_length(input_of(c)) == 0 && !c->discarding)
		return;
	enter(c);
	c->handlers->input(c, c->arg);
	bool more = c->z && !c->ended && !c->freed &&
	            evbuffer_get_length(c->plain_in) == 0 &&
	            evbuffer_get_length(bufferevent_get_input(c->bev)) > 0;
	leave(c);
	/* Inflated a bounded amount: the rest waits in the socket's buffer. */
	if (more && !c->freed)
		event_active(c->kick, EV_TIMEOUT, 0);
}

static void output_drained(struct conn *c);

/* Work done from a fresh loop callback rather than inside the caller:
 * input after a resume, a close or a handshake whose output had already
 * left, a connect that failed before it started. */
static void kicked(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	if (c->ended || c->freed)
		return;
	if (c->connecting && c->info.error_errno) {
		end(c, CONN_END_CONNECT);
		return;
	}
	if ((c->closing || c->tls_pending) && conn_output_length(c) == 0) {
		output_drained(c);
		return;
	}
	deliver_input(c);
}

static void deadline_passed(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	if (c->handlers->timeout == NULL) {
		end(c, CONN_END_DEADLINE);
		return;
	}
	enter(c);
	c->handlers->timeout(c, c->arg, CONN_END_DEADLINE);
	leave(c);
}

/* --- set-up -------------------------------------------------------------- */

static void apply_timeouts(struct conn *c)
{
	struct timeval tv = {c->settings.idle_seconds, 0};
	const struct timeval *t = c->settings.idle_seconds ? &tv : NULL;
	bufferevent_set_timeouts(c->bev, t, t);
}

/*
 * Output on a plain socket: what the callbacks of one turn of the loop
 * wrote leaves in one writev from the flush event, and the bufferevent
 * writes (EV_WRITE enabled) only what the socket would not take. Left to
 * the bufferevent, every reply cost two epoll_ctl calls and a turn of the
 * loop. TLS output is always the bufferevent's.
 */
static void attach(struct conn *c, struct bufferevent *bev, bool tls)
{
	c->bev = bev;
	c->direct = !tls;
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(bev, EV_READ, 0, c->settings.input_max);
	bufferevent_setwatermark(bev, EV_WRITE, c->settings.output_low_water, 0);
	apply_timeouts(c);
	/* (A new bufferevent starts with EV_WRITE enabled.) */
	if (tls) {
		bufferevent_enable(bev, EV_READ | EV_WRITE);
	} else {
		bufferevent_disable(bev, EV_WRITE);
		bufferevent_enable(bev, EV_READ);
	}
}

static struct conn *conn_new(struct event_base *base, int fd,
                             const struct conn_settings *settings,
                             const struct conn_handlers *handlers, void *arg)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->fd = fd;
	c->settings = *settings;
	if (c->settings.input_max == 0)
		c->settings.input_max = 64 * 1024;
	if (c->settings.output_high_water == 0)
		c->settings.output_high_water = 256 * 1024;
	c->handlers = handlers;
	c->arg = arg;
	c->kick = event_new(base, -1, 0, kicked, c);
	c->flush = event_new(base, -1, 0, flush_output, c);
	if (settings->total_seconds) {
		c->deadline = evtimer_new(base, deadline_passed, c);
		struct timeval tv = {settings->total_seconds, 0};
		evtimer_add(c->deadline, &tv);
	}
	return c;
}

static void set_peer(struct conn *c, const struct sockaddr *peer, socklen_t len)
{
	if (len > sizeof(c->info.peer))
		len = sizeof(c->info.peer);
	memcpy(&c->info.peer, peer, len);
	sockaddr_ip(peer, c->info.peer_ip, sizeof(c->info.peer_ip));
	if (peer->sa_family == AF_INET)
		c->info.peer_port = ntohs(((const struct sockaddr_in *)peer)->sin_port);
	else if (peer->sa_family == AF_INET6)
		c->info.peer_port = ntohs(((const struct sockaddr_in6 *)peer)->sin6_port);
}

static void start_tls(struct conn *c, SSL *ssl)
{
	if (c->bev)
		bufferevent_free(c->bev);
	c->ssl = ssl;
	enum bufferevent_ssl_state state = c->info.role == CONN_SERVER
	                                       ? BUFFEREVENT_SSL_ACCEPTING
	                                       : BUFFEREVENT_SSL_CONNECTING;
	attach(c, bufferevent_openssl_socket_new(c->base, c->fd, ssl, state, 0), true);
}

struct conn *conn_accept(struct event_base *base, int fd, const struct sockaddr *peer,
                         socklen_t peer_len, SSL *ssl,
                         const struct conn_settings *settings,
                         const struct conn_handlers *handlers, void *arg)
{
	return conn_adopt(base, fd, CONN_SERVER, peer, peer_len, ssl, settings, handlers,
	                  arg);
}

struct conn *conn_adopt(struct event_base *base, int fd, enum conn_role role,
                        const struct sockaddr *peer, socklen_t peer_len, SSL *ssl,
                        const struct conn_settings *settings,
                        const struct conn_handlers *handlers, void *arg)
{
	struct conn *c = conn_new(base, fd, settings, handlers, arg);
	c->info.role = role;
	set_peer(c, peer, peer_len);
	if (peer->sa_family != AF_UNIX) {
		int on = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
	if (ssl)
		start_tls(c, ssl);
	else
		attach(c, bufferevent_socket_new(base, fd, 0), false);
	return c;
}

struct conn *conn_connect(struct event_base *base, const struct sockaddr *addr,
                          socklen_t addr_len, const struct sockaddr *source,
                          socklen_t source_len, SSL *ssl,
                          const struct conn_settings *settings,
                          const struct conn_handlers *handlers, void *arg)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (source && bind(fd, source, source_len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	int on = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	struct conn *c = conn_new(base, fd, settings, handlers, arg);
	c->info.role = CONN_CLIENT;
	set_peer(c, addr, addr_len);
	c->connecting = true;
	c->ssl = ssl; /* the handshake follows the connect */
	attach(c, bufferevent_socket_new(base, fd, 0), false);
	if (bufferevent_socket_connect(c->bev, addr, (int)addr_len) < 0) {
		/* Reported from the loop, like any other failure to connect. */
		c->info.error_errno = errno ? errno : ECONNREFUSED;
		event_active(c->kick, EV_TIMEOUT, 0);
	}
	return c;
}

/* --- input --------------------------------------------------------------- */

int conn_read_line(struct conn *c, size_t limit, char **line_r, size_t *len_r)
{
	struct evbuffer *input = input_of(c);
	size_t eol_len;
	struct evbuffer_ptr eol =
	    evbuffer_search_eol(input, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (eol.pos < 0) {
		size_t avail = evbuffer_get_length(input);
		if (avail > limit || (c->discarding && avail > 0)) {
			/* Too long already: dropped as it comes, reported at its end. */
			if (!c->discarding)
				c->discard_limit = limit;
			c->discarding = true;
			evbuffer_drain(input, avail);
			c->info.bytes_in += avail;
		}
		return 0;
	}
	/* The limit counts the line ending: RFC 5321 4.5.3.1.4. */
	size_t total = (size_t)eol.pos + eol_len;
	c->info.bytes_in += total;
	if (c->discarding || total > limit) {
		*len_r = c->discarding ? c->discard_limit : limit;
		c->discarding = false;
		evbuffer_drain(input, total);
		return -1;
	}
	buf_reset(&c->line);
	buf_reserve(&c->line, total + 1);
	char *line = c->line.data;
	evbuffer_remove(input, line, total);
	size_t len = total - eol_len;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	*line_r = line;
	*len_r = len;
	return 1;
}

size_t conn_read(struct conn *c, void *out, size_t max)
{
	int n = evbuffer_remove(input_of(c), out, max);
	if (n <= 0)
		return 0;
	c->info.bytes_in += (size_t)n;
	return (size_t)n;
}

int conn_peek(struct conn *c, struct iovec *vec, int count)
{
	struct evbuffer_iovec spans[16];
	if (count > 16)
		count = 16;
	int n = evbuffer_peek(input_of(c), -1, NULL, spans, count);
	if (n > count)
		n = count;
	for (int i = 0; i < n; i++) {
		vec[i].iov_base = spans[i].iov_base;
		vec[i].iov_len = spans[i].iov_len;
	}
	return n;
}

void conn_drain(struct conn *c, size_t len)
{
	evbuffer_drain(input_of(c), len);
	c->info.bytes_in += len;
}

size_t conn_input_length(const struct conn *c)
{
	return evbuffer_get_length(input_of(c));
}

size_t conn_input_copy(const struct conn *c, void *out, size_t len)
{
	ev_ssize_t n = evbuffer_copyout(input_of(c), out, len);
	return n > 0 ? (size_t)n : 0;
}

bool conn_peer_spoke(struct conn *c)
{
	char probe;
	ssize_t n = recv(c->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
	return n > 0 || conn_input_length(c) > 0;
}

/* --- output -------------------------------------------------------------- */

static void output_added(struct conn *c)
{
	if (c->direct)
		event_active(c->flush, EV_TIMEOUT, 0);
}

void conn_write(struct conn *c, const void *data, size_t len)
{
	c->info.bytes_out += len;
	if (c->z) {
		conn_deflate_write(c->z, data, len, bufferevent_get_output(c->bev));
		event_active(c->zflush, EV_TIMEOUT, 0);
		return;
	}
	bufferevent_write(c->bev, data, len);
	output_added(c);
}

void conn_vprintf(struct conn *c, const char *fmt, va_list ap)
{
	if (c->z) {
		struct buf text = BUF_INIT;
		buf_vappendf(&text, fmt, ap);
		conn_write(c, text.data, text.len);
		buf_free(&text);
		return;
	}
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t before = evbuffer_get_length(out);
	evbuffer_add_vprintf(out, fmt, ap);
	c->info.bytes_out += evbuffer_get_length(out) - before;
	output_added(c);
}

static void deflate_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	if (c->ended || c->freed || c->z == NULL)
		return;
	conn_deflate_flush(c->z, bufferevent_get_output(c->bev));
	output_added(c);
}

void conn_compress(struct conn *c)
{
	if (c->z)
		return;
	c->z = conn_deflate_new();
	c->plain_in = evbuffer_new();
	c->zflush = event_new(c->base, -1, 0, deflate_flush, c);
	/* What already came after the command is compressed already. */
	event_active(c->kick, EV_TIMEOUT, 0);
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	conn_vprintf(c, fmt, ap);
	va_end(ap);
}

size_t conn_output_length(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* --- flow ---------------------------------------------------------------- */

void conn_pause(struct conn *c)
{
	/* Reading goes on, up to input_max (then the bufferevent stops by
	 * itself): a peer that closes meanwhile is noticed, and the protocol
	 * hears of it (end) instead of finishing work for no one. */
	c->paused = true;
}

void conn_resume(struct conn *c)
{
	if (c->closing || c->ended)
		return;
	c->paused = false;
	if (!c->throttled && !c->tls_pending)
		bufferevent_enable(c->bev, EV_READ);
	event_active(c->kick, EV_TIMEOUT, 0);
}

/* Input buffered before the handshake came in the clear: never read. */
static size_t discard_input(struct conn *c)
{
	struct evbuffer *input = bufferevent_get_input(c->bev);
	size_t injected = evbuffer_get_length(input);
	evbuffer_drain(input, injected);
	c->discarding = false;
	return injected;
}

size_t conn_starttls(struct conn *c, SSL *ssl)
{
	size_t injected = discard_input(c);
	if (c->info.role == CONN_CLIENT) {
		start_tls(c, ssl);
		return injected;
	}
	c->ssl = ssl;
	c->tls_pending = true;
	bufferevent_disable(c->bev, EV_READ);
	if (conn_output_length(c) == 0)
		event_active(c->kick, EV_TIMEOUT, 0);
	return injected;
}

void conn_close_after_flush(struct conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	/* A reply already gone: on_write will not come again. */
	if (conn_output_length(c) == 0)
		event_active(c->kick, EV_TIMEOUT, 0);
}

void conn_set_idle_timeout(struct conn *c, unsigned seconds)
{
	c->settings.idle_seconds = seconds;
	apply_timeouts(c);
}

const struct conn_info *conn_info(const struct conn *c)
{
	return &c->info;
}

SSL *conn_ssl(const struct conn *c)
{
	return c->info.tls ? c->ssl : NULL;
}

/* --- libevent callbacks -------------------------------------------------- */

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	deliver_input(arg);
}

/* The output has fallen to the low-water mark. */
static void output_drained(struct conn *c)
{
	bool empty = conn_output_length(c) == 0;
	if (c->closing) {
		if (empty) {
			/* TLS ends with close_notify, so that the peer can tell
			 * a finished session from a cut one (RFC 8446 6.1). One
			 * try: the socket takes the few octets, or the peer
			 * does without. */
			if (c->info.tls && c->ssl)
				SSL_shutdown(c->ssl);
			end(c, CONN_END_CLOSED);
		}
		return;
	}
	if (c->tls_pending) {
		if (empty) {
			c->tls_pending = false;
			SSL *ssl = c->ssl;
			c->ssl = NULL;
			start_tls(c, ssl);
		}
		return;
	}
	if (c->throttled) {
		c->throttled = false;
		if (!c->paused)
			bufferevent_enable(c->bev, EV_READ);
		event_active(c->kick, EV_TIMEOUT, 0);
	}
	if (c->handlers->output_low) {
		enter(c);
		c->handlers->output_low(c, c->arg);
		leave(c);
	}
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	/* Back to writing from the flush event (the write event is gone). */
	if (c->direct && conn_output_length(c) == 0)
		bufferevent_disable(bev, EV_WRITE);
	output_drained(c);
}

static void flush_output(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	if (!c->direct || c->connecting || c->ended || c->freed ||
	    conn_output_length(c) == 0)
		return;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	/* A socket bufferevent keeps the start of its output frozen to all
	 * but itself. */
	evbuffer_unfreeze(out, 1);
	int n = evbuffer_write(out, c->fd);
	evbuffer_freeze(out, 1);
	if (n < 0 || evbuffer_get_length(out) > 0) {
		/* The rest, and any error, are the bufferevent's to meet. */
		bufferevent_enable(c->bev, EV_WRITE);
		return;
	}
	output_drained(c);
}

static void tls_established(struct conn *c)
{
	c->info.tls = true;
	snprintf(c->info.tls_version, sizeof(c->info.tls_version), "%s",
	         SSL_get_version(c->ssl));
	snprintf(c->info.tls_cipher, sizeof(c->info.tls_cipher), "%s",
	         SSL_get_cipher_name(c->ssl));
	tls_describe(c->ssl, c->info.tls_description, sizeof(c->info.tls_description));
	if (c->info.role == CONN_SERVER) {
		struct client_cert cert;
		tls_client_cert_read(c->ssl, &cert);
		if (cert.present) {
			free(c->info.cert);
			c->info.cert = xmalloc(sizeof(cert));
			*c->info.cert = cert;
		}
	}
	if (c->handlers->tls_up) {
		enter(c);
		c->handlers->tls_up(c, c->arg);
		if (!leave(c))
			return;
	}
	deliver_input(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->connecting) {
			c->connecting = false;
			if (c->ssl) {
				SSL *ssl = c->ssl;
				c->ssl = NULL;
				start_tls(c, ssl);
				return;
			}
			output_added(c); /* anything written while connecting */
			if (c->handlers->connected) {
				enter(c);
				c->handlers->connected(c, c->arg);
				leave(c);
			}
			return;
		}
		tls_established(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (c->handlers->timeout == NULL || c->closing) {
			end(c, CONN_END_IDLE);
			return;
		}
		/* libevent disabled the direction that timed out; the
		 * protocol's last words must still be able to leave. */
		bufferevent_enable(bev, EV_WRITE);
		enter(c);
		c->handlers->timeout(c, c->arg, CONN_END_IDLE);
		leave(c);
		return;
	}
	enum conn_end why = (what & BEV_EVENT_EOF) ? CONN_END_EOF : CONN_END_ERROR;
	if (c->connecting)
		why = CONN_END_CONNECT;
	c->info.error_errno = EVUTIL_SOCKET_ERROR();
	unsigned long ssl_error = c->ssl ? bufferevent_get_openssl_error(bev) : 0;
	if (ssl_error) {
		ERR_error_string_n(ssl_error, c->info.tls_error,
		                   sizeof(c->info.tls_error));
		why = CONN_END_TLS;
	} else if (c->ssl && !c->info.tls && why != CONN_END_CONNECT) {
		why = CONN_END_TLS; /* the peer left in the middle of the handshake */
	}
	end(c, why);
}
