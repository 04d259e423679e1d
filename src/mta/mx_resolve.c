/*
 * mx_resolve.c — route to addresses (see mx_resolve.h).
 */
#include "mta/mx_resolve.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns/dns_status.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mta/mx_plan.h"

#define HOSTS_MAX 10

struct host_lookup {
	struct mx_request *req;
	char name[MX_HOST_MAX + 1];
	unsigned preference;
	struct mta_address found[2][MX_ADDRESSES_MAX]; /* [0] AAAA, [1] A */
	size_t found_count[2];
	int status[2];
};

struct mx_request {
	struct dns_resolver *resolver;
	const struct config *config;
	char *domain; /* what is looked up: the domain or the next hop */
	unsigned port;
	mx_resolve_done *done;
	void *arg;
	struct host_lookup hosts[HOSTS_MAX];
	size_t host_count;
	unsigned pending;
	struct mx_resolution result;
};

static void finish(struct mx_request *req)
{
	req->done(req->arg, &req->result);
	free(req->domain);
	free(req);
}

static void fail(struct mx_request *req, enum rcpt_outcome outcome, const char *dsn,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void fail(struct mx_request *req, enum rcpt_outcome outcome, const char *dsn,
                 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(req->result.diagnostic, sizeof(req->result.diagnostic), fmt, ap);
	va_end(ap);
	req->result.failure = outcome;
	snprintf(req->result.dsn, sizeof(req->result.dsn), "%s", dsn);
	log_msg(L_WARN, "event=route-failed domain=%s dsn=%s error=%s",
	        LOG_Q(req->domain), dsn, LOG_Q(req->result.diagnostic));
	finish(req);
}

/* A literal address: "192.0.2.1", "[192.0.2.1]", "[IPv6:2001:db8::1]". */
static bool parse_literal(const char *host, unsigned port, struct mta_address *out)
{
	char text[MX_HOST_MAX + 1];
	snprintf(text, sizeof(text), "%s", host);
	char *p = text;
	size_t len = strlen(p);
	if (p[0] == '[' && len > 2 && p[len - 1] == ']') {
		p[len - 1] = '\0';
		p++;
		if (strncasecmp(p, "IPv6:", 5) == 0)
			p += 5;
	}
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *in4 = (struct sockaddr_in *)&out->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->addr;
	if (inet_pton(AF_INET, p, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		out->addr_len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, p, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		out->addr_len = sizeof(*in6);
	} else {
		return false;
	}
	snprintf(out->host, sizeof(out->host), "%s", host);
	return true;
}

static void assemble(struct mx_request *req)
{
	struct mx_resolution *res = &req->result;
	bool temporary = false;
	int last_status = DNS_NXDOMAIN;
	for (size_t h = 0; h < req->host_count; h++) {
		struct host_lookup *hl = &req->hosts[h];
		for (int f = 0; f < 2; f++) {
			if (dns_status_is_temporary(hl->status[f]))
				temporary = true;
			if (hl->status[f] != DNS_NOERROR)
				last_status = hl->status[f];
			for (size_t i = 0;
			     i < hl->found_count[f] && res->count < MX_ADDRESSES_MAX; i++)
				res->addrs[res->count++] = hl->found[f][i];
		}
		if (hl->found_count[0] + hl->found_count[1] == 0)
			log_msg(L_WARN, "event=mx-no-address domain=%s host=%s status=%s",
			        LOG_Q(req->domain), LOG_Q(hl->name),
			        dns_status_name(hl->status[1]));
	}
	if (res->count > 0) {
		finish(req);
		return;
	}
	if (temporary)
		fail(req, OUTCOME_TEMP, "4.4.3",
		     "x-petrel; DNS lookup of the mail hosts of %s failed temporarily "
		     "(%s)",
		     req->domain, dns_status_name(last_status));
	else
		fail(req, OUTCOME_PERM, "5.4.4",
		     "x-petrel; no mail host of %s has an address (%s)", req->domain,
		     dns_status_name(last_status));
}

static void on_address(void *arg, const struct dns_result *r, int family_index)
{
	struct host_lookup *hl = arg;
	struct mx_request *req = hl->req;
	hl->status[family_index] = r->status;
	ldns_rr_type want = family_index == 0 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A;
	ldns_rr_list *answer = r->packet ? ldns_pkt_answer(r->packet) : NULL;
	bool alias = false;
	for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); i++) {
		ldns_rr *rr = ldns_rr_list_rr(answer, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME)
			alias = true;
		if (ldns_rr_get_type(rr) != want || ldns_rr_rd_count(rr) < 1 ||
		    hl->found_count[family_index] >= MX_ADDRESSES_MAX)
			continue;
		ldns_rdf *rdf = ldns_rr_rdf(rr, 0);
		struct mta_address *a =
		    &hl->found[family_index][hl->found_count[family_index]];
		memset(a, 0, sizeof(*a));
		if (want == LDNS_RR_TYPE_A && ldns_rdf_size(rdf) == 4) {
			struct sockaddr_in *in4 = (struct sockaddr_in *)&a->addr;
			in4->sin_family = AF_INET;
			in4->sin_port = htons((uint16_t)req->port);
			memcpy(&in4->sin_addr, ldns_rdf_data(rdf), 4);
			a->addr_len = sizeof(*in4);
		} else if (want == LDNS_RR_TYPE_AAAA && ldns_rdf_size(rdf) == 16) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->addr;
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)req->port);
			memcpy(&in6->sin6_addr, ldns_rdf_data(rdf), 16);
			a->addr_len = sizeof(*in6);
		} else {
			continue;
		}
		snprintf(a->host, sizeof(a->host), "%s", hl->name);
		a->preference = hl->preference;
		hl->found_count[family_index]++;
	}
	if (alias && family_index == 1)
		log_msg(
		    L_WARN, "event=mx-is-alias domain=%s host=%s note=%s",
		    LOG_Q(req->domain), LOG_Q(hl->name),
		    LOG_Q(
		        "RFC 2181 10.3: an MX target must not be a CNAME; used anyway"));
	if (--req->pending == 0)
		assemble(req);
}

