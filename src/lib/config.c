/*
 * config.c — the YAML configuration loader (see config.h).
 *
 * The document is walked once; each mapping is checked against a table
 * of the keys it may hold, so an unknown or misspelt key is an error
 * with its position rather than a silently ignored line.
 */
#include "lib/config.h"

#include <libfyaml.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/config_auth.h"
#include "lib/config_loader.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"
#include "proto/smtp_addr.h"

const char config_embedded_default[] =
    "# petrel embedded default: a complete development server on loopback.\n"
    "home: ./var\n"
    "domains: [localhost, example.test]\n"
    "users:\n"
    "  - {address: postmaster@localhost, password: postmaster}\n"
    "  - {address: test@localhost, password: test}\n"
    "  - {address: postmaster@example.test, password: postmaster}\n"
    "  - {address: test@example.test, password: test}\n"
    "listen:\n"
    "  - {protocol: smtp, address: \"127.0.0.1:2525\", tls: starttls}\n"
    "  - {protocol: submission, address: \"127.0.0.1:2587\", tls: starttls}\n"
    "  - {protocol: smtp, address: \"127.0.0.1:2465\", tls: implicit}\n";

static int handle_limits(struct loader *ld, const char *key, struct fy_node *v, void *ctx)
{
	struct limits_config *l = ctx;
	if (strcmp(key, "message_size") == 0)
		return loader_known(
		    loader_uint64(ld, v, 1024, (uint64_t)1 << 40, &l->message_size));
	if (strcmp(key, "recipients") == 0)
		return loader_known(loader_uint(ld, v, 1, 100000, &l->recipients));
	if (strcmp(key, "command_line") == 0)
		return loader_known(loader_uint(ld, v, 512, 65536, &l->command_line));
	if (strcmp(key, "text_line") == 0)
		return loader_known(loader_uint(ld, v, 1000, 1000000, &l->text_line));
	if (strcmp(key, "errors") == 0)
		return loader_known(loader_uint(ld, v, 1, 1000, &l->errors));
	if (strcmp(key, "idle_timeout") == 0)
		return loader_known(loader_uint(ld, v, 1, 86400, &l->idle_timeout));
	if (strcmp(key, "data_timeout") == 0)
		return loader_known(loader_uint(ld, v, 1, 86400, &l->data_timeout));
	if (strcmp(key, "connections") == 0)
		return loader_known(loader_uint(ld, v, 1, 1000000, &l->connections));
	if (strcmp(key, "connections_per_ip") == 0)
		return loader_known(
		    loader_uint(ld, v, 1, 1000000, &l->connections_per_ip));
	if (strcmp(key, "auth_line") == 0)
		return loader_known(loader_uint(ld, v, 512, 1000000, &l->auth_line));
	if (strcmp(key, "greeting_delay_ms") == 0)
		return loader_known(loader_uint(ld, v, 0, 60000, &l->greeting_delay_ms));
	if (strcmp(key, "header_size") == 0)
		return loader_known(
		    loader_uint(ld, v, 1024, 16 * 1024 * 1024, &l->header_size));
	if (strcmp(key, "header_fields") == 0)
		return loader_known(loader_uint(ld, v, 16, 100000, &l->header_fields));
	return 0;
}

static int handle_log(struct loader *ld, const char *key, struct fy_node *v, void *ctx)
{
	struct config *c = ctx;
	static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
	if (strcmp(key, "level") == 0) {
		int level;
		if (loader_enum(ld, v, levels, &level) < 0)
			return -1;
		c->log_level = (enum log_level)level;
		return 1;
	}
	if (strcmp(key, "syslog") == 0)
		return loader_known(loader_bool(ld, v, &c->log_syslog));
	return 0;
}

static int handle_tls(struct loader *ld, const char *key, struct fy_node *v, void *ctx)
{
	struct config *c = ctx;
	if (strcmp(key, "certificate") == 0)
		return loader_known(loader_string(ld, v, &c->tls_certificate));
	if (strcmp(key, "key") == 0)
		return loader_known(loader_string(ld, v, &c->tls_key));
	if (strcmp(key, "client_ca") == 0)
		return loader_known(loader_string(ld, v, &c->tls_client_ca));
	if (strcmp(key, "client_crl") == 0)
		return loader_known(loader_string(ld, v, &c->tls_client_crl));
	return 0;
}

