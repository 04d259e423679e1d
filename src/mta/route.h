/*
 * route.h — where mail for a domain goes (pure: no DNS, no sockets).
 *
 *   local domain                 -> local delivery (Maildir)
 *   routes: exact domain         -> that next hop
 *   routes: ".parent" entries    -> next hop for subdomains (longest match)
 *   routes: "*"                  -> the default next hop (a smarthost)
 *   otherwise                    -> the domain's MX (RFC 5321 5.1, mx_plan)
 *
 * relay_domains decide who may send to a domain (smtpd), not where it goes.
 */
#ifndef PETREL_ROUTE_H
#define PETREL_ROUTE_H

#include <stdbool.h>

#include "lib/config.h"

enum route_kind { ROUTE_LOCAL, ROUTE_NEXT_HOP, ROUTE_MX };

struct route {
	enum route_kind kind;
	const char *host; /* NEXT_HOP: the configured host; MX: the domain */
	unsigned port;
	bool mx_lookup; /* look up host's MX ("host:port"), or use it as is ("[host]") */
	const struct route_auth *auth; /* log in to the next hop; NULL: no AUTH */
};

/* local: the domain is one of ours (YAML `domains` or the user
 * database), which the caller looked up. */
void route_for_domain(const struct config *config, const char *domain, bool local,
                      struct route *route);

#endif
