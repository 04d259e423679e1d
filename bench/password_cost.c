/*
 * password_cost.c — what a password verification costs at several
 * argon2id settings (auth.password_hash), and how many the machine can
 * do per second with every core busy: the ceiling for logins/s.
 *
 * usage: password-cost [THREADS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/password.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct worker {
	const struct password_config *cost;
	const char *hash;
	double until;
	unsigned count;
};

static void *verify_loop(void *arg)
{
	struct worker *w = arg;
	while (now() < w->until) {
		if (password_verify(w->cost, w->hash, "correct horse", 13) != PASSWORD_OK)
			abort();
		w->count++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned threads = argc > 1 ? (unsigned)atoi(argv[1]) : 2;
	const char *error;
	if (password_init(&error) < 0)
		return 1;
	static const struct password_config costs[] = {
	    {.argon2_passes = 1, .argon2_memory_kib = 8 * 1024},
	    {.argon2_passes = 2, .argon2_memory_kib = 19 * 1024}, /* petrel's default */
	    {.argon2_passes = 3, .argon2_memory_kib = 12 * 1024},
	    {.argon2_passes = 2, .argon2_memory_kib = 64 * 1024},
	    {.argon2_passes = 3,
	     .argon2_memory_kib = 64 * 1024}, /* libsodium MODERATE-ish */
	};
	printf("%-22s %12s %14s\n", "argon2id", "verify (ms)",
	       "verifies/s (all threads)");
	for (size_t i = 0; i < sizeof(costs) / sizeof(costs[0]); i++) {
		struct password_config cost = costs[i];
		cost.scram_iterations = 4096;
		struct password_secrets s = {BUF_INIT, BUF_INIT, BUF_INIT};
		if (password_make(&cost, "correct horse", 13, &s, &error) < 0)
			return 1;
		double samples[15];
		for (int k = 0; k < 15; k++) {
			double start = now();
			if (password_verify(&cost, s.hash.data, "correct horse", 13) !=
			    PASSWORD_OK)
				return 1;
			samples[k] = (now() - start) * 1000;
		}
		qsort(samples, 15, sizeof(double), compare);
		struct worker workers[64];
		pthread_t ids[64];
		double until = now() + 2.0;
		for (unsigned t = 0; t < threads && t < 64; t++) {
			workers[t] = (struct worker){&cost, s.hash.data, until, 0};
			pthread_create(&ids[t], NULL, verify_loop, &workers[t]);
		}
		unsigned total = 0;
		for (unsigned t = 0; t < threads && t < 64; t++) {
			pthread_join(ids[t], NULL);
			total += workers[t].count;
		}
		char name[32];
		snprintf(name, sizeof(name), "t=%u m=%u MiB%s", cost.argon2_passes,
		         cost.argon2_memory_kib / 1024, i == 1 ? " *" : "");
		printf("%-22s %12.1f %14.0f\n", name, samples[7], total / 2.0);
		password_secrets_free(&s);
	}
	printf("* petrel's default (OWASP's minimum for argon2id)\n");
	return 0;
}
