/*
 * resolver.c — libunbound in asynchronous mode on a libevent loop
 * (see resolver.h).
 */
#include "dns/resolver.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unbound.h>

#include "dns/cache.h"
#include "dns/dns_status.h"
#include "dns/upstream.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/error.h"
#include "lib/event.h"
#include "lib/netaddr.h"
#include "lib/xalloc.h"

struct dns_resolver {
	struct ub_ctx *ctx;
	char **servers; /* forwarded to; none: recursion */
	size_t server_count;
	char *upstream; /* dns_resolver_upstream() */
	struct event *readable;
	struct event_base *base;
	unsigned timeout_ms;
	struct lookup *lookups; /* in flight */
	bool destroying;
	struct dns_cache *cache;
	/* Cache hits wait here for the next loop pass: callbacks never run
	 * inside dns_lookup(). */
	struct event *deliver;
	struct lookup *hits, **hits_tail;
};

struct lookup {
	struct dns_resolver *resolver;
	struct lookup *prev, *next;
	int async_id;
	struct event *deadline;
	dns_callback *callback;
	void *arg;
	struct dns_cache_entry *hit; /* a held cache entry, or NULL */
	struct dns_cache_key key;
};

/* Whole seconds for TTLs. The coarse clock costs a few nanoseconds, which
 * matters on the cache's hit path. */
static uint32_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec;
}

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

static void on_deliver(evutil_socket_t fd, short what, void *arg);

void dns_resolver_config_from(struct dns_resolver_config *dns, const struct config *c)
{
	*dns = (struct dns_resolver_config){
	    .servers = c->dns.servers,
	    .server_count = c->dns.server_count,
	    .recursive = c->dns.recursive,
	    .resolv_conf = c->dns.resolv_conf,
	    .trust_anchor = c->dns.trust_anchor,
	    .timeout_ms = c->dns.timeout_ms,
	    .attempts = c->dns.retries + 1,
	    .cache_entries = c->dns.cache_size,
	    .cache_max_ttl = c->dns.cache_max_ttl,
	    .cache_max_negative_ttl = c->dns.cache_max_negative_ttl,
	};
}

static int set_option(struct ub_ctx *ctx, const char *option, unsigned value)
{
	char text[16];
	snprintf(text, sizeof(text), "%u", value);
	return ub_ctx_set_option(ctx, option, text);
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
	struct buf address = BUF_INIT, upstream = BUF_INIT;
	char **servers = NULL;
	size_t server_count = 0;
	if (config->server_count > 0) {
		servers = xcalloc(config->server_count, sizeof(*servers));
		for (; server_count < config->server_count; server_count++)
			servers[server_count] = xstrdup(config->servers[server_count]);
		buf_append_str(&upstream, "servers");
	} else if (!config->recursive && config->resolv_conf) {
		int why;
		server_count =
		    dns_upstream_read_resolv_conf(config->resolv_conf, &servers, &why);
		buf_appendf(&upstream, "resolv.conf %s", config->resolv_conf);
		if (why > 0)
			buf_appendf(&upstream,
			            " (unreadable: %s; the C library's default)",
			            strerror(why));
		else if (why < 0)
			buf_append_str(
			    &upstream,
			    " (no name server in it: the C library's default)");
		else
			buf_append_str(&upstream, ":");
	} else {
		buf_append_str(&upstream, "recursion from the root hints");
	}
	int err = ub_ctx_async(ctx, 1);
	if (getenv("PETREL_DNS_DEBUG"))
		ub_ctx_debuglevel(ctx, atoi(getenv("PETREL_DNS_DEBUG")));
	for (size_t i = 0; err == 0 && i < server_count; i++) {
		if (unbound_address(servers[i], &address, error_r) < 0) {
			buf_free(&address);
			buf_free(&upstream);
			dns_upstream_free(&servers, server_count);
			ub_ctx_delete(ctx);
			return NULL;
		}
		buf_appendf(&upstream, "%s%s", i ? ", " : " ", servers[i]);
		err = ub_ctx_set_fwd(ctx, address.data);
	}
	buf_free(&address);
	/* Settings first: adding a zone finalizes the context, and later
	 * settings fail. */
	if (err == 0 && config->attempts)
		err = set_option(ctx, "outbound-msg-retry:", config->attempts);
	if (err == 0 && config->trust_anchor)
		err = ub_ctx_add_ta_file(ctx, config->trust_anchor);
	/* RFC 6761 6.2: caching resolvers should not treat test. names as
	 * special; unbound answers them NXDOMAIN itself unless told not to. */
	if (err == 0)
		err = ub_ctx_zone_add(ctx, "test.", "transparent");
	if (err != 0) {
		*error_r = error_fmt("DNS resolver: %s", ub_strerror(err));
		buf_free(&upstream);
		dns_upstream_free(&servers, server_count);
		ub_ctx_delete(ctx);
		return NULL;
	}
	struct dns_resolver *r = xcalloc(1, sizeof(*r));
	r->ctx = ctx;
	r->servers = servers;
	r->server_count = server_count;
	r->upstream = upstream.data;
	r->base = base;
	r->timeout_ms = config->timeout_ms ? config->timeout_ms : 10000;
	r->readable = event_new(base, ub_fd(ctx), EV_READ | EV_PERSIST, on_readable, r);
	event_add(r->readable, NULL);
	struct dns_cache_limits limits = {
	    .max_entries = config->cache_entries,
	    .max_ttl = config->cache_max_ttl ? config->cache_max_ttl : 86400,
	    .max_negative_ttl =
	        config->cache_max_negative_ttl ? config->cache_max_negative_ttl : 3600,
	};
	r->cache = dns_cache_create(&limits);
	r->deliver = event_new(base, -1, 0, on_deliver, r);
	r->hits_tail = &r->hits;
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
	struct dns_result ended = {.status = DNS_INTERNAL};
	while (r->lookups) {
		struct lookup *l = r->lookups;
		ub_cancel(r->ctx, l->async_id);
		finish(l, &ended);
	}
	while (r->hits) {
		struct lookup *l = r->hits;
		r->hits = l->next;
		l->callback(l->arg, &ended);
		dns_cache_release(l->hit);
		free(l);
	}
	event_free(r->deliver);
	event_free(r->readable);
	ub_ctx_delete(r->ctx);
	dns_upstream_free(&r->servers, r->server_count);
	free(r->upstream);
	dns_cache_destroy(&r->cache);
	x_free(resolver);
}