static void on_aaaa(void *arg, const struct dns_result *r)
{
	on_address(arg, r, 0);
}

static void on_a(void *arg, const struct dns_result *r)
{
	on_address(arg, r, 1);
}

/* Looks up every planned host's addresses, in parallel. */
static void resolve_hosts(struct mx_request *req, const struct mx_record *plan, size_t n)
{
	if (n > HOSTS_MAX)
		n = HOSTS_MAX;
	req->host_count = n;
	req->pending = 1; /* held until every lookup is started */
	for (size_t h = 0; h < n; h++) {
		struct host_lookup *hl = &req->hosts[h];
		hl->req = req;
		snprintf(hl->name, sizeof(hl->name), "%s", plan[h].host);
		hl->preference = plan[h].preference;
		struct mta_address literal;
		if (parse_literal(hl->name, req->port, &literal)) {
			log_msg(L_WARN, "event=mx-is-address domain=%s host=%s note=%s",
			        LOG_Q(req->domain), LOG_Q(hl->name),
			        LOG_Q("RFC 5321 5.1: an MX names a host, not an address; "
			              "used anyway"));
			int f = literal.addr.ss_family == AF_INET6 ? 0 : 1;
			literal.preference = hl->preference;
			hl->found[f][0] = literal;
			hl->found_count[f] = 1;
			continue;
		}
		const char *error;
		req->pending += 2;
		if (dns_lookup(req->resolver, hl->name, LDNS_RR_TYPE_AAAA, on_aaaa, hl,
		               &error) < 0) {
			hl->status[0] = DNS_BADNAME;
			req->pending--;
		}
		if (dns_lookup(req->resolver, hl->name, LDNS_RR_TYPE_A, on_a, hl,
		               &error) < 0) {
			hl->status[1] = DNS_BADNAME;
			req->pending--;
		}
	}
	if (--req->pending == 0)
		assemble(req);
}