static const char *const client_cert_modes[] = {"none", "optional", "required", NULL};

static int handle_listener(struct loader *ld, const char *key, struct fy_node *v,
                           void *ctx)
{
	struct listen_config *l = ctx;
	static const char *const protocols[] = {"smtp", "submission", NULL};
	static const char *const modes[] = {"none", "starttls", "implicit", NULL};
	int choice;
	if (strcmp(key, "protocol") == 0) {
		if (loader_enum(ld, v, protocols, &choice) < 0)
			return -1;
		l->protocol = (enum listen_protocol)choice;
		return 1;
	}
	if (strcmp(key, "tls") == 0) {
		if (loader_enum(ld, v, modes, &choice) < 0)
			return -1;
		l->tls = (enum tls_mode)choice;
		return 1;
	}
	if (strcmp(key, "client_certificates") == 0) {
		if (loader_enum(ld, v, client_cert_modes, &choice) < 0)
			return -1;
		l->client_certificates = (enum client_cert_mode)choice;
		return 1;
	}
	if (strcmp(key, "address") == 0) {
		const char *error;
		if (loader_string(ld, v, &l->address) < 0)
			return -1;
		if (sockaddr_parse(l->address, &l->addr, &l->addr_len, &error) < 0)
			return loader_fail(ld, v, "%s", error);
		return 1;
	}
	return 0;
}

static int handle_user(struct loader *ld, const char *key, struct fy_node *v, void *ctx)
{
	struct user_config *u = ctx;
	if (strcmp(key, "address") == 0)
		return loader_known(loader_string(ld, v, &u->address));
	if (strcmp(key, "password") == 0)
		return loader_known(loader_string(ld, v, &u->password));
	return 0;
}

/* A configured address must itself be a valid, plain SMTP mailbox. */
static int check_address(struct loader *ld, struct fy_node *node, char *address)
{
	struct smtp_addr parsed;
	const char *error;
	if (smtp_addr_mailbox_check(address, strlen(address), &parsed, &error) < 0)
		return loader_fail(ld, node, "'%s': %s", address, error);
	for (char *p = address; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

static int load_users(struct loader *ld, struct fy_node *node, struct config *c)
{
	if (loader_sequence(ld, node, "users") < 0)
		return -1;
	size_t cap = 0;
	void *iter = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
		xgrow((void **)&c->users, &cap, c->user_count + 1, sizeof(*c->users));
		struct user_config *u = &c->users[c->user_count++];
		memset(u, 0, sizeof(*u));
		if (loader_mapping(ld, item, "a user", "address, password", handle_user,
		                   u) < 0)
			return -1;
		if (u->address == NULL)
			return loader_fail(ld, item, "a user needs an address");
		if (check_address(ld, item, u->address) < 0)
			return -1;
	}
	return 0;
}

static int load_listeners(struct loader *ld, struct fy_node *node, struct config *c)
{
	if (loader_sequence(ld, node, "listen") < 0)
		return -1;
	size_t cap = 0;
	void *iter = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
		xgrow((void **)&c->listen, &cap, c->listen_count + 1, sizeof(*c->listen));
		struct listen_config *l = &c->listen[c->listen_count++];
		memset(l, 0, sizeof(*l));
		l->tls = TLS_NONE;
		if (loader_mapping(ld, item, "a listener",
		                   "protocol, address, tls, client_certificates",
		                   handle_listener, l) < 0)
			return -1;
		if (l->address == NULL)
			return loader_fail(ld, item,
			                   "a listener needs an address \"IP:port\"");
		if (l->client_certificates != CLIENT_CERT_NONE && l->tls == TLS_NONE)
			return loader_fail(ld, item,
			                   "client_certificates needs tls: starttls or "
			                   "implicit");
	}
	return 0;
}

