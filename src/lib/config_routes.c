/*
 * config_routes.c — `routes:`, fixed next hops per destination domain
 * (Postfix's transport map): `domain: "[host]:port"`, or the long form
 * {next_hop, auth_user, password | password_file} to log in to a
 * smarthost.
 */
#include "lib/config_sections.h"

#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "lib/xalloc.h"

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

/* The long form, as written; check_route turns it into a route_config. */
struct route_form {
	char *next_hop;
	char *auth_user;
	char *password;
	char *password_file;
};

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
		explicit_bzero(data, len);
		free(data);
		return loader_fail(
		    ld, node, "password_file %s: no password on its first line", path);
	}
	*password_r = xstrndup(data, line);
	explicit_bzero(data, len);
	free(data);
	return 0;
}

static int check_route(struct loader *ld, struct fy_node *node, void *base)
{
	struct route_form *f = base;
	if (f->next_hop == NULL)
		return loader_fail(ld, node, "a route needs a next_hop");
	if (f->password_file && f->password)
		return loader_fail(ld, node, "password or password_file, not both");
	if (f->password_file &&
	    read_password_file(ld, node, f->password_file, &f->password) < 0)
		return -1;
	if ((f->auth_user == NULL) != (f->password == NULL))
		return loader_fail(ld, node, "auth_user and a password go together");
	if (f->auth_user && (f->auth_user[0] == '\0' || f->password[0] == '\0'))
		return loader_fail(ld, node, "empty auth_user or password");
	return 0;
}

static const struct config_key route_keys[] = {
    CONFIG_ROW_STRING("next_hop", struct route_form, next_hop, NULL,
                      "`\"[host]:port\"` (that host) or `\"host:port\"` (its MX)"),
    CONFIG_ROW_STRING("auth_user", struct route_form, auth_user, NULL,
                      "user name for AUTH at the next hop"),
    {.name = "password",
     .type = CONFIG_STRING,
     .offset = offsetof(struct route_form, password),
     .secret = 1,
     .help = "its password"},
    CONFIG_ROW_STRING("password_file", struct route_form, password_file, NULL,
                      "or a file whose first line is the password, read at start while "
                      "still root"),
    {0},
};

const struct config_section config_route_section = {"a route", route_keys, check_route};

static int read_route(struct loader *ld, struct fy_node *value, struct route_config *r)
{
	struct route_form form = {0};
	int result = -1;
	if (fy_node_is_mapping(value)) {
		if (config_section_load(ld, value, &config_route_section, &form) < 0)
			goto out;
	} else if (loader_string(ld, value, &form.next_hop) < 0) {
		goto out;
	}
	result = parse_next_hop(ld, value, form.next_hop, r);
	r->auth.user = form.auth_user;
	r->auth.password = form.password;
	form.auth_user = form.password = NULL;
out:
	config_section_free(&config_route_section, &form);
	return result;
}

static int read_routes(struct loader *ld, struct fy_node *node, void *base)
{
	struct config *c = base;
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
		if (read_route(ld, fy_node_pair_value(pair), r) < 0)
			return -1;
	}
	return 0;
}

static void print_routes(FILE *out, const void *base, int indent)
{
	const struct config *c = base;
	fprintf(out, "%s\n", c->route_count ? "" : " {}");
	for (size_t i = 0; i < c->route_count; i++) {
		const struct route_config *r = &c->routes[i];
		config_indent(out, indent + 2);
		config_print_string(out, r->domain);
		fprintf(out, ": %s\"%s%s%s", r->auth.user ? "{next_hop: " : "",
		        r->mx_lookup ? "" : "[", r->host, r->mx_lookup ? "" : "]");
		if (r->port)
			fprintf(out, ":%u", r->port);
		fprintf(out, "\"");
		if (r->auth.user) {
			/* Never the password: this output gets pasted into bug
			 * reports. */
			fprintf(out, ", auth_user: ");
			config_print_string(out, r->auth.user);
			fprintf(out, "}  # password set, not shown");
		}
		fprintf(out, "\n");
	}
}

static void free_routes(void *base)
{
	struct config *c = base;
	for (size_t i = 0; i < c->route_count; i++) {
		struct route_config *r = &c->routes[i];
		free(r->domain);
		free(r->host);
		free(r->auth.user);
		if (r->auth.password) {
			explicit_bzero(r->auth.password, strlen(r->auth.password));
			free(r->auth.password);
		}
	}
	x_free(&c->routes);
	c->route_count = 0;
}

const struct config_custom config_routes_custom = {read_routes, print_routes, free_routes,
                                                   NULL};
