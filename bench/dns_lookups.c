/*
 * dns_lookups.c — the petrel side of bench/dns: times petrel's resolver
 * against one DNS server, one lookup at a time, as Net_DNS2 works.
 *
 *   dns-lookups SERVER NAMES_FILE ROUNDS [PARALLEL_NAMES_FILE IN_FLIGHT]
 *
 * Prints these lines, "phase lookups seconds median_ns":
 *   uncached  each name once, through libunbound to the server
 *   cached    ROUNDS x each name through dns_lookup(): a cache hit,
 *             delivered on the next pass of the event loop
 *   direct    ROUNDS x each name through dns_lookup_cached(): the same
 *             hit answered at once, as Net_DNS2's query() answers from
 *             its cache
 *   parallel  each name of the second file once, IN_FLIGHT at a time: how
 *             an event loop really uses the resolver (only with the
 *             optional arguments)
 * Every answer is checked to hold an A record, so a failed lookup cannot
 * pass for a fast one.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/dns_status.h"
#include "dns/resolver.h"

struct run {
	bool done;
	int status;
	size_t answers;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *samples, size_t n)
{
	qsort(samples, n, sizeof(*samples), compare_u64);
	return samples[n / 2];
}

static void on_answer(void *arg, const struct dns_result *result)
{
	struct run *run = arg;
	run->done = true;
	run->status = result->status;
	run->answers =
	    result->packet ? ldns_rr_list_rr_count(ldns_pkt_answer(result->packet)) : 0;
}

static void check(const char *name, int status, size_t answers)
{
	if (status != DNS_NOERROR || answers == 0) {
		fprintf(stderr, "dns-lookups: %s: %s\n", name, dns_status_name(status));
		exit(1);
	}
}

static void lookup_on_loop(struct event_base *base, struct dns_resolver *resolver,
                           const char *name)
{
	struct run run = {0};
	const char *error;
	if (dns_lookup(resolver, name, LDNS_RR_TYPE_A, on_answer, &run, &error) < 0) {
		fprintf(stderr, "dns-lookups: %s: %s\n", name, error);
		exit(1);
	}
	while (!run.done)
		event_base_loop(base, EVLOOP_ONCE);
	check(name, run.status, run.answers);
}

struct parallel;

struct slot { /* the callback argument of one name */
	struct parallel *run;
	size_t index;
};

struct parallel {
	struct dns_resolver *resolver;
	char **names;
	size_t count, next, done;
	uint64_t *started, *samples;
	struct slot *slots;
};

static void start_next(struct parallel *p);

static void on_parallel_answer(void *arg, const struct dns_result *result)
{
	struct slot *slot = arg;
	struct parallel *p = slot->run;
	size_t answers =
	    result->packet ? ldns_rr_list_rr_count(ldns_pkt_answer(result->packet)) : 0;
	check(p->names[slot->index], result->status, answers);
	p->samples[slot->index] = now_ns() - p->started[slot->index];
	p->done++;
	start_next(p);
}

static void start_next(struct parallel *p)
{
	if (p->next == p->count)
		return;
	size_t i = p->next++;
	const char *error;
	p->started[i] = now_ns();
	if (dns_lookup(p->resolver, p->names[i], LDNS_RR_TYPE_A, on_parallel_answer,
	               &p->slots[i], &error) < 0) {
		fprintf(stderr, "dns-lookups: %s: %s\n", p->names[i], error);
		exit(1);
	}
}

