/*
 * mx_plan.h — which hosts to try for a domain, in which order, as RFC
 * 5321 5.1 says (pure: no DNS, no sockets; the caller supplies the MX
 * records it resolved).
 *
 * - Lower preference values first; hosts of equal preference in random
 *   order, so that load spreads over them.
 * - No MX records at all: the domain itself is the only host (implicit
 *   MX, preference 0).
 * - A null MX ("0 ." alone, RFC 7505): the domain accepts no mail
 *   (permanent failure 5.1.10). A "." among other MX records is ignored.
 * - When this host is itself one of the MX hosts, only hosts with a
 *   preference strictly lower than its own best are candidates; if none
 *   is left, delivering would loop back to us: a routing loop.
 */
#ifndef PETREL_MX_PLAN_H
#define PETREL_MX_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MX_HOST_MAX 255

struct mx_record {
	uint16_t preference;
	char host[MX_HOST_MAX + 1]; /* without the trailing dot; "." for null MX */
};

enum mx_plan_status {
	MX_PLAN_OK,
	MX_PLAN_NULL_MX, /* RFC 7505: bounce with 5.1.10 */
	MX_PLAN_LOOP,    /* we are the best MX: bounce, never deliver to ourselves */
};

struct mx_plan_input {
	const char *domain;
	const struct mx_record *records; /* as resolved; NULL/0: implicit MX */
	size_t count;
	/* True when host names this machine (hostname or one of its addresses). */
	bool (*is_self)(const char *host, void *ctx);
	void *self_ctx;
	/* Random numbers for the equal-preference shuffle. */
	uint32_t (*random)(void *ctx);
	void *random_ctx;
};

/*
 * Fills out[] (room for input->count, or 1 for an implicit MX) with the
 * hosts to try in order and sets *out_count. Returns the plan's status;
 * out is meaningful only for MX_PLAN_OK.
 */
enum mx_plan_status mx_plan(const struct mx_plan_input *input, struct mx_record *out,
                            size_t *out_count);

#endif
