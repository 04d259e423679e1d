/*
 * conn_deflate.h — COMPRESS=DEFLATE (RFC 4978) for the connection layer:
 * raw deflate (RFC 1951) both ways, once a protocol has agreed to it.
 * Input is inflated a bounded amount at a time (a small compressed input
 * cannot become an unbounded buffer: the inflation-bomb defence); output
 * is flushed (Z_SYNC_FLUSH) once per turn of the loop, not per write.
 */
#ifndef PETREL_CONN_DEFLATE_H
#define PETREL_CONN_DEFLATE_H

#include <event2/buffer.h>
#include <stddef.h>

struct conn_deflate;

struct conn_deflate *conn_deflate_new(void);
void conn_deflate_free(struct conn_deflate **z);

/* Inflates from `from` into `to` until `to` holds max octets or `from`
 * is used up. 0, or -1 for a stream that is not deflate. */
int conn_deflate_inflate(struct conn_deflate *z, struct evbuffer *from,
                         struct evbuffer *to, size_t max);
/* Compresses data into out (held back until a flush). */
void conn_deflate_write(struct conn_deflate *z, const void *data, size_t len,
                        struct evbuffer *out);
/* Everything written so far, decodable by the peer now. */
void conn_deflate_flush(struct conn_deflate *z, struct evbuffer *out);

#endif
