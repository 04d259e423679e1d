/*
 * config.h — petrel's configuration: the one loader, the one struct.
 *
 * The YAML file (or the embedded default) is parsed with libfyaml into a
 * struct config. Each section is a table of keys in a file of its own
 * (config_<section>.c, through lib/config_table.h), from which loading,
 * defaults, printing and the documentation come. Every error names
 * file:line:column and what was expected. config_print() writes the
 * effective configuration back as YAML for `petrel check-config`.
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

enum listen_protocol {
	PROTO_SMTP,
	PROTO_SUBMISSION,
	PROTO_HTTP,
	PROTO_IMAP,
	PROTO_POP3,
	PROTO_LMTP,
};
enum tls_mode { TLS_NONE, TLS_STARTTLS, TLS_IMPLICIT };

/* Client certificates asked for in the TLS handshake (per listener). */
enum client_cert_mode { CLIENT_CERT_NONE, CLIENT_CERT_OPTIONAL, CLIENT_CERT_REQUIRED };

/* Credentials for a smarthost (RFC 4954 AUTH as a client). */
struct route_auth {
	char *user;     /* NULL: no AUTH */
	char *password; /* given, or the first line of password_file */
};

/* routes: a domain's mail goes to a fixed next hop (Postfix's transport
 * map). "[host]:port" means that host itself; "host:port" means its MX.
 * The long form {next_hop, auth_user, password | password_file} logs in. */
struct route_config {
	char *domain; /* "example.net", ".example.net" (subdomains), or "*" */
	char *host;
	unsigned port; /* 0: delivery.remote_port */
	bool mx_lookup;
	struct route_auth auth;
};

/* users: in the YAML file, seeded into the user database at start. */
struct user_config {
	char *address;
	/* "{SCHEME}hash" or a crypt string ($6$..., $2y$..., $argon2id$...)
	 * is a hash; anything else is the password in plain text. */
	char *password;
	char *password_file; /* where password was read from, or NULL */
};

/* aliases: in the YAML file, seeded into the user database at start. */
struct alias_config {
	char *address; /* "local@domain", or "@domain" for a catch-all */
	char **targets;
	size_t target_count;
};

/* SASL mechanisms (RFC 4954), as bits of auth_config.mechanisms. */
enum auth_mechanism {
	MECH_PLAIN = 1 << 0,
	MECH_LOGIN = 1 << 1,
	MECH_SCRAM_SHA_256 = 1 << 2,
	MECH_EXTERNAL = 1 << 3,
	MECH_OAUTHBEARER = 1 << 4,
	MECH_XOAUTH2 = 1 << 5,
	MECH_CRAM_MD5 = 1 << 6,
};
#define MECH_COUNT 7

/* What a password costs to store (auth/password.h). */
struct password_config {
	unsigned argon2_passes;     /* argon2id t */
	unsigned argon2_memory_kib; /* argon2id m */
	unsigned scram_iterations;  /* PBKDF2 rounds for SCRAM-SHA-256 keys */
	bool cram_md5;              /* also store CRAM-MD5 key states */
};

/* Maps a verified client certificate to a user (EXTERNAL). */
struct certificate_user {
	char *fingerprint; /* SHA-256, lower-case hex without colons, or NULL */
	char *subject;     /* RFC 2253 subject, or NULL */
	char *user;
};

enum auth_backend { AUTH_BACKEND_SQLITE, AUTH_BACKEND_POSTGRES };
enum sender_check { SENDER_CHECK_OWNED, SENDER_CHECK_NONE };

/* auth: the user database, SASL, and the brute-force defence. */
struct auth_config {
	enum auth_backend backend;
	char *dsn;                      /* SQLite file (default <home>/db/users.sqlite) or
	                                   a libpq connection string */
	unsigned mechanisms;            /* enum auth_mechanism bits */
	bool plaintext_loopback;        /* AUTH without TLS from 127/8 and ::1 */
	enum sender_check sender_check; /* MAIL FROM of an authenticated user */
	struct password_config password;
	unsigned threads; /* per worker, for hashing and lookups */
	/* failures: delay_ms doubles with each failure up to max_delay_ms;
	 * lockout_after failures within `window` lock the IP or the user
	 * name for `lockout` seconds (0: never). */
	unsigned failure_delay_ms;
	unsigned failure_max_delay_ms;
	unsigned lockout_after_ip;
	unsigned lockout_after_user;
	unsigned lockout_seconds;
	unsigned failure_window;
	/* oauth: JWT bearer tokens for OAUTHBEARER and XOAUTH2 (RFC 7628) */
	char *oauth_public_key; /* PEM file; NULL: token mechanisms off */
	char *oauth_issuer;
	char *oauth_audience;
	char *oauth_user_claim; /* "email" by default */
	struct certificate_user *certificate_users;
	size_t certificate_user_count;
	/* cache: verified passwords (auth/credential_cache.h) */
	unsigned cache_size;         /* entries; 0: no cache */
	unsigned cache_ttl;          /* seconds a right password is remembered */
	unsigned cache_negative_ttl; /* seconds a wrong one is */
};

