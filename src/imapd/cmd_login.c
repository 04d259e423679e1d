/*
 * cmd_login.c — LOGIN (RFC 9051 6.2.3): a PLAIN exchange with the auth
 * process, refused before TLS (LOGINDISABLED) unless the listener allows
 * plaintext from loopback.
 */
#include <stdlib.h>
#include <string.h>

#include "imapd/commands.h"
#include "lib/xalloc.h"
#include "proto/sasl.h"

void imap_cmd_login(struct imap_client *c, const struct imap_arg *args, unsigned count)
{
	const char *user = count == 2 ? imap_arg_astring(args) : NULL;
	const char *password = count == 2 ? imap_arg_astring(args->next) : NULL;
	if (user == NULL || password == NULL) {
		client_tagged(c, "BAD", "LOGIN user password");
		return;
	}
	if (!client_login_permitted(c)) {
		client_tagged(c, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
		return;
	}
	/* NUL inside either (CVE-2019-11500 was one in a string). */
	if (strlen(user) != args->len || strlen(password) != args->next->len ||
	    !sasl_text_valid(user, args->len, false) ||
	    !sasl_text_valid(password, args->next->len, true)) {
		client_tagged(c, "BAD",
		              "Invalid characters in the user name or password");
		return;
	}
	/* PLAIN's message: "" NUL user NUL password */
	size_t ulen = strlen(user), plen = strlen(password);
	char *response = xmalloc(ulen + plen + 3);
	response[0] = '\0';
	memcpy(response + 1, user, ulen);
	response[1 + ulen] = '\0';
	memcpy(response + 2 + ulen, password, plen);
	response[2 + ulen + plen] = '\0';
	client_sasl_start(c, MECH_PLAIN, response, ulen + plen + 2);
}
