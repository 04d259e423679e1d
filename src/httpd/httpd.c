/*
 * httpd.c — the HTTP service (see httpd.h): one session per connection,
 * requests read a line at a time through proto/http_request.h, answered
 * from the shared metrics store. Persistent connections (HTTP/1.1) are
 * kept; a request with a body is answered and the connection closed, as
 * no resource here takes one.
 */
#include "httpd/httpd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/event.h"
#include "lib/metrics.h"
#include "lib/xalloc.h"
#include "net/conn.h"
#include "net/tls.h"
#include "proto/http_request.h"
#include "service/sessions.h"
#include "service/worker.h"

#define LINE_MAX_OCTETS 8192
#define INPUT_MAX       (64 * 1024)
#define OUTPUT_HIGH     (256 * 1024)

struct httpd {
	struct worker *worker;
	struct http_session *sessions;
};

struct http_session {
	struct httpd *server;
	struct worker_listener *accepted_on;
	struct http_session *prev, *next;
	struct conn *conn;
	struct sockaddr_storage peer;
	struct http_request req;
	bool in_head; /* the request line was read */
	unsigned requests;
};

static void session_free(struct http_session *h, const char *reason)
{
	EVENT(L_DEBUG, &event_disconnect, EV_TEXT("client", conn_info(h->conn)->peer_ip),
	      EV_TEXT("reason", reason), EV_UINT("requests", h->requests),
	      EV_LABEL("protocol", "http"),
	      EV_LABEL("tls_version", conn_info(h->conn)->tls
	                                  ? conn_info(h->conn)->tls_version
	                                  : "none"));
	conn_free(&h->conn);
	worker_ip_release(h->accepted_on, (struct sockaddr *)&h->peer);
	if (h->prev)
		h->prev->next = h->next;
	else
		h->server->sessions = h->next;
	if (h->next)
		h->next->prev = h->prev;
	struct worker_listener *accepted_on = h->accepted_on;
	free(h);
	worker_connection_closed(accepted_on);
}

static void respond(struct http_session *h, int status, const char *reason,
                    const char *type, const struct buf *body, bool close)
{
	conn_printf(h->conn,
	            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	            "Cache-Control: no-store\r\n%s%s\r\n",
	            status, reason, type, body->len,
	            status == 405 ? "Allow: GET, HEAD\r\n" : "",
	            close ? "Connection: close\r\n" : "");
	if (h->req.method != HTTP_HEAD && body->len)
		conn_write(h->conn, body->data, body->len);
	h->requests++;
	if (close)
		conn_close_after_flush(h->conn);
}

static void respond_text(struct http_session *h, int status, const char *reason,
                         const char *text, bool close)
{
	struct buf body = BUF_INIT;
	buf_append_str(&body, text);
	respond(h, status, reason, "text/plain; charset=utf-8", &body, close);
	buf_free(&body);
}

static void answer(struct http_session *h)
{
	const struct http_request *req = &h->req;
	bool close = req->close || req->has_body || worker_closing(h->server->worker);
	if (req->method == HTTP_OTHER) {
		respond_text(h, 405, "Method Not Allowed", "GET or HEAD only\n", close);
	} else if (strcmp(req->path, "/metrics") == 0) {
		struct buf body = BUF_INIT;
		if (metrics_current())
			metrics_render(metrics_current(), &body);
		respond(h, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", &body,
		        close);
		buf_free(&body);
	} else if (strcmp(req->path, "/healthz") == 0) {
		if (worker_closing(h->server->worker))
			respond_text(h, 503, "Service Unavailable", "stopping\n", true);
		else
			respond_text(h, 200, "OK", "ok\n", close);
	} else {
		respond_text(h, 404, "Not Found", "not found\n", close);
	}
	EVENT(L_DEBUG, &event_http_request,
	      EV_TEXT("client", conn_info(h->conn)->peer_ip),
	      EV_WORD("method", req->method == HTTP_GET    ? "GET"
	                        : req->method == HTTP_HEAD ? "HEAD"
	                                                   : "other"),
	      EV_TEXT("path", req->path));
}

static void bad_request(struct http_session *h, int status, const char *reason,
                        const char *why)
{
	struct buf text = BUF_INIT;
	buf_appendf(&text, "%s\n", why);
	respond_text(h, status, reason, buf_cstr(&text), true);
	buf_free(&text);
}

