/*
 * sessions.c — the start and end that every protocol's sessions share
 * (see sessions.h).
 */
#include "service/sessions.h"

#include <stdio.h>

#include "lib/event.h"
#include "lib/log.h"
#include "net/tls.h"

void session_log_id(char out[SESSION_LOG_ID_SIZE], uint64_t start_usec, int fd)
{
	snprintf(out, SESSION_LOG_ID_SIZE, "%llx",
	         (unsigned long long)(start_usec ^ (uint64_t)fd << 48));
}

void session_log_connect(const char *log_id, const char *ip,
                         const struct listen_config *listener, const char *protocol)
{
	EVENT(L_INFO, &event_connect, EV_WORD("session", log_id), EV_TEXT("client", ip),
	      EV_WORD("listener", listener->address),
	      EV_WORD("tls", tls_mode_name(listener->tls)),
	      EV_WORD("protocol", protocol));
}

struct conn *session_conn_accept(struct event_base *base, SSL_CTX *tls,
                                 const struct listen_config *listener, int fd,
                                 const struct sockaddr *peer, socklen_t peer_len,
                                 const struct conn_settings *settings,
                                 const struct conn_handlers *handlers, void *arg)
{
	SSL *ssl = listener->tls == TLS_IMPLICIT
	               ? tls_server_ssl(tls, listener->client_certificates)
	               : NULL;
	return conn_accept(base, fd, peer, peer_len, ssl, settings, handlers, arg);
}

const char *session_end_reason(enum conn_end why, const char *closed, bool tls_active)
{
	switch (why) {
	case CONN_END_CLOSED:
		return closed;
	case CONN_END_IDLE:
	case CONN_END_DEADLINE:
		return "timeout";
	case CONN_END_TLS:
		return tls_active ? "TLS error" : "TLS handshake failed";
	case CONN_END_EOF:
		return "client closed";
	default:
		return "connection error";
	}
}

void session_log_tls_error(const struct conn_info *info, const char *log_id,
                           const char *ip)
{
	if (info->tls_error[0])
		log_msg(L_INFO, "event=tls-error session=%s client=%s error=%s", log_id,
		        ip, LOG_Q(info->tls_error));
}

void session_log_disconnect(const char *log_id, const char *ip, const char *user,
                            const char *reason, unsigned errors,
                            const struct conn_info *info, bool tls_active,
                            const char *protocol)
{
	char tls_version[16] = "none";
	if (tls_active && info)
		snprintf(tls_version, sizeof(tls_version), "%s", info->tls_version);
	EVENT(L_INFO, &event_disconnect, EV_WORD("session", log_id),
	      EV_TEXT("client", ip), EV_TEXT("user", user ? user : "-"),
	      EV_TEXT("reason", reason), EV_UINT("errors", errors),
	      EV_UINT("in", info ? info->bytes_in : 0),
	      EV_UINT("out", info ? info->bytes_out : 0), EV_LABEL("protocol", protocol),
	      EV_LABEL("tls_version", tls_version));
}
