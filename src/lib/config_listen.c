/*
 * config_listen.c — `listen:`, the list of listeners: each an address, the
 * protocol served there, its TLS, and limits of its own where they differ
 * from the global `limits:`.
 */
#include "lib/config_sections.h"

#include <string.h>

#include "lib/xalloc.h"

const char *const listen_protocol_names[] = {"smtp", "submission", "http", "imap",
                                             "pop3", "lmtp",       NULL};
const char *const tls_mode_names[] = {"none", "starttls", "implicit", NULL};
const char *const client_cert_mode_names[] = {"none", "optional", "required", NULL};

static int read_address(struct loader *ld, struct fy_node *node, void *base)
{
	struct listen_config *l = base;
	const char *error;
	if (loader_string(ld, node, &l->address) < 0)
		return -1;
	if (strncmp(l->address, "unix:", 5) == 0) {
		/* A unix socket: its path, below home unless absolute. */
		if (l->address[5] == '\0' || strlen(l->address) > 90)
			return loader_fail(ld, node,
			                   "expected \"unix:PATH\" (a short path)");
		l->unix_path = xstrdup(l->address + 5);
		l->addr.ss_family = AF_UNIX;
		return 0;
	}
	if (sockaddr_parse(l->address, &l->addr, &l->addr_len, &error) < 0)
		return loader_fail(ld, node, "%s", error);
	return 0;
}

static void print_address(FILE *out, const void *base, int indent)
{
	(void)indent;
	fputc(' ', out);
	config_print_string(out, ((const struct listen_config *)base)->address);
	fputc('\n', out);
}

static void free_address(void *base)
{
	x_free(&((struct listen_config *)base)->address);
	x_free(&((struct listen_config *)base)->unix_path);
}

static const struct config_custom address = {read_address, print_address, free_address,
                                             NULL};

static int check_listener(struct loader *ld, struct fy_node *node, void *base)
{
	struct listen_config *l = base;
	if (l->address == NULL)
		return loader_fail(ld, node, "a listener needs an address \"IP:port\"");
	if (l->protocol == PROTO_HTTP && l->tls == TLS_STARTTLS)
		return loader_fail(ld, node,
		                   "an http listener takes tls: none or implicit");
	if (l->unix_path && l->protocol != PROTO_LMTP)
		return loader_fail(ld, node, "a unix socket serves lmtp only");
	if (l->unix_path && l->tls != TLS_NONE)
		return loader_fail(ld, node, "a unix socket takes tls: none");
	if (l->client_certificates != CLIENT_CERT_NONE && l->tls == TLS_NONE)
		return loader_fail(ld, node,
		                   "client_certificates needs tls: starttls or implicit");
	/* LMTP takes mail for the local users from whoever connects, with
	 * no authentication and none of SMTP's policy (RFC 2033 4). */
	if (l->protocol == PROTO_LMTP && !l->unix_path &&
	    !sockaddr_is_loopback((const struct sockaddr *)&l->addr))
		return loader_fail(ld, node,
		                   "lmtp delivers for anyone who connects: give it a "
		                   "loopback address or a unix socket");
	return 0;
}

static const struct config_key listener_keys[] = {
    CONFIG_ROW_ENUM("protocol", struct listen_config, protocol, listen_protocol_names,
                    PROTO_SMTP,
                    "what is served: `submission` requires AUTH before MAIL; `imap` "
                    "and `pop3` serve the users' mailboxes; `lmtp` delivers into them "
                    "(RFC 2033; loopback or unix socket only)"),
    CONFIG_ROW_CUSTOM("address", &address, "none (required)", "`\"IP:port\"`"),
    CONFIG_ROW_ENUM("tls", struct listen_config, tls, tls_mode_names, TLS_NONE,
                    "`starttls`: offered after EHLO; `implicit`: TLS from the first "
                    "octet (RFC 8314)"),
    CONFIG_ROW_ENUM("client_certificates", struct listen_config, client_certificates,
                    client_cert_mode_names, CLIENT_CERT_NONE,
                    "asked for in the handshake; `required` refuses a client "
                    "without a verified one; needs `tls.client_ca`"),
    {.name = "limits",
     .type = CONFIG_SECTION,
     .offset = offsetof(struct listen_config, limits),
     .section = &config_limits_section,
     .shown_default = "the global `limits`",
     .help = "any key of `limits`, for this listener only"},
    {0},
};

const struct config_section config_listener_section = {"a listener", listener_keys,
                                                       check_listener};

static int read_listeners(struct loader *ld, struct fy_node *node, void *base)
{
	struct config *c = base;
	if (loader_sequence(ld, node, "listen") < 0)
		return -1;
	size_t cap = 0;
	void *iter = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
		xgrow((void **)&c->listen, &cap, c->listen_count + 1, sizeof(*c->listen));
		struct listen_config *l = &c->listen[c->listen_count++];
		memset(l, 0, sizeof(*l));
		config_section_defaults(&config_listener_section, l);
		l->limits = c->limits; /* loaded first: its row is above this one */
		if (config_section_load(ld, item, &config_listener_section, l) < 0)
			return -1;
		if (l->client_certificates != CLIENT_CERT_NONE &&
		    c->tls.client_ca == NULL)
			return loader_fail(
			    ld, item,
			    "client_certificates needs tls.client_ca (the CA "
			    "bundle that signs them)");
		for (struct listen_config *other = c->listen; other < l; other++)
			if (strcmp(other->address, l->address) == 0 ||
			    (!l->unix_path && other->addr_len == l->addr_len &&
			     memcmp(&other->addr, &l->addr, l->addr_len) == 0))
				return loader_fail(
				    ld, item, "two listeners on %s: each address once",
				    l->address);
	}
	return 0;
}

static void print_listeners(FILE *out, const void *base, int indent)
{
	const struct config *c = base;
	fprintf(out, "%s\n", c->listen_count ? "" : " []");
	for (size_t i = 0; i < c->listen_count; i++) {
		const struct listen_config *l = &c->listen[i];
		config_indent(out, indent + 2);
		fprintf(out,
		        "- {protocol: %s, address: ", listen_protocol_names[l->protocol]);
		config_print_string(out, l->address);
		fprintf(out, ", tls: %s, client_certificates: %s", tls_mode_names[l->tls],
		        client_cert_mode_names[l->client_certificates]);
		/* Only the limits it sets itself: the rest are the global ones. */
		config_section_print_changes(out, &config_limits_section, &l->limits,
		                             &c->limits, ", limits: ");
		fprintf(out, "}\n");
	}
}

static void free_listeners(void *base)
{
	struct config *c = base;
	for (size_t i = 0; i < c->listen_count; i++)
		config_section_free(&config_listener_section, &c->listen[i]);
	x_free(&c->listen);
	c->listen_count = 0;
}

const struct config_custom config_listen_custom = {read_listeners, print_listeners,
                                                   free_listeners, NULL};
