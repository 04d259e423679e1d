/*
 * route.c — routing decision per recipient domain (see route.h).
 */
#include "mta/route.h"

#include <string.h>
#include <strings.h>

/* The routes entry for domain: exact, then the longest ".parent". */
static const struct route_config *find_route(const struct config *c, const char *domain)
{
	const struct route_config *best = NULL, *fallback = NULL;
	size_t best_len = 0, len = strlen(domain);
	for (size_t i = 0; i < c->route_count; i++) {
		const struct route_config *r = &c->routes[i];
		size_t rlen = strlen(r->domain);
		if (strcmp(r->domain, "*") == 0) {
			fallback = r;
		} else if (strcasecmp(r->domain, domain) == 0) {
			return r;
		} else if (r->domain[0] == '.' && len > rlen &&
		           strcasecmp(domain + len - rlen, r->domain) == 0 &&
		           rlen > best_len) {
			best = r;
			best_len = rlen;
		}
	}
	return best ? best : fallback;
}

void route_for_domain(const struct config *c, const char *domain, bool local,
                      struct route *route)
{
	memset(route, 0, sizeof(*route));
	if (domain[0] == '[') {
		/* An address literal (RFC 5321 4.1.3): that host, no DNS. */
		route->kind = ROUTE_NEXT_HOP;
		route->host = domain;
		route->port = c->delivery.remote_port;
		return;
	}
	if (local) {
		route->kind = ROUTE_LOCAL;
		return;
	}
	const struct route_config *r = find_route(c, domain);
	if (r) {
		route->kind = ROUTE_NEXT_HOP;
		route->host = r->host;
		route->port = r->port ? r->port : c->delivery.remote_port;
		route->mx_lookup = r->mx_lookup;
		route->auth = r->auth.user ? &r->auth : NULL;
		return;
	}
	route->kind = ROUTE_MX;
	route->host = domain;
	route->port = c->delivery.remote_port;
	route->mx_lookup = true;
}
