/*
 * config_auth.c — the `auth:` section: user database, SASL mechanisms,
 * password costs, brute-force defence, OAuth tokens and the mapping of
 * client certificates to users.
 */
#include "lib/config_auth.h"

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

void config_auth_defaults(struct auth_config *a)
{
	*a = (struct auth_config){
	    .backend = AUTH_BACKEND_SQLITE,
	    /* CRAM-MD5 only when listed: it needs a password-equivalent key
	     * on the server and proves nothing about the channel. */
	    .mechanisms = MECH_PLAIN | MECH_LOGIN | MECH_SCRAM_SHA_256 | MECH_EXTERNAL |
	                  MECH_OAUTHBEARER | MECH_XOAUTH2,
	    .sender_check = SENDER_CHECK_OWNED,
	    /* OWASP's argon2id minimum (m=19 MiB, t=2, p=1); see docs/auth.md
	     * and bench/auth for what it costs per login. */
	    .password = {.argon2_passes = 2,
	                 .argon2_memory_kib = 19 * 1024,
	                 .scram_iterations = 4096},
	    .threads = 2,
	    .failure_delay_ms = 500,
	    .failure_max_delay_ms = 15000,
	    .lockout_after_ip = 10,
	    .lockout_after_user = 20,
	    .lockout_seconds = 900,
	    .failure_window = 900,
	};
}

static int load_mechanisms(struct loader *ld, struct fy_node *node, struct auth_config *a)
{
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

static int handle_password_hash(struct loader *ld, const char *key, struct fy_node *v,
                                void *ctx)
{
	struct password_config *p = ctx;
	if (strcmp(key, "passes") == 0)
		return loader_known(loader_uint(ld, v, 1, 100, &p->argon2_passes));
	if (strcmp(key, "memory_kib") == 0)
		return loader_known(
		    loader_uint(ld, v, 8, 4 * 1024 * 1024, &p->argon2_memory_kib));
	return 0;
}

static int handle_failures(struct loader *ld, const char *key, struct fy_node *v,
                           void *ctx)
{
	struct auth_config *a = ctx;
	if (strcmp(key, "delay_ms") == 0)
		return loader_known(loader_uint(ld, v, 0, 60000, &a->failure_delay_ms));
	if (strcmp(key, "max_delay_ms") == 0)
		return loader_known(
		    loader_uint(ld, v, 0, 300000, &a->failure_max_delay_ms));
	if (strcmp(key, "lockout_after_ip") == 0)
		return loader_known(loader_uint(ld, v, 0, 100000, &a->lockout_after_ip));
	if (strcmp(key, "lockout_after_user") == 0)
		return loader_known(
		    loader_uint(ld, v, 0, 100000, &a->lockout_after_user));
	if (strcmp(key, "lockout") == 0)
		return loader_known(
		    loader_duration(ld, v, 1, 86400, &a->lockout_seconds));
	if (strcmp(key, "window") == 0)
		return loader_known(loader_duration(ld, v, 1, 86400, &a->failure_window));
	return 0;
}

static int handle_oauth(struct loader *ld, const char *key, struct fy_node *v, void *ctx)
{
	struct auth_config *a = ctx;
	if (strcmp(key, "public_key") == 0)
		return loader_known(loader_string(ld, v, &a->oauth_public_key));
	if (strcmp(key, "issuer") == 0)
		return loader_known(loader_string(ld, v, &a->oauth_issuer));
	if (strcmp(key, "audience") == 0)
		return loader_known(loader_string(ld, v, &a->oauth_audience));
	if (strcmp(key, "user_claim") == 0)
		return loader_known(loader_string(ld, v, &a->oauth_user_claim));
	return 0;
}

static int handle_certificate_user(struct loader *ld, const char *key, struct fy_node *v,
                                   void *ctx)
{
	struct certificate_user *u = ctx;
	if (strcmp(key, "fingerprint") == 0) {
		if (loader_string(ld, v, &u->fingerprint) < 0)
			return -1;
		/* "AB:CD:..." as openssl prints it, or plain hex. */
		char *w = u->fingerprint;
		for (const char *r = u->fingerprint; *r; r++) {
			char c = *r;
			if (c == ':')
				continue;
			if (c >= 'A' && c <= 'F')
				c = (char)(c - 'A' + 'a');
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return loader_fail(ld, v,
				                   "a fingerprint is SHA-256 in hex");
			*w++ = c;
		}
		*w = '\0';
		if (strlen(u->fingerprint) != 64)
			return loader_fail(ld, v,
			                   "a SHA-256 fingerprint has 64 hex digits");
		return 1;
	}
	if (strcmp(key, "subject") == 0)
		return loader_known(loader_string(ld, v, &u->subject));
	if (strcmp(key, "user") == 0)
		return loader_known(loader_string(ld, v, &u->user));
	return 0;
}

static int load_certificate_users(struct loader *ld, struct fy_node *node,
                                  struct auth_config *a)
{
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
		if (loader_mapping(ld, item, "a certificate user",
		                   "fingerprint, subject, user", handle_certificate_user,
		                   u) < 0)
			return -1;
		if (u->user == NULL || (u->fingerprint == NULL) == (u->subject == NULL))
			return loader_fail(ld, item,
			                   "a certificate user needs `user` and one of "
			                   "`fingerprint` or `subject`");
	}
	return 0;
}

