/*
 * config_domains.c — what mail petrel takes: `domains` (local, delivered
 * to Maildirs), `users` and `aliases` seeded into the user database, `relay_domains`
 * (accepted from anyone and forwarded) and `relay_networks` (clients that
 * may relay without logging in).
 */
#include "lib/config_sections.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "proto/smtp_addr.h"

/* A list of domain names, lower-cased. */
static int read_domain_list(struct loader *ld, struct fy_node *node, const char *what,
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

static int read_domains(struct loader *ld, struct fy_node *node, void *base)
{
	struct config *c = base;
	return read_domain_list(ld, node, "domains", &c->domains, &c->domain_count);
}

static void print_domains(FILE *out, const void *base, int indent)
{
	(void)indent;
	const struct config *c = base;
	config_print_string_list(out, c->domains, c->domain_count);
	fputc('\n', out);
}

static void free_domains(void *base)
{
	struct config *c = base;
	config_free_string_list(&c->domains, &c->domain_count);
}

const struct config_custom config_domains_custom = {read_domains, print_domains,
                                                    free_domains, NULL};

static int read_relay_domains(struct loader *ld, struct fy_node *node, void *base)
{
	struct config *c = base;
	return read_domain_list(ld, node, "relay_domains", &c->relay_domains,
	                        &c->relay_domain_count);
}

static void print_relay_domains(FILE *out, const void *base, int indent)
{
	(void)indent;
	const struct config *c = base;
	config_print_string_list(out, c->relay_domains, c->relay_domain_count);
	fputc('\n', out);
}

static void free_relay_domains(void *base)
{
	struct config *c = base;
	config_free_string_list(&c->relay_domains, &c->relay_domain_count);
}

const struct config_custom config_relay_domains_custom = {
    read_relay_domains, print_relay_domains, free_relay_domains, NULL};

static int read_relay_networks(struct loader *ld, struct fy_node *node, void *base)
{
	struct config *c = base;
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

static void print_relay_networks(FILE *out, const void *base, int indent)
{
	(void)indent;
	const struct config *c = base;
	fprintf(out, " [");
	for (size_t i = 0; i < c->relay_network_count; i++) {
		char text[64];
		cidr_format(&c->relay_networks[i], text, sizeof(text));
		fprintf(out, "%s\"%s\"", i ? ", " : "", text);
	}
	fprintf(out, "]\n");
}

static void free_relay_networks(void *base)
{
	struct config *c = base;
	x_free(&c->relay_networks);
	c->relay_network_count = 0;
}

const struct config_custom config_relay_networks_custom = {
    read_relay_networks, print_relay_networks, free_relay_networks, NULL};

/* --- users --------------------------------------------------------------- */

static int read_user_address(struct loader *ld, struct fy_node *node, void *base)
{
	struct user_config *u = base;
	if (loader_string(ld, node, &u->address) < 0)
		return -1;
	/* A configured address must itself be a valid, plain SMTP mailbox. */
	struct smtp_addr parsed;
	const char *error;
	if (smtp_addr_mailbox_check(u->address, strlen(u->address), &parsed, &error) < 0)
		return loader_fail(ld, node, "'%s': %s", u->address, error);
	for (char *p = u->address; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

static void print_user_address(FILE *out, const void *base, int indent)
{
	(void)indent;
	fputc(' ', out);
	config_print_string(out, ((const struct user_config *)base)->address);
	fputc('\n', out);
}

static void free_user_address(void *base)
{
	x_free(&((struct user_config *)base)->address);
}

static const struct config_custom user_address = {read_user_address, print_user_address,
                                                  free_user_address, NULL};

/* The password schemes the user database takes (auth/password.h); the
 * hash itself is checked when it is seeded. */
static const char *const password_schemes[] = {
    "{ARGON2ID}", "{SHA512-CRYPT}", "{BLF-CRYPT}", "{PLAIN}", "{CLEAR}", NULL};

static int check_password_scheme(struct loader *ld, struct fy_node *node,
                                 const char *password)
{
	if (password[0] != '{')
		return 0;
	for (const char *const *s = password_schemes; *s; s++)
		if (strncmp(password, *s, strlen(*s)) == 0)
			return 0;
	const char *close = strchr(password, '}');
	return loader_fail(ld, node,
	                   "unsupported password scheme '%.*s' (ARGON2ID, SHA512-CRYPT, "
	                   "BLF-CRYPT, or PLAIN for a password in plain text)",
	                   close ? (int)(close - password + 1) : 12, password);
}

/* The first line of the file, without its line end. */
static int read_password_file(struct loader *ld, struct fy_node *node,
                              struct user_config *u)
{
	FILE *f = fopen(u->password_file, "r");
	if (f == NULL)
		return loader_fail(ld, node, "password_file %s: %s", u->password_file,
		                   strerror(errno));
	char line[4096];
	bool read = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	size_t len = read ? strcspn(line, "\r\n") : 0;
	line[len] = '\0';
	if (len == 0)
		return loader_fail(ld, node, "password_file %s: empty first line",
		                   u->password_file);
	u->password = xstrdup(line);
	explicit_bzero(line, sizeof(line));
	return 0;
}

static int check_user(struct loader *ld, struct fy_node *node, void *base)
{
	struct user_config *u = base;
	if (u->address == NULL)
		return loader_fail(ld, node, "a user needs an address");
	if (u->password && u->password_file)
		return loader_fail(ld, node, "%s: password or password_file, not both",
		                   u->address);
	if (u->password_file && read_password_file(ld, node, u) < 0)
		return -1;
	return u->password ? check_password_scheme(ld, node, u->password) : 0;
}

static const struct config_key user_keys[] = {
    CONFIG_ROW_CUSTOM("address", &user_address, "none (required)", "the user's address"),
    {.name = "password",
     .type = CONFIG_STRING,
     .offset = offsetof(struct user_config, password),
     .secret = 1,
     .help = "a hash, `{ARGON2ID}...`, `{SHA512-CRYPT}...`, `{BLF-CRYPT}...` or a crypt "
             "string (`$6$...`, `$2y$...`, `$argon2id$...`); anything else is the "
             "password in plain text; none: set it with `petrel user passwd`"},
    CONFIG_ROW_STRING("password_file", struct user_config, password_file, NULL,
                      "a file whose first line is the password, in the same forms"),
    {0},
};

const struct config_section config_user_section = {"a user", user_keys, check_user};

static int read_users(struct loader *ld, struct fy_node *node, void *base)
{
	struct config *c = base;
	if (loader_sequence(ld, node, "users") < 0)
		return -1;
	size_t cap = 0;
	void *iter = NULL;
	struct fy_node *item;
	while ((item = fy_node_sequence_iterate(node, &iter)) != NULL) {
		xgrow((void **)&c->users, &cap, c->user_count + 1, sizeof(*c->users));
		struct user_config *u = &c->users[c->user_count++];
		memset(u, 0, sizeof(*u));
		if (config_section_load(ld, item, &config_user_section, u) < 0)
			return -1;
	}
	return 0;
}

static void print_users(FILE *out, const void *base, int indent)
{
	const struct config *c = base;
	fprintf(out, "%s\n", c->user_count ? "" : " []");
	for (size_t i = 0; i < c->user_count; i++) {
		config_indent(out, indent + 2);
		fprintf(out, "- {address: ");
		config_print_string(out, c->users[i].address);
		if (c->users[i].password_file) {
			fprintf(out, ", password_file: ");
			config_print_string(out, c->users[i].password_file);
			fprintf(out, "}\n");
		} else
			fprintf(out, ", password: %s}\n",
			        c->users[i].password ? "(set)" : "(none)");
	}
}

static void free_users(void *base)
{
	struct config *c = base;
	for (size_t i = 0; i < c->user_count; i++)
		config_section_free(&config_user_section, &c->users[i]);
	x_free(&c->users);
	c->user_count = 0;
}

const struct config_custom config_users_custom = {read_users, print_users, free_users,
                                                  NULL};

/* --- aliases ------------------------------------------------------------- */

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* A mailbox ("local@domain"), or with catch_all "@domain" too. */
static int read_alias_address(struct loader *ld, struct fy_node *node, bool catch_all,
                              char **out)
{
	if (loader_string(ld, node, out) < 0)
		return -1;
	char *text = *out;
	struct smtp_addr parsed;
	const char *error;
	if (catch_all && text[0] == '@') {
		char probe[SMTP_PATH_MAX + 8];
		snprintf(probe, sizeof(probe), "x%s", text);
		if (smtp_addr_mailbox_check(probe, strlen(probe), &parsed, &error) < 0)
			return loader_fail(ld, node, "'%s' is not @domain", text);
	} else if (smtp_addr_mailbox_check(text, strlen(text), &parsed, &error) < 0)
		return loader_fail(ld, node, "'%s': %s", text, error);
	lower(text);
	return 0;
}

static int read_aliases(struct loader *ld, struct fy_node *node, void *base)
{
	struct config *c = base;
	if (!fy_node_is_mapping(node))
		return loader_fail(
		    ld, node,
		    "expected a mapping of address: target or [targets] for "
		    "aliases");
	size_t cap = 0;
	void *iter = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(node, &iter)) != NULL) {
		xgrow((void **)&c->aliases, &cap, c->alias_count + 1,
		      sizeof(*c->aliases));
		struct alias_config *a = &c->aliases[c->alias_count++];
		memset(a, 0, sizeof(*a));
		if (read_alias_address(ld, fy_node_pair_key(pair), true, &a->address) < 0)
			return -1;
		struct fy_node *value = fy_node_pair_value(pair);
		size_t target_cap = 0;
		if (value && fy_node_is_scalar(value)) {
			a->targets = xcalloc(1, sizeof(*a->targets));
			a->target_count = 1;
			if (read_alias_address(ld, value, false, &a->targets[0]) < 0)
				return -1;
			continue;
		}
		if (loader_sequence(ld, value, "an alias's targets") < 0)
			return -1;
		void *titer = NULL;
		struct fy_node *item;
		while ((item = fy_node_sequence_iterate(value, &titer)) != NULL) {
			xgrow((void **)&a->targets, &target_cap, a->target_count + 1,
			      sizeof(*a->targets));
			char **t = &a->targets[a->target_count++];
			*t = NULL;
			if (read_alias_address(ld, item, false, t) < 0)
				return -1;
		}
		if (a->target_count == 0)
			return loader_fail(ld, value, "alias %s has no target",
			                   a->address);
	}
	return 0;
}

static void print_aliases(FILE *out, const void *base, int indent)
{
	const struct config *c = base;
	fprintf(out, "%s\n", c->alias_count ? "" : " {}");
	for (size_t i = 0; i < c->alias_count; i++) {
		config_indent(out, indent + 2);
		config_print_string(out, c->aliases[i].address);
		fputc(':', out);
		config_print_string_list(out, c->aliases[i].targets,
		                         c->aliases[i].target_count);
		fputc('\n', out);
	}
}

static void free_aliases(void *base)
{
	struct config *c = base;
	for (size_t i = 0; i < c->alias_count; i++) {
		free(c->aliases[i].address);
		config_free_string_list(&c->aliases[i].targets,
		                        &c->aliases[i].target_count);
	}
	x_free(&c->aliases);
	c->alias_count = 0;
}

const struct config_custom config_aliases_custom = {read_aliases, print_aliases,
                                                    free_aliases, NULL};
