/*
 * resolver.c — libunbound in asynchronous mode on a libevent loop
 * (see resolver.h).
 */
#include "dns/resolver.h"

#include <stdlib.h>
#include <string.h>
#include <unbound.h>

#include "dns/dns_status.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/netaddr.h"
#include "lib/xalloc.h"

struct dns_resolver {
	struct ub_ctx *ctx;
	struct event *readable;
	struct event_base *base;
	unsigned timeout_ms;
	struct lookup *lookups; /* in flight */
	bool destroying;
};

struct lookup {
	struct dns_resolver *resolver;
	struct lookup *prev, *next;
	int async_id;
	struct event *deadline;
	dns_callback *callback;
	void *arg;
};

/* "IP:port" -> libunbound's "IP@port"; a bare IP is port 53. */
static int unbound_address(const char *server, struct buf *out, const char **error_r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (sockaddr_parse_host_port(server, 53, &ss, &len, error_r) < 0) {
		*error_r = error_fmt("bad DNS server '%s': %s", server, *error_r);
		return -1;
	}
	char ip[64];
	sockaddr_ip((struct sockaddr *)&ss, ip, sizeof(ip));
	buf_reset(out);
	buf_appendf(out, "%s@%u", ip, sockaddr_port((struct sockaddr *)&ss));
	return 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns_resolver *r = arg;
	ub_process(r->ctx);
}

struct dns_resolver *dns_resolver_create(struct event_base *base,
                                         const struct dns_resolver_config *config,
                                         const char **error_r)
{
	struct ub_ctx *ctx = ub_ctx_create();
	if (ctx == NULL) {
		*error_r = "cannot create the DNS resolver";
		return NULL;
	}
	struct buf address = BUF_INIT;
	int err = ub_ctx_async(ctx, 1);
	if (getenv("PETREL_DNS_DEBUG"))
		ub_ctx_debuglevel(ctx, atoi(getenv("PETREL_DNS_DEBUG")));
	for (size_t i = 0; err == 0 && i < config->server_count; i++) {
		if (unbound_address(config->servers[i], &address, error_r) < 0) {
			buf_free(&address);
			ub_ctx_delete(ctx);
			return NULL;
		}
		err = ub_ctx_set_fwd(ctx, address.data);
	}
	buf_free(&address);
	/* RFC 6761 6.2: caching resolvers should not treat test. names as
	 * special; unbound answers them NXDOMAIN itself unless told not to. */
	if (err == 0)
		err = ub_ctx_zone_add(ctx, "test.", "transparent");
	if (err == 0 && config->trust_anchor)
		err = ub_ctx_add_ta_file(ctx, config->trust_anchor);
	if (err != 0) {
		*error_r = error_fmt("DNS resolver: %s", ub_strerror(err));
		ub_ctx_delete(ctx);
		return NULL;
	}
	struct dns_resolver *r = xcalloc(1, sizeof(*r));
	r->ctx = ctx;
	r->base = base;
	r->timeout_ms = config->timeout_ms ? config->timeout_ms : 10000;
	r->readable = event_new(base, ub_fd(ctx), EV_READ | EV_PERSIST, on_readable, r);
	event_add(r->readable, NULL);
	return r;
}

static void finish(struct lookup *l, const struct dns_result *result);

void dns_resolver_destroy(struct dns_resolver **resolver)
{
	struct dns_resolver *r = *resolver;
	if (r == NULL)
		return;
	/* Lookups in flight end now, so that their owners can finish. */
	r->destroying = true;
	while (r->lookups) {
		struct lookup *l = r->lookups;
		ub_cancel(r->ctx, l->async_id);
		struct dns_result result = {.status = DNS_INTERNAL};
		finish(l, &result);
	}
	event_free(r->readable);
	ub_ctx_delete(r->ctx);
	x_free(resolver);
}

struct event_base *dns_resolver_base(const struct dns_resolver *r)
{
	return r->base;
}

static void finish(struct lookup *l, const struct dns_result *result)
{
	struct dns_resolver *r = l->resolver;
	if (l->prev)
		l->prev->next = l->next;
	else
		r->lookups = l->next;
	if (l->next)
		l->next->prev = l->prev;
	event_free(l->deadline);
	l->callback(l->arg, result);
	free(l);
}

static void on_result(void *arg, int err, struct ub_result *ub)
{
	struct lookup *l = arg;
	struct dns_result result = {.status = DNS_NETWORK};
	if (err == 0 && ub != NULL) {
		result.secure = ub->secure;
		result.why_bogus = ub->why_bogus;
		if (ub->bogus)
			result.status = DNS_BOGUS;
		else if (ub->rcode != 0)
			result.status = ub->rcode;
		else
			result.status = ub->havedata ? DNS_NOERROR : DNS_NODATA;
		if (ub->answer_packet &&
		    ldns_wire2pkt(&result.packet, ub->answer_packet,
		                  (size_t)ub->answer_len) != LDNS_STATUS_OK)
			result.packet = NULL;
	}
	finish(l, &result);
	if (result.packet)
		ldns_pkt_free(result.packet);
	if (ub)
		ub_resolve_free(ub);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct lookup *l = arg;
	ub_cancel(l->resolver->ctx, l->async_id);
	struct dns_result result = {.status = DNS_TIMEOUT};
	finish(l, &result);
}

int dns_lookup(struct dns_resolver *r, const char *name, uint16_t type,
               dns_callback *callback, void *arg, const char **error_r)
{
	ldns_rdf *dname = NULL;
	if (ldns_str2rdf_dname(&dname, name) != LDNS_STATUS_OK) {
		*error_r = "not a valid domain name";
		return -1;
	}
	ldns_rdf_deep_free(dname);
	if (r->destroying) {
		*error_r = "DNS resolver shutting down";
		return -1;
	}
	struct lookup *l = xcalloc(1, sizeof(*l));
	l->resolver = r;
	l->callback = callback;
	l->arg = arg;
	int err = ub_resolve_async(r->ctx, name, type, LDNS_RR_CLASS_IN, l, on_result,
	                           &l->async_id);
	if (err != 0) {
		free(l);
		*error_r = error_fmt("DNS resolver: %s", ub_strerror(err));
		return -1;
	}
	l->next = r->lookups;
	if (r->lookups)
		r->lookups->prev = l;
	r->lookups = l;
	l->deadline = evtimer_new(r->base, on_deadline, l);
	struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
	evtimer_add(l->deadline, &tv);
	return 0;
}