/* A list of domain names (domains, relay_domains), lower-cased. */
static int load_domain_list(struct loader *ld, struct fy_node *node, const char *what,
                            char ***list, size_t *count)
{
	if (loader_sequence(ld, node, what) < 0)
		return -1;
	size_t cap = 0;
	void *iter = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
		xgrow((void **)list, &cap, *count + 1, sizeof(**list));
		char **d = &(*list)[(*count)++];
		*d = NULL;
		if (loader_string(ld, item, d) < 0)
			return -1;
		char probe[SMTP_PATH_MAX + 8];
		snprintf(probe, sizeof(probe), "<x@%s>", *d);
		struct smtp_addr parsed;
		const char *error;
		if (smtp_addr_parse(probe, strlen(probe), 0, &parsed, &error) !=
		        (int)strlen(probe) ||
		    parsed.domain_literal)
			return loader_fail(ld, item, "'%s' is not a domain name", *d);
		memcpy(*d, parsed.domain, parsed.domain_len + 1);
	}
	return 0;
}

/* "[host]:port", "host:port", "[host]" or "host"; port 25 by default. */
static int parse_next_hop(struct loader *ld, struct fy_node *node, const char *text,
                          struct route_config *r)
{
	const char *host = text, *end;
	r->mx_lookup = text[0] != '[';
	if (!r->mx_lookup) {
		host = text + 1;
		end = strchr(host, ']');
		if (end == NULL)
			return loader_fail(ld, node,
			                   "expected \"[host]:port\" or \"host:port\"");
	} else {
		end = strrchr(text, ':');
		if (end == NULL)
			end = text + strlen(text);
	}
	r->host = xstrndup(host, (size_t)(end - host));
	const char *port = end[0] == ']' ? end + 1 : end;
	r->port = 0; /* delivery.remote_port */
	if (port[0] == ':') {
		char *stop;
		unsigned long value = strtoul(port + 1, &stop, 10);
		if (port[1] == '\0' || *stop != '\0' || value == 0 || value > 65535)
			return loader_fail(ld, node, "bad port in '%s'", text);
		r->port = (unsigned)value;
	} else if (port[0] != '\0') {
		return loader_fail(ld, node, "expected \"[host]:port\" or \"host:port\"");
	}
	if (r->host[0] == '\0')
		return loader_fail(ld, node, "no host in '%s'", text);
	return 0;
}

struct route_loading {
	struct route_config *route;
	char *next_hop;
	char *password_file;
};

static int handle_route(struct loader *ld, const char *key, struct fy_node *v, void *ctx)
{
	struct route_loading *rl = ctx;
	if (strcmp(key, "next_hop") == 0)
		return loader_known(loader_string(ld, v, &rl->next_hop));
	if (strcmp(key, "auth_user") == 0)
		return loader_known(loader_string(ld, v, &rl->route->auth.user));
	if (strcmp(key, "password") == 0)
		return loader_known(loader_string(ld, v, &rl->route->auth.password));
	if (strcmp(key, "password_file") == 0)
		return loader_known(loader_string(ld, v, &rl->password_file));
	return 0;
}

/* The first line of a file (read now, while still privileged). */
static int read_password_file(struct loader *ld, struct fy_node *node, const char *path,
                              char **password_r)
{
	char *data;
	size_t len;
	const char *error;
	if (fs_read_file(path, &data, &len, &error) < 0)
		return loader_fail(ld, node, "password_file: %s", error);
	size_t line = strcspn(data, "\r\n");
	if (memchr(data, '\0', len) || line == 0) {
		free(data);
		return loader_fail(
		    ld, node, "password_file %s: no password on its first line", path);
	}
	*password_r = xstrndup(data, line);
	free(data);
	return 0;
}

