/*
 * penalty.h — failed logins, counted per client IP and per user name,
 * shared by every worker process.
 *
 * The table lives in shared memory that the master maps before it forks
 * its workers, so an attacker gains nothing by landing on another
 * worker. It has a fixed number of slots (no allocation an attacker can
 * drive), keys are stored as keyed hashes (no attacker-chosen
 * collisions), and a process-shared robust mutex guards it (a worker
 * that dies holding it does not wedge the others).
 *
 * A user name is counted whether or not such a user exists, so a
 * lockout says nothing about existence. The table also carries the
 * secret from which SCRAM derives salts for unknown users, so that every
 * worker answers the same for the same name.
 */
#ifndef PETREL_PENALTY_H
#define PETREL_PENALTY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/config.h"

#define PENALTY_SECRET_LEN 32

enum penalty_kind { PENALTY_IP, PENALTY_USER };

struct penalty_table;

/* In the master, before forking: slots fixed for the process lifetime. */
struct penalty_table *penalty_table_create(unsigned slots, const char **error_r);
void penalty_table_destroy(struct penalty_table **table);

/* The table every auth call in this process uses (set once per process). */
void penalty_table_set_current(struct penalty_table *table);
struct penalty_table *penalty_table_current(void);

const unsigned char *penalty_secret(const struct penalty_table *table);

struct penalty_state {
	unsigned failures;   /* within the window */
	time_t locked_until; /* 0: not locked */
};

/* The state of one key now (a fresh key: zeros). */
void penalty_get(struct penalty_table *table, enum penalty_kind kind, const char *key,
                 time_t now, const struct auth_config *auth, struct penalty_state *out);
/* Counts a failure; returns the new state (locked when the limit for the
 * kind is reached). */
void penalty_fail(struct penalty_table *table, enum penalty_kind kind, const char *key,
                  time_t now, const struct auth_config *auth, struct penalty_state *out);
/* A successful login forgets earlier failures of that key. */
void penalty_clear(struct penalty_table *table, enum penalty_kind kind, const char *key);

/* The delay before answering a failure after n failures: delay_ms
 * doubling from the first, capped at max_delay_ms. */
unsigned penalty_delay_ms(const struct auth_config *auth, unsigned failures);

/* What a protocol does after a login: a failure from ip as login ("" if
 * none was named) is counted for both and a lockout logged (event=
 * auth-lockout); the delay before answering is returned, the higher
 * failure count in *failures_r. A success forgets both keys' failures. */
unsigned penalty_login_failed(const struct auth_config *auth, const char *session,
                              const char *ip, const char *login, unsigned *failures_r);
void penalty_login_succeeded(const char *ip, const char *login);

#endif
