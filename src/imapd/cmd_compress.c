/*
 * cmd_compress.c — COMPRESS DEFLATE (RFC 4978): after the OK, both
 * directions are raw deflate, inside TLS if there is TLS. Worth it on a
 * phone's link: a FETCH of headers shrinks several times.
 */
#include <strings.h>

#include "imapd/commands.h"

void imap_cmd_compress(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	const char *method = count == 1 && args->type == IMAP_ARG_ATOM ? args->str : NULL;
	if (method == NULL || strcasecmp(method, "DEFLATE") != 0) {
		client_tagged(c, "BAD", "COMPRESS DEFLATE");
		return;
	}
	if (c->compressed) {
		client_tagged(c, "NO", "[COMPRESSIONACTIVE] DEFLATE is on already");
		return;
	}
	client_tagged(c, "OK", "DEFLATE active");
	c->compressed = true;
	conn_compress(c->conn);
}
