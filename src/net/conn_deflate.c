/*
 * conn_deflate.c — raw deflate streams for COMPRESS (see conn_deflate.h).
 */
#include "net/conn_deflate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <zlib.h>

#include "lib/xalloc.h"

#define PIECE 16384

struct conn_deflate {
	z_stream in, out;
	bool pending; /* output not flushed yet */
};

struct conn_deflate *conn_deflate_new(void)
{
	struct conn_deflate *z = xcalloc(1, sizeof(*z));
	/* RFC 4978 4: raw deflate, no zlib header (negative window bits) */
	if (inflateInit2(&z->in, -15) != Z_OK ||
	    deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
	                 Z_DEFAULT_STRATEGY) != Z_OK)
		abort(); /* only memory can fail here */
	return z;
}

void conn_deflate_free(struct conn_deflate **z_p)
{
	struct conn_deflate *z = *z_p;
	if (z == NULL)
		return;
	inflateEnd(&z->in);
	deflateEnd(&z->out);
	free(z);
	*z_p = NULL;
}

int conn_deflate_inflate(struct conn_deflate *z, struct evbuffer *from,
                         struct evbuffer *to, size_t max)
{
	unsigned char out[PIECE];
	while (evbuffer_get_length(to) < max) {
		struct evbuffer_iovec span;
		bool have_input =
		    evbuffer_peek(from, -1, NULL, &span, 1) > 0 && span.iov_len > 0;
		z->in.next_in = have_input ? span.iov_base : (unsigned char *)out;
		z->in.avail_in = have_input ? (uInt)span.iov_len : 0;
		size_t room = max - evbuffer_get_length(to);
		z->in.next_out = out;
		z->in.avail_out = room < sizeof(out) ? (uInt)room : sizeof(out);
		int r = inflate(&z->in, Z_SYNC_FLUSH);
		size_t used = have_input ? span.iov_len - z->in.avail_in : 0;
		size_t made = (size_t)(z->in.next_out - out);
		if (used)
			evbuffer_drain(from, used);
		if (made)
			evbuffer_add(to, out, made);
		if (r == Z_STREAM_END || (r != Z_OK && r != Z_BUF_ERROR))
			return -1; /* the stream never ends while the connection lasts */
		if (used == 0 && made == 0)
			break; /* needs more input */
	}
	return 0;
}

static void run_deflate(struct conn_deflate *z, int flush, struct evbuffer *out)
{
	unsigned char piece[PIECE];
	do {
		z->out.next_out = piece;
		z->out.avail_out = sizeof(piece);
		deflate(&z->out, flush);
		size_t made = sizeof(piece) - z->out.avail_out;
		if (made)
			evbuffer_add(out, piece, made);
	} while (z->out.avail_out == 0);
}

void conn_deflate_write(struct conn_deflate *z, const void *data, size_t len,
                        struct evbuffer *out)
{
	z->out.next_in = (unsigned char *)(uintptr_t)data;
	z->out.avail_in = (uInt)len;
	while (z->out.avail_in > 0)
		run_deflate(z, Z_NO_FLUSH, out);
	z->pending = true;
}

void conn_deflate_flush(struct conn_deflate *z, struct evbuffer *out)
{
	if (!z->pending)
		return;
	z->out.next_in = NULL;
	z->out.avail_in = 0;
	run_deflate(z, Z_SYNC_FLUSH, out);
	z->pending = false;
}
