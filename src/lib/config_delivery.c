/*
 * config_delivery.c — the `delivery:` section: how the SMTP client talks
 * to other servers. Timeouts default to RFC 5321 4.5.3.2's.
 */
#include "lib/config_sections.h"

#include <stdlib.h>

static int read_source_address(struct loader *ld, struct fy_node *node, void *base)
{
	struct delivery_config *d = base;
	if (loader_sequence(ld, node, "delivery.source_address") < 0)
		return -1;
	void *iter = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
		char *text = NULL;
		if (loader_string(ld, item, &text) < 0)
			return -1;
		struct sockaddr_storage ss;
		socklen_t len;
		const char *error;
		int r = sockaddr_parse_host_port(text, 0, &ss, &len, &error);
		free(text);
		if (r < 0)
			return loader_fail(ld, item, "%s", error);
		bool v6 = ss.ss_family == AF_INET6;
		if (v6 ? d->have_source6 : d->have_source4)
			return loader_fail(ld, item, "one source address per family");
		*(v6 ? &d->source6 : &d->source4) = ss;
		*(v6 ? &d->have_source6 : &d->have_source4) = true;
	}
	return 0;
}

static void print_source_address(FILE *out, const void *base, int indent)
{
	(void)indent;
	const struct delivery_config *d = base;
	char ip[64];
	fprintf(out, " [");
	if (d->have_source4) {
		sockaddr_ip((const struct sockaddr *)&d->source4, ip, sizeof(ip));
		fprintf(out, "\"%s\"%s", ip, d->have_source6 ? ", " : "");
	}
	if (d->have_source6) {
		sockaddr_ip((const struct sockaddr *)&d->source6, ip, sizeof(ip));
		fprintf(out, "\"%s\"", ip);
	}
	fprintf(out, "]\n");
}

static const struct config_custom source_address = {read_source_address,
                                                    print_source_address, NULL, NULL};

const char *const tls_policy_names[] = {"none", "may", "encrypt", NULL};

#define TIMEOUT(key, field, dflt, help)                                                  \
	CONFIG_ROW_DURATION(key, struct delivery_config, field, dflt, 1, 3600, help)
#define COUNT(key, field, dflt, hi, help)                                                \
	CONFIG_ROW_UINT(key, struct delivery_config, field, dflt, 1, hi, help)

static const struct config_key delivery_keys[] = {
    CONFIG_ROW_UINT("remote_port", struct delivery_config, remote_port, 25, 1, 65535,
                    "port of remote servers (MX hosts and next hops without a port)"),
    CONFIG_ROW_CUSTOM("source_address", &source_address, "`[]`",
                      "one IPv4 and/or one IPv6 address to connect from"),
    CONFIG_ROW_ENUM("tls", struct delivery_config, tls, tls_policy_names, TLS_POLICY_MAY,
                    "`may`: STARTTLS whenever offered, unverified (RFC 7435), one "
                    "plaintext retry if the handshake fails; `encrypt`: TLS or "
                    "nothing; `none`"),
    TIMEOUT("connect_timeout", connect_timeout, 30, "connecting to a server"),
    TIMEOUT("greeting_timeout", greeting_timeout, 300, "the server's greeting"),
    TIMEOUT("helo_timeout", helo_timeout, 300, "reply to EHLO or HELO"),
    TIMEOUT("mail_timeout", mail_timeout, 300, "reply to MAIL"),
    TIMEOUT("rcpt_timeout", rcpt_timeout, 300, "reply to RCPT"),
    TIMEOUT("data_timeout", data_timeout, 120, "reply to DATA"),
    TIMEOUT("block_timeout", block_timeout, 180, "each block of message data sent"),
    TIMEOUT("dot_timeout", dot_timeout, 600, "final reply after the message"),
    CONFIG_ROW_DURATION("idle_time", struct delivery_config, idle_seconds, 5, 0, 3600,
                        "an unused connection is kept this long for the next "
                        "message"),
    COUNT("concurrency", concurrency, 100, 10000, "outbound connections in total"),
    COUNT("destination_concurrency", destination_concurrency, 20, 10000,
          "outbound connections per destination"),
    COUNT("reuse_messages", reuse_messages, 100, 100000, "messages per connection"),
    {0},
};

const struct config_section config_delivery_section = {"delivery", delivery_keys, NULL};
