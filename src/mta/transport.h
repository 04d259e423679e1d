/*
 * transport.h — remote delivery for the queue: jobs are grouped by
 * destination (a domain's MX set, or a configured next hop), each
 * destination resolved once and served by up to
 * delivery.destination_concurrency connections, delivery.concurrency in
 * all. A connection that finishes a job takes the next one queued for
 * its destination (connection reuse) and lingers idle for
 * delivery.idle_time. When every address of a destination fails before
 * any session, the jobs waiting for it are deferred together instead of
 * each waiting out the same time-outs.
 */
#ifndef PETREL_TRANSPORT_H
#define PETREL_TRANSPORT_H

#include <event2/event.h>

#include "dns/resolver.h"
#include "lib/config.h"
#include "mta/job.h"

struct transport;

struct transport *transport_create(struct event_base *base, const struct config *config,
                                   struct dns_resolver *resolver, const char **error_r);
/* Aborts connections; every job still held is finished (deferred).
 * Then destroy the resolver (its lookups end), then the transport. */
void transport_stop(struct transport *transport);
void transport_destroy(struct transport **transport);

/* job->route, key and domain must be set; job->done runs later, on the
 * loop, once every recipient of the job has an outcome. */
void transport_submit(struct transport *transport, struct mta_job *job);

/* The destination key of a route: "mx:example.net:25", "[host]:port". */
char *transport_key(const struct route *route);

#endif
