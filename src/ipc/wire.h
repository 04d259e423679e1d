/*
 * wire.h — the framing of request/response messages between petrel's
 * processes (the auth process and its clients): a 32-bit length, a type
 * octet, then typed fields (32/64-bit numbers, length-prefixed octet
 * strings), all in network byte order.
 *
 * Reading never trusts a length: every field is checked against what is
 * left of the message and against the caller's bound, and the first
 * violation makes the reader fail for good (one check at the end).
 * Pure: no I/O.
 */
#ifndef PETREL_WIRE_H
#define PETREL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define WIRE_MESSAGE_MAX (512 * 1024) /* the whole frame, length included */
#define WIRE_HEADER      5            /* length and type */

/* Writing: begin, fields, end (which fills in the length). */
void wire_begin(struct buf *out, uint8_t type);
void wire_u32(struct buf *out, uint32_t value);
void wire_u64(struct buf *out, uint64_t value);
void wire_bytes(struct buf *out, const void *data, size_t len);
void wire_str(struct buf *out, const char *s); /* NULL is written as "" */
/* -1 when the message grew past WIRE_MESSAGE_MAX (it must not be sent). */
int wire_end(struct buf *out);

/* The frame length announced by the first WIRE_HEADER octets of data, or
 * 0 when it is not a possible length (too small or over the maximum). */
size_t wire_frame_length(const unsigned char *data);

struct wire_in {
	const unsigned char *p, *end;
	uint8_t type;
	bool failed;
};

/* A whole frame of len octets; false when its length field disagrees. */
bool wire_in_init(struct wire_in *in, const void *frame, size_t len);
uint32_t wire_get_u32(struct wire_in *in);
uint64_t wire_get_u64(struct wire_in *in);
/* Octets of at most max; *len_r set; points into the frame. */
const void *wire_get_bytes(struct wire_in *in, size_t max, size_t *len_r);
/* A string of at most size - 1 octets without NUL, copied into out. */
void wire_get_str(struct wire_in *in, char *out, size_t size);
/* True when every read fitted and the frame is used up exactly. */
bool wire_in_done(const struct wire_in *in);

#endif
