/*
 * cmd_starttls.c — STARTTLS (RFC 9051 6.2.1, RFC 2595). Whatever the
 * client sent after the command, in the clear, is thrown away by the
 * connection layer and never read as a command inside TLS
 * (CVE-2011-0411 and its IMAP cousins).
 */
#include "imapd/commands.h"
#include "net/tls.h"

void imap_cmd_starttls(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	(void)args;
	if (count) {
		client_tagged(c, "BAD", "STARTTLS takes no arguments");
		return;
	}
	if (c->tls_active || c->listener->tls != TLS_STARTTLS) {
		client_tagged(c, "BAD", "TLS is not available here");
		return;
	}
	client_tagged(c, "OK", "Begin TLS negotiation now");
	c->tls_pending = true;
	conn_starttls(c->conn,
	              tls_server_ssl(c->server->tls, c->listener->client_certificates));
}
