/*
 * config_auth.c — the `auth:` section: user database, SASL mechanisms,
 * password costs, brute-force defence, OAuth tokens and the mapping of
 * client certificates to users.
 */
#include "lib/config_sections.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

static const char *const mechanism_names[MECH_COUNT] = {
    "PLAIN", "LOGIN", "SCRAM-SHA-256", "EXTERNAL", "OAUTHBEARER", "XOAUTH2", "CRAM-MD5",
};

const char *auth_mechanism_name(unsigned mechanism)
{
	for (unsigned i = 0; i < MECH_COUNT; i++)
		if (mechanism == 1u << i)
			return mechanism_names[i];
	return "?";
}

unsigned auth_mechanism_by_name(const char *name, size_t len)
{
	for (unsigned i = 0; i < MECH_COUNT; i++)
		if (strlen(mechanism_names[i]) == len &&
		    strncasecmp(mechanism_names[i], name, len) == 0)
			return 1u << i;
	return 0;
}

static int read_mechanisms(struct loader *ld, struct fy_node *node, void *base)
{
	struct auth_config *a = base;
	if (loader_sequence(ld, node, "auth.mechanisms") < 0)
		return -1;
	a->mechanisms = 0;
	void *iter = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
		size_t len;
		const char *name =
		    fy_node_is_scalar(item) ? fy_node_get_scalar(item, &len) : NULL;
		unsigned mech = name ? auth_mechanism_by_name(name, len) : 0;
		if (mech == 0)
			return loader_fail(ld, item,
			                   "expected a mechanism: PLAIN, LOGIN, "
			                   "SCRAM-SHA-256, EXTERNAL, OAUTHBEARER, "
			                   "XOAUTH2, CRAM-MD5");
		a->mechanisms |= mech;
	}
	a->password.cram_md5 = (a->mechanisms & MECH_CRAM_MD5) != 0;
	return 0;
}

static void print_mechanisms(FILE *out, const void *base, int indent)
{
	(void)indent;
	const struct auth_config *a = base;
	fprintf(out, " [");
	const char *sep = "";
	for (unsigned i = 0; i < MECH_COUNT; i++)
		if (a->mechanisms & (1u << i)) {
			fprintf(out, "%s%s", sep, mechanism_names[i]);
			sep = ", ";
		}
	fprintf(out, "]\n");
}

static void default_mechanisms(void *base)
{
	/* CRAM-MD5 only when listed: it needs a password-equivalent key on
	 * the server and proves nothing about the channel. */
	((struct auth_config *)base)->mechanisms = MECH_PLAIN | MECH_LOGIN |
	                                           MECH_SCRAM_SHA_256 | MECH_EXTERNAL |
	                                           MECH_OAUTHBEARER | MECH_XOAUTH2;
}

static const struct config_custom mechanisms = {read_mechanisms, print_mechanisms, NULL,
                                                default_mechanisms};

static int read_dsn(struct loader *ld, struct fy_node *node, void *base)
{
	return loader_string(ld, node, &((struct auth_config *)base)->dsn);
}

/* Postgres connection strings may carry a password: never shown. */
static void print_dsn(FILE *out, const void *base, int indent)
{
	(void)indent;
	const struct auth_config *a = base;
	fputc(' ', out);
	if (a->dsn == NULL)
		fprintf(out, "null");
	else if (a->backend == AUTH_BACKEND_POSTGRES && strstr(a->dsn, "password"))
		fprintf(out, "\"(not shown: it holds a password)\"");
	else
		config_print_string(out, a->dsn);
	fputc('\n', out);
}

static void free_dsn(void *base)
{
	x_free(&((struct auth_config *)base)->dsn);
}

static const struct config_custom dsn = {read_dsn, print_dsn, free_dsn, NULL};

/* "AB:CD:..." as openssl prints it, or plain hex. */
static int read_fingerprint(struct loader *ld, struct fy_node *node, void *base)
{
	struct certificate_user *u = base;
	if (loader_string(ld, node, &u->fingerprint) < 0)
		return -1;
	char *w = u->fingerprint;
	for (const char *r = u->fingerprint; *r; r++) {
		char c = *r;
		if (c == ':')
			continue;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return loader_fail(ld, node, "a fingerprint is SHA-256 in hex");
		*w++ = c;
	}
	*w = '\0';
	if (strlen(u->fingerprint) != 64)
		return loader_fail(ld, node, "a SHA-256 fingerprint has 64 hex digits");
	return 0;
}

static void print_fingerprint(FILE *out, const void *base, int indent)
{
	(void)indent;
	const struct certificate_user *u = base;
	fputc(' ', out);
	if (u->fingerprint)
		config_print_string(out, u->fingerprint);
	else
		fprintf(out, "null");
	fputc('\n', out);
}

static void free_fingerprint(void *base)
{
	x_free(&((struct certificate_user *)base)->fingerprint);
}

static const struct config_custom fingerprint = {read_fingerprint, print_fingerprint,
                                                 free_fingerprint, NULL};

