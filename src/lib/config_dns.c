/*
 * config_dns.c — the `dns:` section: where petrel's resolver sends its
 * queries, DNSSEC, and its answer cache.
 */
#include "lib/config_sections.h"

#include "lib/xalloc.h"

static int read_servers(struct loader *ld, struct fy_node *node, void *base)
{
	struct dns_config *d = base;
	if (loader_sequence(ld, node, "dns.servers") < 0)
		return -1;
	size_t cap = 0;
	void *iter = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
		xgrow((void **)&d->servers, &cap, d->server_count + 1,
		      sizeof(*d->servers));
		char **server = &d->servers[d->server_count++];
		*server = NULL;
		if (loader_string(ld, item, server) < 0)
			return -1;
		struct sockaddr_storage ss;
		socklen_t len;
		const char *error;
		if (sockaddr_parse_host_port(*server, 53, &ss, &len, &error) < 0)
			return loader_fail(ld, item, "%s", error);
	}
	return 0;
}

static void print_servers(FILE *out, const void *base, int indent)
{
	(void)indent;
	const struct dns_config *d = base;
	config_print_string_list(out, d->servers, d->server_count);
	if (d->server_count == 0)
		fprintf(out, "  # none: %s",
		        d->recursive ? "recursion (recursive: true)"
		                     : "the name servers of resolv_conf");
	fputc('\n', out);
}

static void free_servers(void *base)
{
	struct dns_config *d = base;
	config_free_string_list(&d->servers, &d->server_count);
}

static const struct config_custom servers = {read_servers, print_servers, free_servers,
                                             NULL};

static const struct config_key dns_keys[] = {
    CONFIG_ROW_CUSTOM("servers", &servers, "`[]`",
                      "`\"IP\"` or `\"IP:port\"` to forward queries to; none: those of "
                      "`resolv_conf`, as Postfix and Exim do"),
    CONFIG_ROW_STRING("resolv_conf", struct dns_config, resolv_conf, "/etc/resolv.conf",
                      "without `servers`: the file whose `nameserver` lines are asked "
                      "(none there: 127.0.0.1, as the C library does)"),
    CONFIG_ROW_BOOL("recursive", struct dns_config, recursive, false,
                    "without `servers`: recurse from the root hints instead (a host "
                    "with direct outbound DNS)"),
    {.name = "trust_anchor",
     .type = CONFIG_STRING,
     .offset = offsetof(struct dns_config, trust_anchor),
     .unset = "no DNSSEC validation",
     .help = "file with DNSSEC trust anchors; enables validation (the secure flag)"},
    CONFIG_ROW_UINT("timeout_ms", struct dns_config, timeout_ms, 10000, 100, 600000,
                    "deadline of one lookup; then TIMEOUT (101)"),
    CONFIG_ROW_UINT("retries", struct dns_config, retries, 4, 0, 20,
                    "tries of one query at a server after the first, on a time-out "
                    "or a broken answer"),
    CONFIG_ROW_UINT("cache_size", struct dns_config, cache_size, 10000, 0, 10000000,
                    "answers kept in petrel's cache; `0` turns it off"),
    CONFIG_ROW_DURATION("cache_max_ttl", struct dns_config, cache_max_ttl, 86400, 1,
                        7 * 86400, "longest a positive answer is kept, whatever its TTL"),
    CONFIG_ROW_DURATION("cache_max_negative_ttl", struct dns_config,
                        cache_max_negative_ttl, 3600, 1, 86400,
                        "longest NXDOMAIN/NODATA is kept (RFC 2308: the SOA's negative "
                        "TTL)"),
    {0},
};

static int check_dns(struct loader *ld, struct fy_node *node, void *base)
{
	const struct dns_config *d = base;
	if (d->recursive && d->server_count > 0)
		return loader_fail(ld, node, "dns: servers or recursive: true, not both");
	return 0;
}

const struct config_section config_dns_section = {"dns", dns_keys, check_dns};