static int handle_auth(struct loader *ld, const char *key, struct fy_node *v, void *ctx)
{
	struct auth_config *a = ctx;
	int choice;
	if (strcmp(key, "backend") == 0) {
		static const char *const backends[] = {"sqlite", "postgres", NULL};
		if (loader_enum(ld, v, backends, &choice) < 0)
			return -1;
		a->backend = (enum auth_backend)choice;
		return 1;
	}
	if (strcmp(key, "dsn") == 0)
		return loader_known(loader_string(ld, v, &a->dsn));
	if (strcmp(key, "mechanisms") == 0)
		return loader_known(load_mechanisms(ld, v, a));
	if (strcmp(key, "plaintext_on_loopback") == 0)
		return loader_known(loader_bool(ld, v, &a->plaintext_loopback));
	if (strcmp(key, "sender_check") == 0) {
		static const char *const checks[] = {"owned", "none", NULL};
		if (loader_enum(ld, v, checks, &choice) < 0)
			return -1;
		a->sender_check = (enum sender_check)choice;
		return 1;
	}
	if (strcmp(key, "password_hash") == 0)
		return loader_known(loader_mapping(ld, v, "auth.password_hash",
		                                   "passes, memory_kib",
		                                   handle_password_hash, &a->password));
	if (strcmp(key, "scram_iterations") == 0)
		return loader_known(
		    loader_uint(ld, v, 4096, 1000000, &a->password.scram_iterations));
	if (strcmp(key, "threads") == 0)
		return loader_known(loader_uint(ld, v, 1, 64, &a->threads));
	if (strcmp(key, "failures") == 0)
		return loader_known(loader_mapping(
		    ld, v, "auth.failures",
		    "delay_ms, max_delay_ms, lockout_after_ip, lockout_after_user, "
		    "lockout, window",
		    handle_failures, a));
	if (strcmp(key, "oauth") == 0)
		return loader_known(loader_mapping(
		    ld, v, "auth.oauth", "public_key, issuer, audience, user_claim",
		    handle_oauth, a));
	if (strcmp(key, "certificate_users") == 0)
		return loader_known(load_certificate_users(ld, v, a));
	return 0;
}

int config_auth_load(struct loader *ld, struct fy_node *node, struct auth_config *a)
{
	if (loader_mapping(
	        ld, node, "auth",
	        "backend, dsn, mechanisms, plaintext_on_loopback, sender_check, "
	        "password_hash, scram_iterations, threads, failures, oauth, "
	        "certificate_users",
	        handle_auth, a) < 0)
		return -1;
	if (a->backend == AUTH_BACKEND_POSTGRES && a->dsn == NULL)
		return loader_fail(ld, node, "auth: backend postgres needs a dsn");
	if (a->oauth_public_key && (a->oauth_issuer == NULL || a->oauth_audience == NULL))
		return loader_fail(
		    ld, node, "auth.oauth needs issuer and audience with public_key");
	return 0;
}