static int check_certificate_user(struct loader *ld, struct fy_node *node, void *base)
{
	struct certificate_user *u = base;
	if (u->user == NULL || (u->fingerprint == NULL) == (u->subject == NULL))
		return loader_fail(ld, node,
		                   "a certificate user needs `user` and one of "
		                   "`fingerprint` or `subject`");
	return 0;
}

static const struct config_key certificate_user_keys[] = {
    CONFIG_ROW_CUSTOM("fingerprint", &fingerprint, "none",
                      "SHA-256 of the certificate, hex, colons allowed"),
    CONFIG_ROW_STRING("subject", struct certificate_user, subject, NULL,
                      "or its subject, RFC 2253"),
    CONFIG_ROW_STRING("user", struct certificate_user, user, NULL,
                      "the user it logs in as"),
    {0},
};

static const struct config_section certificate_user_section = {
    "a certificate user", certificate_user_keys, check_certificate_user};

static int read_certificate_users(struct loader *ld, struct fy_node *node, void *base)
{
	struct auth_config *a = base;
	if (loader_sequence(ld, node, "auth.certificate_users") < 0)
		return -1;
	size_t cap = 0;
	void *iter = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
		xgrow((void **)&a->certificate_users, &cap, a->certificate_user_count + 1,
		      sizeof(*a->certificate_users));
		struct certificate_user *u =
		    &a->certificate_users[a->certificate_user_count++];
		memset(u, 0, sizeof(*u));
		if (config_section_load(ld, item, &certificate_user_section, u) < 0)
			return -1;
	}
	return 0;
}

static void print_certificate_users(FILE *out, const void *base, int indent)
{
	const struct auth_config *a = base;
	fprintf(out, "%s\n", a->certificate_user_count ? "" : " []");
	for (size_t i = 0; i < a->certificate_user_count; i++) {
		const struct certificate_user *u = &a->certificate_users[i];
		config_indent(out, indent + 2);
		fprintf(out, "- {%s: ", u->fingerprint ? "fingerprint" : "subject");
		config_print_string(out, u->fingerprint ? u->fingerprint : u->subject);
		fprintf(out, ", user: ");
		config_print_string(out, u->user);
		fprintf(out, "}\n");
	}
}

static void free_certificate_users(void *base)
{
	struct auth_config *a = base;
	for (size_t i = 0; i < a->certificate_user_count; i++)
		config_section_free(&certificate_user_section, &a->certificate_users[i]);
	x_free(&a->certificate_users);
	a->certificate_user_count = 0;
}

static const struct config_custom certificate_users = {
    read_certificate_users, print_certificate_users, free_certificate_users, NULL};

/* OWASP's argon2id minimum (m=19 MiB, t=2, p=1); see docs/auth.md and
 * bench/auth for what it costs per login. */
static const struct config_key password_hash_keys[] = {
    CONFIG_ROW_UINT("passes", struct password_config, argon2_passes, 2, 1, 100,
                    "argon2id passes (t) of new hashes"),
    CONFIG_ROW_UINT("memory_kib", struct password_config, argon2_memory_kib, 19 * 1024, 8,
                    4 * 1024 * 1024,
                    "argon2id memory (m) of new hashes; older hashes are re-hashed at "
                    "the next login"),
    {0},
};

static const struct config_section password_hash_section = {"auth.password_hash",
                                                            password_hash_keys, NULL};

static const struct config_key failure_keys[] = {
    CONFIG_ROW_UINT("delay_ms", struct auth_config, failure_delay_ms, 500, 0, 60000,
                    "a failed login is answered this late, doubling with each "
                    "failure"),
    CONFIG_ROW_UINT("max_delay_ms", struct auth_config, failure_max_delay_ms, 15000, 0,
                    300000, "up to this"),
    CONFIG_ROW_UINT("lockout_after_ip", struct auth_config, lockout_after_ip, 10, 0,
                    100000,
                    "failures within `window` that lock a client IP out; `0`: never"),
    CONFIG_ROW_UINT("lockout_after_user", struct auth_config, lockout_after_user, 20, 0,
                    100000,
                    "failures within `window` that lock a user name out; `0`: never"),
    CONFIG_ROW_DURATION("lockout", struct auth_config, lockout_seconds, 900, 1, 86400,
                        "how long a lockout lasts"),
    CONFIG_ROW_DURATION("window", struct auth_config, failure_window, 900, 1, 86400,
                        "failures are counted over this"),
    {0},
};

static const struct config_section failures_section = {"auth.failures", failure_keys,
                                                       NULL};

static int check_oauth(struct loader *ld, struct fy_node *node, void *base)
{
	struct auth_config *a = base;
	if (a->oauth_public_key && (a->oauth_issuer == NULL || a->oauth_audience == NULL))
		return loader_fail(
		    ld, node, "auth.oauth needs issuer and audience with public_key");
	return 0;
}

