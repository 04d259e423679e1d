/*
 * config.c — the YAML configuration loader (see config.h): the top-level
 * table, which names each section's table (config_<section>.c), and the
 * parsing of the file itself.
 *
 * Each mapping is checked against the table of the keys it may hold, so
 * an unknown or misspelt key is an error with its position rather than a
 * silently ignored line.
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
#include "lib/config_sections.h"
#include "lib/error.h"
#include "lib/xalloc.h"

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
    "  - {protocol: submission, address: \"127.0.0.1:2465\", tls: implicit}\n"
    "  - {protocol: imap, address: \"127.0.0.1:1143\", tls: starttls}\n"
    "  - {protocol: imap, address: \"127.0.0.1:1993\", tls: implicit}\n"
    "  - {protocol: pop3, address: \"127.0.0.1:1110\", tls: starttls}\n"
    "  - {protocol: pop3, address: \"127.0.0.1:1995\", tls: implicit}\n"
    "  - {protocol: lmtp, address: \"unix:run/lmtp.sock\"}\n"
    "  - {protocol: http, address: \"127.0.0.1:2580\"}\n";

/* Loaded in this order: listeners start from the global limits. */
static const struct config_key top_keys[] = {
    {.name = "hostname",
     .type = CONFIG_STRING,
     .offset = offsetof(struct config, hostname),
     .shown_default = "the system host name",
     .help = "name in the banner, EHLO reply, Received, certificate CN"},
    CONFIG_ROW_STRING("home", struct config, home, "./var",
                      "state directory; `--home DIR` and `$PETREL_HOME` override it "
                      "(in that order)"),
    CONFIG_ROW_STRING("user", struct config, run_as, "nobody",
                      "account the queue and workers run as when started as root"),
    CONFIG_ROW_UINT("workers", struct config, workers, 1, 0, 256,
                    "SMTP worker processes; `0` means one per core"),
    CONFIG_ROW_SECTION("log", struct config, log, &config_log_section, "logging"),
    CONFIG_ROW_CUSTOM("domains", &config_domains_custom, "`[]`",
                      "local domains: mail for them is delivered to Maildirs"),
    {.name = "users",
     .type = CONFIG_CUSTOM,
     .custom = &config_users_custom,
     .items = &config_user_section,
     .shown_default = "`[]`",
     .help = "seeded into the user database at start and reload ([auth.md](auth.md))"},
    CONFIG_ROW_CUSTOM("aliases", &config_aliases_custom, "`{}`",
                      "`address: target` or `address: [targets]` (`\"@domain\"`: a "
                      "catch-all), seeded into the user database at start and reload"),
    CONFIG_ROW_SECTION("limits", struct config, limits, &config_limits_section, "limits"),
    /* before listen: a listener's client_certificates needs its client_ca */
    CONFIG_ROW_SECTION("tls", struct config, tls, &config_tls_section, "TLS files"),
    {.name = "listen",
     .type = CONFIG_CUSTOM,
     .custom = &config_listen_custom,
     .items = &config_listener_section,
     .shown_default = "see below",
     .help = "the listeners, each a mapping with the keys below"},
    CONFIG_ROW_SECTION("auth", struct config, auth, &config_auth_section,
                       "users and SASL"),
    CONFIG_ROW_CUSTOM("relay_networks", &config_relay_networks_custom, "`[]`",
                      "CIDRs that may relay without authentication (Postfix's "
                      "mynetworks)"),
    CONFIG_ROW_CUSTOM("relay_domains", &config_relay_domains_custom, "`[]`",
                      "domains accepted from anyone and forwarded (backup MX, "
                      "gateway); exact names"),
    {.name = "routes",
     .type = CONFIG_CUSTOM,
     .custom = &config_routes_custom,
     .items = &config_route_section,
     .items_path = ".DOMAIN",
     .shown_default = "`{}`",
     .help = "`domain: \"[host]:port\"` fixed next hop (brackets: that host; without: "
             "its MX); `.parent` matches subdomains, `\"*\"` is the default "
             "(smarthost); the long form `domain: {...}` takes the keys below"},
    CONFIG_ROW_SECTION("dns", struct config, dns, &config_dns_section, "the resolver"),
    CONFIG_ROW_SECTION("delivery", struct config, delivery, &config_delivery_section,
                       "the SMTP client"),
    CONFIG_ROW_SECTION("queue", struct config, queue, &config_queue_section,
                       "retries and notices"),
    {0},
};