/* "[host]:port", or the long form with credentials. */
static int load_route(struct loader *ld, struct fy_node *value, struct route_config *r)
{
	struct route_loading rl = {.route = r};
	int result = -1;
	if (fy_node_is_mapping(value)) {
		if (loader_mapping(ld, value, "a route",
		                   "next_hop, auth_user, password, password_file",
		                   handle_route, &rl) < 0)
			goto out;
		if (rl.next_hop == NULL) {
			loader_fail(ld, value, "a route needs a next_hop");
			goto out;
		}
		if (rl.password_file && r->auth.password) {
			loader_fail(ld, value, "password or password_file, not both");
			goto out;
		}
		if (rl.password_file && read_password_file(ld, value, rl.password_file,
		                                           &r->auth.password) < 0)
			goto out;
		if ((r->auth.user == NULL) != (r->auth.password == NULL)) {
			loader_fail(ld, value, "auth_user and a password go together");
			goto out;
		}
		if (r->auth.user &&
		    (r->auth.user[0] == '\0' || r->auth.password[0] == '\0')) {
			loader_fail(ld, value, "empty auth_user or password");
			goto out;
		}
	} else if (loader_string(ld, value, &rl.next_hop) < 0) {
		goto out;
	}
	result = parse_next_hop(ld, value, rl.next_hop, r);
out:
	free(rl.next_hop);
	free(rl.password_file);
	return result;
}

static int load_routes(struct loader *ld, struct fy_node *node, struct config *c)
{
	if (!fy_node_is_mapping(node))
		return loader_fail(
		    ld, node, "expected a mapping of domain: \"[host]:port\" for routes");
	size_t cap = 0;
	void *iter = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(node, &iter)) != NULL) {
		xgrow((void **)&c->routes, &cap, c->route_count + 1, sizeof(*c->routes));
		struct route_config *r = &c->routes[c->route_count++];
		memset(r, 0, sizeof(*r));
		if (loader_string(ld, fy_node_pair_key(pair), &r->domain) < 0)
			return -1;
		for (char *p = r->domain; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (load_route(ld, fy_node_pair_value(pair), r) < 0)
			return -1;
	}
	return 0;
}

static int load_relay_networks(struct loader *ld, struct fy_node *node, struct config *c)
{
	if (loader_sequence(ld, node, "relay_networks") < 0)
		return -1;
	size_t cap = 0;
	void *iter = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
		char *text = NULL;
		if (loader_string(ld, item, &text) < 0)
			return -1;
		xgrow((void **)&c->relay_networks, &cap, c->relay_network_count + 1,
		      sizeof(*c->relay_networks));
		const char *error;
		int r =
		    cidr_parse(text, &c->relay_networks[c->relay_network_count], &error);
		free(text);
		if (r < 0)
			return loader_fail(ld, item, "%s", error);
		c->relay_network_count++;
	}
	return 0;
}

static int handle_dns(struct loader *ld, const char *key, struct fy_node *v, void *ctx)
{
	struct config *c = ctx;
	if (strcmp(key, "servers") == 0) {
		if (loader_sequence(ld, v, "dns.servers") < 0)
			return -1;
		size_t cap = 0;
		void *iter = NULL;
		struct fy_node *item;
		while ((item = fy_node_sequence_iterate(v, &iter)) != NULL) {
			xgrow((void **)&c->dns_servers, &cap, c->dns_server_count + 1,
			      sizeof(*c->dns_servers));
			char **server = &c->dns_servers[c->dns_server_count++];
			*server = NULL;
			if (loader_string(ld, item, server) < 0)
				return -1;
			struct sockaddr_storage ss;
			socklen_t len;
			const char *error;
			if (sockaddr_parse_host_port(*server, 53, &ss, &len, &error) < 0)
				return loader_fail(ld, item, "%s", error);
		}
		return 1;
	}
	if (strcmp(key, "trust_anchor") == 0)
		return loader_known(loader_string(ld, v, &c->dns_trust_anchor));
	if (strcmp(key, "timeout_ms") == 0)
		return loader_known(loader_uint(ld, v, 100, 600000, &c->dns_timeout_ms));
	if (strcmp(key, "retries") == 0)
		return loader_known(loader_uint(ld, v, 0, 20, &c->dns_retries));
	if (strcmp(key, "cache_size") == 0)
		return loader_known(loader_uint(ld, v, 0, 10000000, &c->dns_cache_size));
	if (strcmp(key, "cache_max_ttl") == 0)
		return loader_known(
		    loader_duration(ld, v, 1, 7 * 86400, &c->dns_cache_max_ttl));
	if (strcmp(key, "cache_max_negative_ttl") == 0)
		return loader_known(
		    loader_duration(ld, v, 1, 86400, &c->dns_cache_max_negative_ttl));
	return 0;
}