static const struct config_key oauth_keys[] = {
    {.name = "public_key",
     .type = CONFIG_STRING,
     .offset = offsetof(struct auth_config, oauth_public_key),
     .unset = "OAUTHBEARER and XOAUTH2 off",
     .help = "PEM file of the key that signs tokens; without it the token mechanisms "
             "are off"},
    CONFIG_ROW_STRING("issuer", struct auth_config, oauth_issuer, NULL,
                      "the `iss` a token must carry"),
    CONFIG_ROW_STRING("audience", struct auth_config, oauth_audience, NULL,
                      "the `aud` a token must carry"),
    CONFIG_ROW_STRING("user_claim", struct auth_config, oauth_user_claim, "email",
                      "the claim that names the user"),
    {0},
};

static const struct config_section oauth_section = {"auth.oauth", oauth_keys,
                                                    check_oauth};

static const struct config_key cache_keys[] = {
    CONFIG_ROW_UINT("size", struct auth_config, cache_size, 10000, 0, 10000000,
                    "verified logins remembered (shared by all processes); `0` turns "
                    "the cache off"),
    CONFIG_ROW_DURATION("ttl", struct auth_config, cache_ttl, 3600, 0, 86400,
                        "a right password skips the database and argon2id this long; "
                        "`petrel user passwd`, `del` and `disable` forget the user at "
                        "once"),
    CONFIG_ROW_DURATION("negative_ttl", struct auth_config, cache_negative_ttl, 60, 0,
                        86400,
                        "a wrong password (or an unknown user: the same) fails at once "
                        "this long; failures still count towards lockouts"),
    {0},
};

static const struct config_section cache_section = {"auth.cache", cache_keys, NULL};

static const char *const backends[] = {"sqlite", "postgres", NULL};
static const char *const sender_checks[] = {"owned", "none", NULL};

static int check_auth(struct loader *ld, struct fy_node *node, void *base)
{
	struct auth_config *a = base;
	if (a->backend == AUTH_BACKEND_POSTGRES && a->dsn == NULL)
		return loader_fail(ld, node, "auth: backend postgres needs a dsn");
	return 0;
}

static const struct config_key auth_keys[] = {
    CONFIG_ROW_ENUM("backend", struct auth_config, backend, backends, AUTH_BACKEND_SQLITE,
                    "the user database"),
    CONFIG_ROW_CUSTOM("dsn", &dsn, "`home/db/users.sqlite`",
                      "the SQLite file, or a libpq connection string"),
    CONFIG_ROW_CUSTOM("mechanisms", &mechanisms, "all but CRAM-MD5",
                      "`[PLAIN, LOGIN, SCRAM-SHA-256, EXTERNAL, OAUTHBEARER, XOAUTH2, "
                      "CRAM-MD5]`; CRAM-MD5 only when listed (see auth.md for why)"),
    CONFIG_ROW_BOOL("plaintext_on_loopback", struct auth_config, plaintext_loopback,
                    false, "AUTH without TLS from 127.0.0.0/8 and ::1"),
    CONFIG_ROW_ENUM("sender_check", struct auth_config, sender_check, sender_checks,
                    SENDER_CHECK_OWNED,
                    "MAIL FROM of an authenticated user: its own addresses, aliases "
                    "and delegations (`553 5.7.1` otherwise), or `none`"),
    CONFIG_ROW_SECTION("password_hash", struct auth_config, password,
                       &password_hash_section, "argon2id cost of new hashes"),
    CONFIG_ROW_UINT("scram_iterations", struct auth_config, password.scram_iterations,
                    4096, 4096, 1000000,
                    "PBKDF2 rounds of SCRAM-SHA-256 keys (RFC 7677 minimum)"),
    CONFIG_ROW_UINT("threads", struct auth_config, threads, 2, 1, 64,
                    "requests each worker has out to the auth process at once; the "
                    "auth process hashes on as many threads, at least one per core"),
    {.name = "failures",
     .type = CONFIG_SECTION,
     .offset = 0,
     .section = &failures_section,
     .help = "answer failed logins late, then lock the IP or the name out"},
    {.name = "cache",
     .type = CONFIG_SECTION,
     .offset = 0,
     .section = &cache_section,
     .help = "verified passwords remembered, as Dovecot's auth_cache"},
    {.name = "oauth",
     .type = CONFIG_SECTION,
     .offset = 0,
     .section = &oauth_section,
     .help = "JWT bearer tokens for OAUTHBEARER and XOAUTH2 (RFC 7628)"},
    {.name = "certificate_users",
     .type = CONFIG_CUSTOM,
     .custom = &certificate_users,
     .items = &certificate_user_section,
     .shown_default = "`[]`",
     .help = "client certificates mapped to users for EXTERNAL; without one, the "
             "certificate's e-mail address"},
    {0},
};

const struct config_section config_auth_section = {"auth", auth_keys, check_auth};

void config_auth_finish(struct auth_config *a, const char *home)
{
	if (a->dsn == NULL) {
		struct buf path = BUF_INIT;
		buf_appendf(&path, "%s/db/users.sqlite", home);
		a->dsn = xstrdup(path.data);
		buf_free(&path);
	}
}