/* Keeps in_flight lookups going until every name has its answer. */
static void run_parallel(struct event_base *base, struct dns_resolver *resolver,
                         char **names, size_t count, size_t in_flight)
{
	struct parallel p = {.resolver = resolver, .names = names, .count = count};
	p.started = calloc(count, sizeof(*p.started));
	p.samples = calloc(count, sizeof(*p.samples));
	p.slots = calloc(count, sizeof(*p.slots));
	for (size_t i = 0; i < count; i++)
		p.slots[i] = (struct slot){&p, i};
	uint64_t start = now_ns();
	for (size_t i = 0; i < in_flight; i++)
		start_next(&p);
	while (p.done < count)
		event_base_loop(base, EVLOOP_ONCE);
	uint64_t total = now_ns() - start;
	printf("parallel %zu %.6f %llu\n", count, total / 1e9,
	       (unsigned long long)median(p.samples, count));
	free(p.started);
	free(p.samples);
	free(p.slots);
}

static char **read_names(const char *path, size_t *count_r)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	char **names = NULL, line[300];
	size_t count = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		names = realloc(names, (count + 1) * sizeof(*names));
		names[count++] = strdup(line);
	}
	fclose(f);
	*count_r = count;
	return names;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 6) {
		fprintf(stderr, "usage: dns-lookups SERVER NAMES_FILE ROUNDS "
		                "[PARALLEL_NAMES_FILE IN_FLIGHT]\n");
		return 2;
	}
	char *server = argv[1];
	size_t count, rounds = strtoul(argv[3], NULL, 10);
	char **names = read_names(argv[2], &count);
	struct event_base *base = event_base_new();
	struct dns_resolver_config config = {
	    .servers = &server, .server_count = 1, .cache_entries = count * 2};
	const char *error;
	struct dns_resolver *resolver = dns_resolver_create(base, &config, &error);
	if (resolver == NULL) {
		fprintf(stderr, "dns-lookups: %s\n", error);
		return 1;
	}
	uint64_t *samples = calloc(count * (rounds ? rounds : 1), sizeof(*samples));

	uint64_t start = now_ns();
	for (size_t i = 0; i < count; i++) {
		uint64_t t = now_ns();
		lookup_on_loop(base, resolver, names[i]);
		samples[i] = now_ns() - t;
	}
	uint64_t total = now_ns() - start;
	printf("uncached %zu %.6f %llu\n", count, total / 1e9,
	       (unsigned long long)median(samples, count));

	size_t n = 0;
	start = now_ns();
	for (size_t r = 0; r < rounds; r++)
		for (size_t i = 0; i < count; i++) {
			uint64_t t = now_ns();
			lookup_on_loop(base, resolver, names[i]);
			samples[n++] = now_ns() - t;
		}
	total = now_ns() - start;
	printf("cached %zu %.6f %llu\n", n, total / 1e9,
	       (unsigned long long)median(samples, n));

	/* A hit takes tens of nanoseconds, near the clock's own cost, so the
	 * median is taken over batches of one pass through the names. */
	size_t batches = 0;
	n = 0;
	start = now_ns();
	for (size_t r = 0; r < rounds; r++) {
		uint64_t t = now_ns();
		for (size_t i = 0; i < count; i++) {
			struct dns_result result;
			if (!dns_lookup_cached(resolver, names[i], LDNS_RR_TYPE_A,
			                       &result))
				check(names[i], DNS_INTERNAL, 0);
			check(names[i], result.status,
			      ldns_rr_list_rr_count(ldns_pkt_answer(result.packet)));
			n++;
		}
		samples[batches++] = (now_ns() - t) / count;
	}
	total = now_ns() - start;
	printf("direct %zu %.6f %llu\n", n, total / 1e9,
	       (unsigned long long)(batches ? median(samples, batches) : 0));

	/* Last, so that the cached phases see only the names Net_DNS2's cache
	 * holds too. */
	if (argc == 6) {
		size_t parallel_count;
		char **parallel_names = read_names(argv[4], &parallel_count);
		run_parallel(base, resolver, parallel_names, parallel_count,
		             strtoul(argv[5], NULL, 10));
		for (size_t i = 0; i < parallel_count; i++)
			free(parallel_names[i]);
		free(parallel_names);
	}
	free(samples);
	dns_resolver_destroy(&resolver);
	event_base_free(base);
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return 0;
}