static void on_input(struct conn *c, void *arg)
{
	struct http_session *h = arg;
	char *line;
	size_t len;
	int r;
	while ((r = conn_read_line(c, LINE_MAX_OCTETS, &line, &len)) != 0) {
		const char *error = NULL;
		if (r < 0) {
			if (h->in_head)
				bad_request(h, 431, "Request Header Fields Too Large",
				            "header field too long");
			else
				bad_request(h, 414, "URI Too Long",
				            "request line too long");
			return;
		}
		if (!h->in_head) {
			if (len == 0)
				continue; /* RFC 9112 2.2: ignore empty lines before a
				             request */
			if (http_request_line(&h->req, line, len, &error) < 0) {
				if (strncmp(error, "505", 3) == 0)
					bad_request(h, 505, "HTTP Version Not Supported",
					            error + 4);
				else
					bad_request(h, 400, "Bad Request", error);
				return;
			}
			h->in_head = true;
			continue;
		}
		if (http_header_line(&h->req, line, len, &error) < 0) {
			bad_request(h, 400, "Bad Request", error);
			return;
		}
		if (h->req.head_done) {
			h->in_head = false;
			bool close = h->req.close || h->req.has_body;
			answer(h);
			if (close || worker_closing(h->server->worker))
				return;
		}
	}
}

static void on_end(struct conn *c, void *arg, enum conn_end why)
{
	(void)c;
	static const char *const reasons[] = {
	    [CONN_END_CLOSED] = "closed",  [CONN_END_EOF] = "client closed",
	    [CONN_END_ERROR] = "error",    [CONN_END_TLS] = "TLS error",
	    [CONN_END_IDLE] = "idle",      [CONN_END_DEADLINE] = "deadline",
	    [CONN_END_CONNECT] = "connect"};
	session_free(arg, reasons[why]);
}

static const struct conn_handlers http_handlers = {.input = on_input, .end = on_end};

static void *httpd_start(struct worker *worker, const char **error_r)
{
	(void)error_r;
	struct httpd *server = xcalloc(1, sizeof(*server));
	server->worker = worker;
	return server;
}

static void httpd_accept(void *state, struct worker_listener *listener, int fd,
                         const struct sockaddr *peer, socklen_t peer_len)
{
	struct httpd *server = state;
	const struct listen_config *lc = listener->config;
	unsigned from_ip;
	const char *refusal = NULL;
	if (worker_closing(server->worker))
		refusal = "shutting down";
	else if (listener->connections >= lc->limits.connections)
		refusal = "too many connections";
	else if (!worker_ip_acquire(listener, peer, &from_ip))
		refusal = "too many connections from the address";
	char ip[INET6_ADDRSTRLEN];
	sockaddr_ip(peer, ip, sizeof(ip));
	if (refusal) {
		EVENT(L_WARN, &event_connection_refused, EV_TEXT("client", ip),
		      EV_WORD("listener", lc->address), EV_WORD("protocol", "http"),
		      EV_TEXT("reason", refusal));
		close(fd);
		return;
	}
	struct http_session *h = xcalloc(1, sizeof(*h));
	h->server = server;
	h->accepted_on = listener;
	memcpy(&h->peer, peer, peer_len);
	h->next = server->sessions;
	if (server->sessions)
		server->sessions->prev = h;
	server->sessions = h;
	worker_connection_opened(listener);
	EVENT(L_DEBUG, &event_connect, EV_TEXT("client", ip),
	      EV_WORD("listener", lc->address), EV_WORD("protocol", "http"));
	struct conn_settings settings = {
	    .idle_seconds = lc->limits.idle_timeout,
	    .input_max = INPUT_MAX,
	    .output_high_water = OUTPUT_HIGH,
	};
	h->conn = session_conn_accept(server->worker->base, server->worker->tls, lc, fd,
	                              peer, peer_len, &settings, &http_handlers, h);
}

static void httpd_drain(void *state, bool now)
{
	struct httpd *server = state;
	if (!now)
		return;
	/* Between requests a connection has nothing in flight: close it. */
	for (struct http_session *h = server->sessions, *next; h; h = next) {
		next = h->next;
		if (!h->in_head && conn_output_length(h->conn) == 0)
			session_free(h, "shutdown");
	}
}

static void httpd_stop(void *state)
{
	struct httpd *server = state;
	while (server->sessions)
		session_free(server->sessions, "shutdown");
	free(server);
}

const struct service httpd_service = {
    .name = "http",
    .start = httpd_start,
    .accept = httpd_accept,
    .drain = httpd_drain,
    .stop = httpd_stop,
};