const struct config_section config_top_section = {"the configuration", top_keys, NULL};

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

/* True when the text holds no YAML node: only blanks, comments and
 * document markers. libfyaml has no document to give then, and an empty
 * file is likelier a mistake (a wrong path, a truncated copy) than a
 * wish for every default. */
static bool holds_nothing(const char *yaml, size_t len)
{
	const char *p = yaml, *end = yaml + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol ? eol : end;
		while (p < line_end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		size_t rest = (size_t)(line_end - p);
		bool marker =
		    (rest >= 3 && (memcmp(p, "---", 3) == 0 || memcmp(p, "...", 3) == 0));
		if (p < line_end && *p != '#' && !marker)
			return false;
		p = eol ? eol + 1 : end;
	}
	return true;
}

/* libfyaml 0.7 formats its diagnostics as "<memory-@0x...>:L:C: error:
 * message" for a document parsed from memory: the position is taken
 * from there and the file's own name put in front. */
static const char *syntax_error(const char *source, const char *diag)
{
	const char *p = strstr(diag, ">:");
	unsigned line, column;
	int used = 0;
	if (p && sscanf(p + 2, "%u:%u: %n", &line, &column, &used) == 2 && used > 0) {
		const char *message = p + 2 + used;
		if (strncmp(message, "error: ", 7) == 0)
			message += 7;
		return error_fmt("%s:%u:%u: invalid YAML: %.*s", source, line, column,
		                 (int)strcspn(message, "\n"), message);
	}
	return error_fmt("%s: invalid YAML: %.*s", source, (int)strcspn(diag, "\n"),
	                 diag);
}

struct config *config_load_string(const char *source, const char *yaml, size_t len,
                                  const char *home_override, const char **error_r)
{
	if (holds_nothing(yaml, len)) {
		*error_r =
		    error_fmt("%s:1:1: the file holds no settings (it is empty or only "
		              "comments)",
		              source);
		return NULL;
	}
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
			ld.error = error_fmt("%s:%d:%d: invalid YAML: %s", source,
			                     e->line + 1, e->column + 1, e->msg);
		else
			ld.error = syntax_error(source, buf_cstr(&diag_text));
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	config_section_defaults(&config_top_section, c);
	c->source = xstrdup(source);
	struct fy_node *root = fy_document_root(doc);
	if (root != NULL && config_section_load(&ld, root, &config_top_section, c) < 0) {
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

void config_free(struct config **config)
{
	struct config *c = *config;
	if (c == NULL)
		return;
	free(c->source);
	config_section_free(&config_top_section, c);
	x_free(config);
}

static void forget(char **secret)
{
	if (*secret) {
		explicit_bzero(*secret, strlen(*secret));
		x_free(secret);
	}
}

void config_forget_secrets(struct config *c, bool keep_routes)
{
	for (size_t i = 0; i < c->user_count; i++)
		forget(&c->users[i].password);
	if (c->auth.backend == AUTH_BACKEND_POSTGRES)
		forget(&c->auth.dsn); /* a libpq string may hold a password */
	for (size_t i = 0; !keep_routes && i < c->route_count; i++)
		forget(&c->routes[i].auth.password);
}

void config_print(const struct config *c, FILE *out)
{
	fprintf(out, "# effective configuration, from %s\n", c->source);
	config_section_print(out, &config_top_section, c, 0);
}

const char *tls_policy_name(enum tls_policy policy)
{
	return tls_policy_names[policy];
}

const char *client_cert_mode_name(enum client_cert_mode mode)
{
	return client_cert_mode_names[mode];
}

const char *listen_protocol_name(enum listen_protocol protocol)
{
	return listen_protocol_names[protocol];
}

const char *tls_mode_name(enum tls_mode mode)
{
	return tls_mode_names[mode];
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