/* Every limit has a default and a key under `limits:` (config_limits.c). */
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
	unsigned auth_line; /* octets of a SASL line without CRLF (RFC 4954 4: 12288) */
	/* A message's header section, held in memory for the end-of-data
	 * stage: its octets and fields (header bombs). */
	unsigned header_size;
	unsigned header_fields;
};

/* listen: one listening socket and the protocol it serves. */
struct listen_config {
	enum listen_protocol protocol;
	char *address;   /* as written: "127.0.0.1:2525", "unix:run/lmtp.sock" */
	char *unix_path; /* a unix socket's path (relative: below home) */
	enum tls_mode tls;
	enum client_cert_mode client_certificates;
	struct limits_config limits; /* the global ones, with its overrides */
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

struct log_config {
	enum log_level level;
	bool syslog;
};

/* tls: the server's certificate, and what client certificates chain to. */
struct tls_files {
	char *certificate; /* NULL: self-signed one under home */
	char *key;
	char *client_ca;  /* CA bundle for client certificates */
	char *client_crl; /* CRLs checked for client certificates, or NULL */
};

/* dns: no servers means full recursion from the root hints. */
struct dns_config {
	char **servers;
	size_t server_count;
	bool recursive;    /* without servers: from the root hints */
	char *resolv_conf; /* without servers, not recursive: its name servers */
	char *trust_anchor; /* DNSSEC validation when set */
	unsigned timeout_ms;
	unsigned retries;                /* after the first try, per server */
	unsigned cache_size;             /* entries; 0: no answer cache */
	unsigned cache_max_ttl;          /* seconds */
	unsigned cache_max_negative_ttl; /* seconds */
};

enum tls_policy { TLS_POLICY_NONE, TLS_POLICY_MAY, TLS_POLICY_ENCRYPT };

/* delivery: how the SMTP client talks to other servers. Timeouts are
 * seconds, defaults from RFC 5321 4.5.3.2. */
struct delivery_config {
	unsigned remote_port;                     /* 25; other values for tests */
	struct sockaddr_storage source4, source6; /* source_address */
	bool have_source4, have_source6;
	enum tls_policy tls; /* may: opportunistic STARTTLS (RFC 7435) */
	unsigned connect_timeout;
	unsigned greeting_timeout;
	unsigned helo_timeout;
	unsigned mail_timeout;
	unsigned rcpt_timeout;
	unsigned data_timeout;            /* DATA initiation */
	unsigned block_timeout;           /* each data block */
	unsigned dot_timeout;             /* DATA termination */
	unsigned concurrency;             /* connections in total */
	unsigned destination_concurrency; /* connections per destination */
	unsigned reuse_messages;          /* messages per connection */
	unsigned idle_seconds;            /* an unused connection is kept this long */
};

/* queue: retry schedule and notifications. Durations in seconds. */
struct queue_config {
	unsigned *retry; /* first delays after a temporary failure */
	size_t retry_count;
	unsigned retry_interval;      /* then this, until the message is */
	unsigned retry_slow_after;    /* this old, */
	unsigned retry_slow_interval; /* then this */
	unsigned delay_warning;       /* delay DSN at this age; 0: never */
	unsigned max_lifetime;        /* then bounce; at most 7 days */
};

struct config {
	char *source; /* file name, or "(embedded default)" */
	char *hostname;
	char *home;
	char *run_as;     /* `user:` — account to drop to when started as root */
	unsigned workers; /* 0: one per core */
	struct log_config log;
	char **domains;
	size_t domain_count;
	struct user_config *users;
	size_t user_count;
	struct alias_config *aliases;
	size_t alias_count;
	struct listen_config *listen;
	size_t listen_count;
	struct tls_files tls;
	struct auth_config auth;
	struct cidr *relay_networks;
	size_t relay_network_count;
	/* relay_domains: accepted from anyone and forwarded (backup MX, gateway) */
	char **relay_domains;
	size_t relay_domain_count;
	struct route_config *routes;
	size_t route_count;
	struct limits_config limits;
	struct dns_config dns;
	struct delivery_config delivery;
	struct queue_config queue;
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
/* In a child that needs none of them (a worker; the queue keeps the
 * smarthost passwords): the YAML users' passwords and the database's
 * connection string are wiped from its memory. */
void config_forget_secrets(struct config *config, bool keep_routes);

bool config_is_local_domain(const struct config *config, const char *domain);
const struct user_config *config_find_user(const struct config *config,
                                           const char *address);
bool config_in_relay_networks(const struct config *config, const struct sockaddr *sa);
bool config_is_relay_domain(const struct config *config, const char *domain);

const char *listen_protocol_name(enum listen_protocol protocol);
const char *tls_mode_name(enum tls_mode mode);
const char *tls_policy_name(enum tls_policy policy);
const char *client_cert_mode_name(enum client_cert_mode mode);
/* "PLAIN", "SCRAM-SHA-256", ... for one MECH_ bit. */
const char *auth_mechanism_name(unsigned mechanism);
/* A MECH_ bit by its name (case-insensitive); 0 if unknown. */
unsigned auth_mechanism_by_name(const char *name, size_t len);

/* "30s", "5m", "4h", "5d" or plain seconds; -1 if malformed. */
int config_parse_duration(const char *text, unsigned *seconds_r);

#endif
