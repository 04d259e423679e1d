/*
 * wire.c — see wire.h.
 */
#include "ipc/wire.h"

#include <string.h>

static void put_be(struct buf *out, uint64_t value, int octets)
{
	unsigned char b[8];
	for (int i = octets - 1; i >= 0; i--) {
		b[i] = (unsigned char)(value & 0xff);
		value >>= 8;
	}
	buf_append(out, b, (size_t)octets);
}

void wire_begin(struct buf *out, uint8_t type)
{
	buf_reset(out);
	put_be(out, 0, 4); /* the length, at wire_end */
	put_be(out, type, 1);
}

void wire_u32(struct buf *out, uint32_t value)
{
	put_be(out, value, 4);
}

void wire_u64(struct buf *out, uint64_t value)
{
	put_be(out, value, 8);
}

void wire_bytes(struct buf *out, const void *data, size_t len)
{
	put_be(out, len, 4);
	if (len)
		buf_append(out, data, len);
}

void wire_str(struct buf *out, const char *s)
{
	wire_bytes(out, s ? s : "", s ? strlen(s) : 0);
}

int wire_end(struct buf *out)
{
	if (out->len > WIRE_MESSAGE_MAX)
		return -1;
	uint32_t len = (uint32_t)out->len;
	unsigned char *p = (unsigned char *)out->data;
	p[0] = (unsigned char)(len >> 24);
	p[1] = (unsigned char)(len >> 16);
	p[2] = (unsigned char)(len >> 8);
	p[3] = (unsigned char)len;
	return 0;
}

size_t wire_frame_length(const unsigned char *data)
{
	size_t len = (size_t)data[0] << 24 | (size_t)data[1] << 16 |
	             (size_t)data[2] << 8 | (size_t)data[3];
	return len < WIRE_HEADER || len > WIRE_MESSAGE_MAX ? 0 : len;
}

bool wire_in_init(struct wire_in *in, const void *frame, size_t len)
{
	const unsigned char *p = frame;
	in->failed = len < WIRE_HEADER || wire_frame_length(p) != len;
	in->type = in->failed ? 0 : p[4];
	in->p = p + (in->failed ? len : WIRE_HEADER);
	in->end = p + len;
	return !in->failed;
}

static uint64_t get_be(struct wire_in *in, int octets)
{
	if (in->failed || in->end - in->p < octets) {
		in->failed = true;
		return 0;
	}
	uint64_t value = 0;
	for (int i = 0; i < octets; i++)
		value = value << 8 | *in->p++;
	return value;
}

uint32_t wire_get_u32(struct wire_in *in)
{
	return (uint32_t)get_be(in, 4);
}

uint64_t wire_get_u64(struct wire_in *in)
{
	return get_be(in, 8);
}

const void *wire_get_bytes(struct wire_in *in, size_t max, size_t *len_r)
{
	size_t len = wire_get_u32(in);
	*len_r = 0;
	if (in->failed || len > max || (size_t)(in->end - in->p) < len) {
		in->failed = true;
		return "";
	}
	const void *data = in->p;
	in->p += len;
	*len_r = len;
	return data;
}

void wire_get_str(struct wire_in *in, char *out, size_t size)
{
	size_t len;
	const char *data = wire_get_bytes(in, size - 1, &len);
	if (memchr(data, '\0', len)) {
		in->failed = true;
		len = 0;
	}
	memcpy(out, data, len);
	out[len] = '\0';
}

bool wire_in_done(const struct wire_in *in)
{
	return !in->failed && in->p == in->end;
}
