/*
 * config.h — petrel's configuration: the one loader, the one struct.
 *
 * The YAML file (or the embedded default) is parsed with libfyaml into a
 * struct config. Every error names file:line:column and what was
 * expected. config_print() writes the effective configuration back as
 * YAML for `petrel check-config`.
 */
#ifndef PETREL_CONFIG_H
#define PETREL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/netaddr.h"

enum listen_protocol { PROTO_SMTP, PROTO_SUBMISSION };
enum tls_mode { TLS_NONE, TLS_STARTTLS, TLS_IMPLICIT };

struct listen_config {
	enum listen_protocol protocol;
	char *address; /* as written: "127.0.0.1:2525" */
	enum tls_mode tls;
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

/* routes: a domain's mail goes to a fixed next hop (Postfix's transport
 * map). "[host]:port" means that host itself; "host:port" means its MX. */
struct route_config {
	char *domain; /* "example.net", ".example.net" (subdomains), or "*" */
	char *host;
	unsigned port;
	bool mx_lookup;
};

struct user_config {
	char *address;
	char *password;
};

/* Every limit has a default and a key under `limits:`. */
struct limits_config {
	uint64_t message_size;       /* octets; advertised in SIZE */
	unsigned recipients;         /* per message */
	unsigned command_line;       /* octets incl. CRLF, RFC 5321 4.5.3.1.4 */
	unsigned text_line;          /* octets incl. CRLF, RFC 5321 4.5.3.1.6 */
	unsigned errors;             /* protocol errors before disconnect */
	unsigned idle_timeout;       /* seconds waiting for a command */
	unsigned data_timeout;       /* seconds waiting for message data */
	unsigned connections;        /* in total, per worker process */
	unsigned connections_per_ip; /* per client IP, per worker process */
	unsigned
	    greeting_delay_ms; /* wait before the banner; early talkers are dropped */
};

struct config {
	char *source; /* file name, or "(embedded default)" */
	char *hostname;
	char *home;
	char *run_as;     /* `user:` — account to drop to when started as root */
	unsigned workers; /* 0: one per core */
	enum log_level log_level;
	bool log_syslog;
	char **domains;
	size_t domain_count;
	struct user_config *users;
	size_t user_count;
	struct listen_config *listen;
	size_t listen_count;
	char *tls_certificate; /* NULL: self-signed one under home */
	char *tls_key;
	struct cidr *relay_networks;
	size_t relay_network_count;
	/* relay_domains: accepted from anyone and forwarded (backup MX, gateway) */
	char **relay_domains;
	size_t relay_domain_count;
	struct route_config *routes;
	size_t route_count;
	struct limits_config limits;
	/* dns: — none: full recursion from the root hints */
	char **dns_servers;
	size_t dns_server_count;
	char *dns_trust_anchor; /* DNSSEC validation when set */
	unsigned dns_timeout_ms;
};

extern const char config_embedded_default[];

/*
 * Loads path, or the embedded default when path is NULL. home_override
 * (from --home or $PETREL_HOME, may be NULL) replaces `home`.
 * Returns a config, or NULL with *error_r ("file:line:col: ...").
 */
struct config *config_load(const char *path, const char *home_override,
                           const char **error_r);
struct config *config_load_string(const char *source, const char *yaml, size_t len,
                                  const char *home_override, const char **error_r);
void config_free(struct config **config);
void config_print(const struct config *config, FILE *out);

bool config_is_local_domain(const struct config *config, const char *domain);
const struct user_config *config_find_user(const struct config *config,
                                           const char *address);
/* The user a local address delivers to: exact match first, then
 * plus-addressing (user+tag@domain goes to user@domain). */
const struct user_config *config_find_local_user(const struct config *config,
                                                 const char *local, size_t local_len,
                                                 const char *domain);
bool config_in_relay_networks(const struct config *config, const struct sockaddr *sa);
bool config_is_relay_domain(const struct config *config, const char *domain);

const char *listen_protocol_name(enum listen_protocol protocol);
const char *tls_mode_name(enum tls_mode mode);

#endif