void config_auth_finish(struct auth_config *a, const char *home)
{
	if (a->dsn == NULL) {
		struct buf path = BUF_INIT;
		buf_appendf(&path, "%s/db/users.sqlite", home);
		a->dsn = xstrdup(path.data);
		buf_free(&path);
	}
	if (a->oauth_user_claim == NULL)
		a->oauth_user_claim = xstrdup("email");
}

void config_auth_free(struct auth_config *a)
{
	free(a->dsn);
	free(a->oauth_public_key);
	free(a->oauth_issuer);
	free(a->oauth_audience);
	free(a->oauth_user_claim);
	for (size_t i = 0; i < a->certificate_user_count; i++) {
		free(a->certificate_users[i].fingerprint);
		free(a->certificate_users[i].subject);
		free(a->certificate_users[i].user);
	}
	free(a->certificate_users);
}

/* Postgres connection strings may carry a password: never shown. */
static void print_dsn(FILE *out, const struct auth_config *a)
{
	if (a->backend == AUTH_BACKEND_POSTGRES && strstr(a->dsn, "password"))
		fprintf(out, "\"(not shown: it holds a password)\"");
	else
		config_print_string(out, a->dsn);
}

void config_auth_print(FILE *out, const struct auth_config *a)
{
	fprintf(out, "auth:\n  backend: %s\n  dsn: ",
	        a->backend == AUTH_BACKEND_SQLITE ? "sqlite" : "postgres");
	print_dsn(out, a);
	fprintf(out, "\n  mechanisms: [");
	const char *sep = "";
	for (unsigned i = 0; i < MECH_COUNT; i++)
		if (a->mechanisms & (1u << i)) {
			fprintf(out, "%s%s", sep, mechanism_names[i]);
			sep = ", ";
		}
	fprintf(out,
	        "]\n  plaintext_on_loopback: %s\n  sender_check: %s\n"
	        "  password_hash: {passes: %u, memory_kib: %u}\n  scram_iterations: %u\n"
	        "  threads: %u\n  failures: {delay_ms: %u, max_delay_ms: %u, "
	        "lockout_after_ip: %u, lockout_after_user: %u, lockout: %us, window: "
	        "%us}\n",
	        a->plaintext_loopback ? "true" : "false",
	        a->sender_check == SENDER_CHECK_OWNED ? "owned" : "none",
	        a->password.argon2_passes, a->password.argon2_memory_kib,
	        a->password.scram_iterations, a->threads, a->failure_delay_ms,
	        a->failure_max_delay_ms, a->lockout_after_ip, a->lockout_after_user,
	        a->lockout_seconds, a->failure_window);
	if (a->oauth_public_key) {
		fprintf(out, "  oauth:\n    public_key: ");
		config_print_string(out, a->oauth_public_key);
		fprintf(out, "\n    issuer: ");
		config_print_string(out, a->oauth_issuer);
		fprintf(out, "\n    audience: ");
		config_print_string(out, a->oauth_audience);
		fprintf(out, "\n    user_claim: ");
		config_print_string(out, a->oauth_user_claim);
		fprintf(out, "\n");
	}
	fprintf(out, "  certificate_users:%s\n", a->certificate_user_count ? "" : " []");
	for (size_t i = 0; i < a->certificate_user_count; i++) {
		const struct certificate_user *u = &a->certificate_users[i];
		fprintf(out, "    - {%s: ", u->fingerprint ? "fingerprint" : "subject");
		config_print_string(out, u->fingerprint ? u->fingerprint : u->subject);
		fprintf(out, ", user: ");
		config_print_string(out, u->user);
		fprintf(out, "}\n");
	}
}
