/*
 * ip_count.h — connections per client IP, counted across every worker
 * process, so that `connections_per_ip: 50` means 50 and not 50 per
 * worker.
 *
 * The table lives in shared memory that the master maps before it forks
 * (as the login-failure table does), with a fixed size: no allocation a
 * client can drive. A count is kept per scope (a listener) and address.
 * Each worker also records, in a region of its own, what it added; when
 * a worker is gone, crashed or not, the master gives back whatever its
 * region still holds, so a killed worker's connections do not count for
 * ever. One process-shared robust mutex guards it all: a worker that dies
 * holding it does not wedge the others.
 */
#ifndef PETREL_IP_COUNT_H
#define PETREL_IP_COUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct ip_count_table;

struct ip_key {
	unsigned char addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	uint32_t scope;         /* which listener (ip_scope_of) */
};

/* In the master: regions for that many workers alive at once (retiring
 * ones included), each able to hold per_region addresses. */
struct ip_count_table *ip_count_create(unsigned regions, unsigned per_region,
                                       const char **error_r);
void ip_count_destroy(struct ip_count_table **table);

/* In the master, at a spawn: a free region for the new worker, or -1
 * (the worker then does not count: logged, never refused). */
int ip_count_claim_region(struct ip_count_table *table);
/* In the master, when that worker has exited: takes back what its region
 * still holds and frees it. Returns the connections taken back. */
unsigned ip_count_release_region(struct ip_count_table *table, int region);

void ip_key_make(struct ip_key *key, const struct sockaddr *peer, const char *scope);

/* In a worker: counts one more connection for key unless it already has
 * limit; *count_r is the count with it, or the count that refused it.
 * False also when the table is full. A worker without a region (-1)
 * counts nothing and is never refused. */
bool ip_count_acquire(struct ip_count_table *table, int region, const struct ip_key *key,
                      unsigned limit, unsigned *count_r);
void ip_count_release(struct ip_count_table *table, int region, const struct ip_key *key);

/* The count for key now (tests, stats). */
unsigned ip_count_get(struct ip_count_table *table, const struct ip_key *key);

#endif