static int get_source_address(struct loader *ld, struct fy_node *node,
                              struct delivery_config *d)
{
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

static const char *const tls_policy_names[] = {"none", "may", "encrypt", NULL};

static int handle_delivery(struct loader *ld, const char *key, struct fy_node *v,
                           void *ctx)
{
	struct delivery_config *d = ctx;
	static const struct {
		const char *key;
		size_t offset;
	} timeouts[] = {
	    {"connect_timeout", offsetof(struct delivery_config, connect_timeout)},
	    {"greeting_timeout", offsetof(struct delivery_config, greeting_timeout)},
	    {"helo_timeout", offsetof(struct delivery_config, helo_timeout)},
	    {"mail_timeout", offsetof(struct delivery_config, mail_timeout)},
	    {"rcpt_timeout", offsetof(struct delivery_config, rcpt_timeout)},
	    {"data_timeout", offsetof(struct delivery_config, data_timeout)},
	    {"block_timeout", offsetof(struct delivery_config, block_timeout)},
	    {"dot_timeout", offsetof(struct delivery_config, dot_timeout)},
	    {"idle_time", offsetof(struct delivery_config, idle_seconds)},
	};
	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
		if (strcmp(key, timeouts[i].key) == 0)
			return loader_known(loader_duration(
			    ld, v, strcmp(key, "idle_time") == 0 ? 0 : 1, 3600,
			    (unsigned *)((char *)d + timeouts[i].offset)));
	if (strcmp(key, "remote_port") == 0)
		return loader_known(loader_uint(ld, v, 1, 65535, &d->remote_port));
	if (strcmp(key, "source_address") == 0)
		return loader_known(get_source_address(ld, v, d));
	if (strcmp(key, "tls") == 0) {
		int policy;
		if (loader_enum(ld, v, tls_policy_names, &policy) < 0)
			return -1;
		d->tls = (enum tls_policy)policy;
		return 1;
	}
	if (strcmp(key, "concurrency") == 0)
		return loader_known(loader_uint(ld, v, 1, 10000, &d->concurrency));
	if (strcmp(key, "destination_concurrency") == 0)
		return loader_known(
		    loader_uint(ld, v, 1, 10000, &d->destination_concurrency));
	if (strcmp(key, "reuse_messages") == 0)
		return loader_known(loader_uint(ld, v, 1, 100000, &d->reuse_messages));
	return 0;
}

#define SEVEN_DAYS (7 * 86400)

static int handle_queue(struct loader *ld, const char *key, struct fy_node *v, void *ctx)
{
	struct queue_config *q = ctx;
	if (strcmp(key, "retry") == 0) {
		if (loader_sequence(ld, v, "queue.retry") < 0)
			return -1;
		q->retry_count = 0;
		size_t cap = 0;
		void *iter = NULL;
		struct fy_node *item;
		while ((item = fy_node_sequence_iterate(v, &iter)) != NULL) {
			xgrow((void **)&q->retry, &cap, q->retry_count + 1,
			      sizeof(*q->retry));
			if (loader_duration(ld, item, 1, SEVEN_DAYS,
			                    &q->retry[q->retry_count++]) < 0)
				return -1;
		}
		return 1;
	}
	if (strcmp(key, "retry_interval") == 0)
		return loader_known(
		    loader_duration(ld, v, 1, SEVEN_DAYS, &q->retry_interval));
	if (strcmp(key, "retry_slow_after") == 0)
		return loader_known(
		    loader_duration(ld, v, 0, SEVEN_DAYS, &q->retry_slow_after));
	if (strcmp(key, "retry_slow_interval") == 0)
		return loader_known(
		    loader_duration(ld, v, 1, SEVEN_DAYS, &q->retry_slow_interval));
	if (strcmp(key, "delay_warning") == 0)
		return loader_known(
		    loader_duration(ld, v, 0, SEVEN_DAYS, &q->delay_warning));
	if (strcmp(key, "max_lifetime") == 0)
		return loader_known(
		    loader_duration(ld, v, 1, SEVEN_DAYS, &q->max_lifetime));
	return 0;
}

static int handle_top(struct loader *ld, const char *key, struct fy_node *v, void *ctx)
{
	struct config *c = ctx;
	if (strcmp(key, "hostname") == 0)
		return loader_known(loader_string(ld, v, &c->hostname));
	if (strcmp(key, "home") == 0)
		return loader_known(loader_string(ld, v, &c->home));
	if (strcmp(key, "user") == 0)
		return loader_known(loader_string(ld, v, &c->run_as));
	if (strcmp(key, "workers") == 0)
		return loader_known(loader_uint(ld, v, 0, 256, &c->workers));
	if (strcmp(key, "log") == 0)
		return loader_known(
		    loader_mapping(ld, v, "log", "level, syslog", handle_log, c));
	if (strcmp(key, "domains") == 0)
		return loader_known(
		    load_domain_list(ld, v, "domains", &c->domains, &c->domain_count));
	if (strcmp(key, "relay_domains") == 0)
		return loader_known(load_domain_list(
		    ld, v, "relay_domains", &c->relay_domains, &c->relay_domain_count));
	if (strcmp(key, "routes") == 0)
		return loader_known(load_routes(ld, v, c));
	if (strcmp(key, "users") == 0)
		return loader_known(load_users(ld, v, c));
	if (strcmp(key, "auth") == 0)
		return loader_known(config_auth_load(ld, v, &c->auth));
	if (strcmp(key, "listen") == 0)
		return loader_known(load_listeners(ld, v, c));
	if (strcmp(key, "tls") == 0)
		return loader_known(loader_mapping(
		    ld, v, "tls", "certificate, key, client_ca, client_crl", handle_tls,
		    c));
	if (strcmp(key, "relay_networks") == 0)
		return loader_known(load_relay_networks(ld, v, c));
	if (strcmp(key, "dns") == 0)
		return loader_known(loader_mapping(
		    ld, v, "dns",
		    "servers, trust_anchor, timeout_ms, retries, cache_size, "
		    "cache_max_ttl, cache_max_negative_ttl",
		    handle_dns, c));
	if (strcmp(key, "delivery") == 0)
		return loader_known(loader_mapping(
		    ld, v, "delivery",
		    "remote_port, source_address, tls, connect_timeout, "
		    "greeting_timeout, helo_timeout, mail_timeout, rcpt_timeout, "
		    "data_timeout, block_timeout, dot_timeout, idle_time, concurrency, "
		    "destination_concurrency, reuse_messages",
		    handle_delivery, &c->delivery));
	if (strcmp(key, "queue") == 0)
		return loader_known(
		    loader_mapping(ld, v, "queue",
		                   "retry, retry_interval, retry_slow_after, "
		                   "retry_slow_interval, delay_warning, max_lifetime",
		                   handle_queue, &c->queue));
	if (strcmp(key, "limits") == 0)
		return loader_known(loader_mapping(
		    ld, v, "limits",
		    "message_size, recipients, command_line, text_line, errors, "
		    "idle_timeout, data_timeout, connections, connections_per_ip, "
		    "greeting_delay_ms, auth_line, header_size, header_fields",
		    handle_limits, &c->limits));
	return 0;
}

static void set_defaults(struct config *c)
{
	c->log_level = L_INFO;
	c->workers = 1;
	c->limits = (struct limits_config){
	    .message_size = 50 * 1024 * 1024,
	    .recipients = 100,
	    .command_line = 512,
	    .text_line = 1000,
	    .errors = 10,
	    .idle_timeout = 300,
	    .data_timeout = 600,
	    .connections = 4000,
	    .connections_per_ip = 50,
	    .greeting_delay_ms = 0,
	    .auth_line = 12288,
	    .header_size = 256 * 1024,
	    .header_fields = 1000,
	};
	config_auth_defaults(&c->auth);
	c->dns_timeout_ms = 10000;
	c->dns_retries = 4;
	c->dns_cache_size = 10000;
	c->dns_cache_max_ttl = 86400;
	c->dns_cache_max_negative_ttl = 3600;
	c->delivery = (struct delivery_config){
	    .remote_port = 25,
	    .tls = TLS_POLICY_MAY,
	    .connect_timeout = 30,
	    .greeting_timeout = 300,
	    .helo_timeout = 300,
	    .mail_timeout = 300,
	    .rcpt_timeout = 300,
	    .data_timeout = 120,
	    .block_timeout = 180,
	    .dot_timeout = 600,
	    .concurrency = 100,
	    .destination_concurrency = 20,
	    .reuse_messages = 100,
	    .idle_seconds = 5,
	};
	static const unsigned default_retry[] = {300, 600, 1200, 2400};
	c->queue = (struct queue_config){
	    .retry_count = 4,
	    .retry_interval = 3600,
	    .retry_slow_after = 4 * 3600,
	    .retry_slow_interval = 4 * 3600,
	    .delay_warning = 4 * 3600,
	    .max_lifetime = 5 * 86400,
	};
	c->queue.retry = xmalloc(sizeof(default_retry));
	memcpy(c->queue.retry, default_retry, sizeof(default_retry));
}

static void finish(struct config *c, const char *home_override)
{
	if (home_override) {
		free(c->home);
		c->home = xstrdup(home_override);
	}
	if (c->home == NULL)
		c->home = xstrdup("./var");
	/* A relative home is taken from the current directory once, here, so
	 * that logs, the CLI's reports and the processes all name one place. */
	char cwd[4096];
	if (c->home[0] != '/' && getcwd(cwd, sizeof(cwd))) {
		const char *rel = c->home;
		while (rel[0] == '.' && rel[1] == '/')
			rel += 2;
		struct buf absolute = BUF_INIT;
		buf_appendf(&absolute, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "",
		            strcmp(rel, ".") ? rel : "");
		free(c->home);
		c->home = xstrdup(absolute.data);
		buf_free(&absolute);
	}
	if (c->hostname == NULL) {
		char name[256] = "localhost";
		if (gethostname(name, sizeof(name) - 1) < 0 || name[0] == '\0')
			snprintf(name, sizeof(name), "localhost");
		c->hostname = xstrdup(name);
	}
	if (c->run_as == NULL)
		c->run_as = xstrdup("nobody");
	config_auth_finish(&c->auth, c->home);
}

/* libfyaml reports YAML syntax errors through its diagnostics. */
static void collect_diag(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	(void)diag;
	struct buf *out = user;
	if (out->len == 0)
		buf_append(out, buf, len);
}

struct config *config_load_string(const char *source, const char *yaml, size_t len,
                                  const char *home_override, const char **error_r)
{
	struct buf diag_text = BUF_INIT;
	struct fy_diag_cfg diag_cfg;
	fy_diag_cfg_default(&diag_cfg);
	diag_cfg.fp = NULL;
	diag_cfg.output_fn = collect_diag;
	diag_cfg.user = &diag_text;
	diag_cfg.colorize = false;
	diag_cfg.show_source = false;
	diag_cfg.show_position = false;
	diag_cfg.show_type = false;
	diag_cfg.show_module = false;
	struct fy_diag *diag = fy_diag_create(&diag_cfg);
	struct fy_parse_cfg parse_cfg = {.flags = FYPCF_QUIET, .diag = diag};
	struct fy_document *doc = fy_document_build_from_string(&parse_cfg, yaml, len);
	struct loader ld = {.source = source};
	struct config *c = NULL;
	if (doc == NULL) {
		void *iter = NULL;
		struct fy_diag_error *e =
		    diag ? fy_diag_errors_iterate(diag, &iter) : NULL;
		if (e)
			ld.error = error_fmt("%s:%d:%d: %s", source, e->line + 1,
			                     e->column + 1, e->msg);
		else
			ld.error = error_fmt("%s: invalid YAML: %.*s", source,
			                     (int)strcspn(buf_cstr(&diag_text), "\n"),
			                     buf_cstr(&diag_text));
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	set_defaults(c);
	c->source = xstrdup(source);
	struct fy_node *root = fy_document_root(doc);
	if (root != NULL &&
	    loader_mapping(
	        &ld, root, "the configuration",
	        "hostname, home, user, workers, log, domains, users, auth, listen, tls, "
	        "relay_networks, relay_domains, routes, limits, dns",
	        handle_top, c) < 0) {
		config_free(&c);
		goto out;
	}
	finish(c, home_override);
out:
	if (doc)
		fy_document_destroy(doc);
	if (diag)
		fy_diag_destroy(diag);
	buf_free(&diag_text);
	if (c == NULL)
		*error_r = ld.error;
	return c;
}

struct config *config_load(const char *path, const char *home_override,
                           const char **error_r)
{
	if (path == NULL)
		return config_load_string("(embedded default)", config_embedded_default,
		                          strlen(config_embedded_default), home_override,
		                          error_r);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		*error_r = error_errno(path);
		return NULL;
	}
	struct buf text = BUF_INIT;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&text, chunk, n);
	int failed = ferror(f);
	fclose(f);
	if (failed) {
		buf_free(&text);
		*error_r = error_errno(path);
		return NULL;
	}
	struct config *c =
	    config_load_string(path, buf_cstr(&text), text.len, home_override, error_r);
	buf_free(&text);
	return c;
}

