/*
 * queue_id.h — unique, time-sortable queue IDs.
 *
 * An ID is 16 characters of Crockford base32 (0-9 A-Z without I L O U):
 * 11 for the microsecond timestamp (good for a millennium), 5 for the
 * generating process. Byte order is time order, so `ls` of the spool
 * is the arrival order. Uniqueness: the timestamp never repeats within
 * a generator, and the generator part differs between live processes.
 */
#ifndef PETREL_QUEUE_ID_H
#define PETREL_QUEUE_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUEUE_ID_LEN 16

struct queue_id_gen {
	uint32_t generator; /* fits in 25 bits: a pid */
	uint64_t last_usec;
};

void queue_id_gen_init(struct queue_id_gen *gen, uint32_t generator);

/* Writes the next ID for time now_usec into out (QUEUE_ID_LEN + 1). */
void queue_id_next(struct queue_id_gen *gen, uint64_t now_usec, char *out);

/* The next ID of this process, from the clock: what every message and
 * DSN is named by (the generator above is its pure part, for tests). */
void queue_id_new(char *out);

/* When a valid ID was made, in microseconds since the epoch. */
uint64_t queue_id_usec(const char *id);

/* True when s[0..len) has the shape of a queue ID (safe as a file name). */
bool queue_id_valid(const char *s, size_t len);

#endif
