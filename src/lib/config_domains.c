/*
 * config_domains.c — what mail petrel takes: `domains` (local, delivered
 * to Maildirs), `users` seeded into the user database, `relay_domains`
 * (accepted from anyone and forwarded) and `relay_networks` (clients that
 * may relay without logging in).
 */
#include "lib/config_sections.h"

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

static int check_user(struct loader *ld, struct fy_node *node, void *base)
{
	if (((struct user_config *)base)->address == NULL)
		return loader_fail(ld, node, "a user needs an address");
	return 0;
}

static const struct config_key user_keys[] = {
    CONFIG_ROW_CUSTOM("address", &user_address, "none (required)", "the user's address"),
    {.name = "password",
     .type = CONFIG_STRING,
     .offset = offsetof(struct user_config, password),
     .secret = 1,
     .help = "the password, in plain text (or set it with `petrel user passwd`)"},
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