static void free_string_list(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

void config_free(struct config **config)
{
	struct config *c = *config;
	if (c == NULL)
		return;
	free(c->source);
	free(c->hostname);
	free(c->home);
	free(c->run_as);
	free_string_list(c->domains, c->domain_count);
	for (size_t i = 0; i < c->user_count; i++) {
		free(c->users[i].address);
		free(c->users[i].password);
	}
	free(c->users);
	for (size_t i = 0; i < c->listen_count; i++)
		free(c->listen[i].address);
	free(c->listen);
	free(c->tls_certificate);
	free(c->tls_key);
	free(c->tls_client_ca);
	free(c->tls_client_crl);
	config_auth_free(&c->auth);
	free(c->relay_networks);
	free_string_list(c->relay_domains, c->relay_domain_count);
	for (size_t i = 0; i < c->route_count; i++) {
		free(c->routes[i].domain);
		free(c->routes[i].host);
		free(c->routes[i].auth.user);
		if (c->routes[i].auth.password) {
			explicit_bzero(c->routes[i].auth.password,
			               strlen(c->routes[i].auth.password));
			free(c->routes[i].auth.password);
		}
	}
	free(c->routes);
	free_string_list(c->dns_servers, c->dns_server_count);
	free(c->dns_trust_anchor);
	free(c->queue.retry);
	x_free(config);
}

const char *tls_policy_name(enum tls_policy policy)
{
	return tls_policy_names[policy];
}

const char *client_cert_mode_name(enum client_cert_mode mode)
{
	return client_cert_modes[mode];
}

const char *listen_protocol_name(enum listen_protocol protocol)
{
	return protocol == PROTO_SUBMISSION ? "submission" : "smtp";
}

const char *tls_mode_name(enum tls_mode mode)
{
	return mode == TLS_IMPLICIT   ? "implicit"
	       : mode == TLS_STARTTLS ? "starttls"
	                              : "none";
}

bool config_is_local_domain(const struct config *c, const char *domain)
{
	for (size_t i = 0; i < c->domain_count; i++)
		if (strcasecmp(c->domains[i], domain) == 0)
			return true;
	return false;
}

const struct user_config *config_find_user(const struct config *c, const char *address)
{
	for (size_t i = 0; i < c->user_count; i++)
		if (strcasecmp(c->users[i].address, address) == 0)
			return &c->users[i];
	return NULL;
}

bool config_is_relay_domain(const struct config *c, const char *domain)
{
	for (size_t i = 0; i < c->relay_domain_count; i++)
		if (strcasecmp(c->relay_domains[i], domain) == 0)
			return true;
	return false;
}

bool config_in_relay_networks(const struct config *c, const struct sockaddr *sa)
{
	for (size_t i = 0; i < c->relay_network_count; i++)
		if (cidr_match(&c->relay_networks[i], sa))
			return true;
	return false;
}