static bool is_self(const char *host, void *ctx)
{
	const struct config *config = ctx;
	size_t len = strlen(host);
	if (len > 0 && host[len - 1] == '.')
		len--;
	return strlen(config->hostname) == len &&
	       strncasecmp(config->hostname, host, len) == 0;
}

static uint32_t random_number(void *ctx)
{
	(void)ctx;
	return arc4random();
}

static void on_mx(void *arg, const struct dns_result *r)
{
	struct mx_request *req = arg;
	if (r->status == DNS_NXDOMAIN) {
		fail(req, OUTCOME_PERM, "5.1.2",
		     "x-petrel; domain %s does not exist (NXDOMAIN)", req->domain);
		return;
	}
	if (r->status != DNS_NOERROR && r->status != DNS_NODATA) {
		fail(req, OUTCOME_TEMP, "4.4.3", "x-petrel; MX lookup for %s failed: %s",
		     req->domain, dns_status_name(r->status));
		return;
	}
	struct mx_record records[64];
	size_t count = 0;
	ldns_rr_list *answer = r->packet ? ldns_pkt_answer(r->packet) : NULL;
	for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer) && count < 64;
	     i++) {
		ldns_rr *rr = ldns_rr_list_rr(answer, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_MX || ldns_rr_rd_count(rr) < 2)
			continue;
		records[count].preference = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		char *name = ldns_rdf2str(ldns_rr_rdf(rr, 1));
		size_t len = name ? strlen(name) : 0;
		if (len > 1 && name[len - 1] == '.')
			name[--len] = '\0';
		snprintf(records[count].host, sizeof(records[count].host), "%s",
		         name ? name : "");
		free(name);
		count++;
	}
	struct mx_plan_input input = {
	    .domain = req->domain,
	    .records = records,
	    .count = count,
	    .is_self = is_self,
	    .self_ctx = (void *)req->config,
	    .random = random_number,
	};
	struct mx_record plan[64];
	size_t n;
	switch (mx_plan(&input, plan, &n)) {
	case MX_PLAN_NULL_MX:
		fail(req, OUTCOME_PERM, "5.1.10",
		     "x-petrel; domain %s accepts no mail (null MX, RFC 7505)",
		     req->domain);
		return;
	case MX_PLAN_LOOP:
		fail(req, OUTCOME_PERM, "5.4.6",
		     "x-petrel; mail for %s loops back to myself (%s is its best MX)",
		     req->domain, req->config->hostname);
		return;
	case MX_PLAN_OK:
		break;
	}
	resolve_hosts(req, plan, n);
}

static void start(evutil_socket_t fd, short what, void *arg);

void mx_resolve(struct dns_resolver *resolver, const struct config *config,
                const struct route *route, mx_resolve_done *done, void *arg)
{
	struct mx_request *req = xcalloc(1, sizeof(*req));
	req->resolver = resolver;
	req->config = config;
	req->domain = xstrdup(route->host);
	req->port = route->port;
	req->done = done;
	req->arg = arg;
	const char *error;
	struct mta_address literal;
	if (!route->mx_lookup && parse_literal(route->host, route->port, &literal)) {
		req->result.addrs[0] = literal;
		req->result.count = 1;
		/* Answer from the loop, never inside this call. */
		struct timeval now = {0, 0};
		event_base_once(dns_resolver_base(resolver), -1, EV_TIMEOUT, start, req,
		                &now);
		return;
	}
	if (!route->mx_lookup) {
		struct mx_record host = {.preference = 0};
		snprintf(host.host, sizeof(host.host), "%s", route->host);
		resolve_hosts(req, &host, 1);
		return;
	}
	if (dns_lookup(resolver, req->domain, LDNS_RR_TYPE_MX, on_mx, req, &error) < 0) {
		req->result.failure = OUTCOME_PERM;
		snprintf(req->result.dsn, sizeof(req->result.dsn), "5.1.2");
		snprintf(req->result.diagnostic, sizeof(req->result.diagnostic),
		         "x-petrel; bad domain %s: %s", req->domain, error);
		struct timeval now = {0, 0};
		event_base_once(dns_resolver_base(resolver), -1, EV_TIMEOUT, start, req,
		                &now);
	}
}

static void start(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg);
}