struct event_base *dns_resolver_base(const struct dns_resolver *r)
{
	return r->base;
}

/* One lookup answered: an event (logged at debug), counted by result;
 * from the cache or not. */
static void count_lookup(const struct dns_cache_key *key, const struct dns_result *result)
{
	if (result->cached)
		metrics_add(METRIC_DNS_CACHE_HITS, "", 1);
	EVENT(L_DEBUG, &event_dns_lookup, EV_TEXT("name", key->name),
	      EV_UINT("type", key->type),
	      EV_WORD("result", dns_status_name(result->status)),
	      EV_WORD("cached", result->cached ? "yes" : "no"));
}

static void finish(struct lookup *l, const struct dns_result *result)
{
	struct dns_resolver *r = l->resolver;
	count_lookup(&l->key, result);
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
	struct dns_resolver *r = l->resolver;
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
	/* The cache takes the parsed packet if it wants it. Nothing is stored
	 * while the callback runs, so the packet outlives it either way. */
	bool cached =
	    result.packet && dns_cache_store(r->cache, &l->key, now_seconds(),
	                                     result.status, result.secure, result.packet);
	finish(l, &result);
	if (result.packet && !cached)
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

static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct dns_resolver *r = arg;
	/* Only the hits queued so far: a callback that looks up again waits
	 * for the next pass, so the loop keeps turning. */
	struct lookup *l = r->hits;
	r->hits = NULL;
	r->hits_tail = &r->hits;
	while (l) {
		struct lookup *next = l->next;
		struct dns_cache_answer answer;
		dns_cache_answer_of(l->hit, &answer);
		struct dns_result result = {.status = answer.status,
		                            .secure = answer.secure,
		                            .packet = answer.packet,
		                            .cached = true};
		count_lookup(&l->key, &result);
		l->callback(l->arg, &result);
		dns_cache_release(l->hit);
		free(l);
		l = next;
	}
}

bool dns_lookup_cached(struct dns_resolver *r, const char *name, uint16_t type,
                       struct dns_result *result)
{
	struct dns_cache_key key;
	struct dns_cache_answer answer;
	if (r->cache == NULL || dns_cache_key_make(&key, name, type) < 0 ||
	    dns_cache_find(r->cache, &key, now_seconds(), &answer) == NULL)
		return false;
	*result = (struct dns_result){.status = answer.status,
	                              .secure = answer.secure,
	                              .packet = answer.packet,
	                              .cached = true};
	count_lookup(&key, result);
	return true;
}

size_t dns_resolver_cache_count(const struct dns_resolver *r)
{
	return dns_cache_count(r->cache);
}

int dns_lookup(struct dns_resolver *r, const char *name, uint16_t type,
               dns_callback *callback, void *arg, const char **error_r)
{
	if (r->destroying) {
		*error_r = "DNS resolver shutting down";
		return -1;
	}
	struct lookup *l = xcalloc(1, sizeof(*l));
	if (dns_cache_key_make(&l->key, name, type) < 0) {
		free(l);
		*error_r = "not a valid domain name";
		return -1;
	}
	l->resolver = r;
	l->callback = callback;
	l->arg = arg;
	struct dns_cache_answer answer;
	l->hit = dns_cache_find(r->cache, &l->key, now_seconds(), &answer);
	if (l->hit) {
		dns_cache_hold(l->hit);
		*r->hits_tail = l;
		r->hits_tail = &l->next;
		event_active(r->deliver, 0, 0);
		return 0;
	}
	/* Escapes and the like: ldns has the last word on what a name is. */
	ldns_rdf *dname = NULL;
	if (ldns_str2rdf_dname(&dname, name) != LDNS_STATUS_OK) {
		free(l);
		*error_r = "not a valid domain name";
		return -1;
	}
	ldns_rdf_deep_free(dname);
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

const char *dns_resolver_upstream(const struct dns_resolver *resolver)
{
	return resolver->upstream;
}

size_t dns_resolver_servers(const struct dns_resolver *resolver, char *const **servers_r)
{
	*servers_r = resolver->servers;
	return resolver->server_count;
}
