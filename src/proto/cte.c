/*
 * cte.c — base64 and quoted-printable decoding (see cte.h).
 */
#include "proto/cte.h"

#include <string.h>
#include <strings.h>

enum cte_kind cte_kind_of(const char *value, size_t len)
{
	if (value == NULL)
		return CTE_IDENTITY;
	while (len && (*value == ' ' || *value == '\t')) {
		value++;
		len--;
	}
	while (len &&
	       (value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == ';'))
		len--;
	static const struct {
		const char *name;
		enum cte_kind kind;
	} names[] = {{"7bit", CTE_IDENTITY},
	             {"8bit", CTE_IDENTITY},
	             {"binary", CTE_IDENTITY},
	             {"base64", CTE_BASE64},
	             {"quoted-printable", CTE_QUOTED_PRINTABLE}};
	if (len == 0)
		return CTE_IDENTITY;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strlen(names[i].name) == len &&
		    strncasecmp(names[i].name, value, len) == 0)
			return names[i].kind;
	return CTE_UNKNOWN;
}

void cte_decoder_init(struct cte_decoder *d, enum cte_kind kind)
{
	memset(d, 0, sizeof(*d));
	d->kind = kind;
}

static int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static size_t decode_base64(struct cte_decoder *d, const char *in, size_t len, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < len && !d->done; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=') {
			d->done = true; /* padding: what remains is not data */
			break;
		}
		int v = base64_value(c);
		if (v < 0)
			continue; /* line ends, white space, junk */
		d->bits = (d->bits << 6) | (unsigned)v;
		d->nbits += 6;
		if (d->nbits >= 8) {
			d->nbits -= 8;
			out[n++] = (char)((d->bits >> d->nbits) & 0xff);
		}
	}
	d->bits &= (1u << d->nbits) - 1;
	return n;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One octet of quoted-printable, with what was held before it. */
static size_t qp_octet(struct cte_decoder *d, char c, char *out)
{
	size_t n = 0;
	if (d->held_len == 0) {
		if (c == '=')
			d->held[d->held_len++] = c;
		else
			out[n++] = c;
		return n;
	}
	/* held[0] is "=" */
	if (d->held_len == 1) {
		if (c == '\n') { /* soft line break "=\n" */
			d->held_len = 0;
			return 0;
		}
		if (c == '\r' || hex_value((unsigned char)c) >= 0) {
			d->held[d->held_len++] = c;
			return 0;
		}
		out[n++] = '=';
		d->held_len = 0;
		return n + qp_octet(d, c, out + n);
	}
	/* held is "=\r" or "=X" */
	char second = d->held[1];
	d->held_len = 0;
	if (second == '\r') {
		if (c == '\n')
			return 0; /* soft line break "=\r\n" */
		out[n++] = '=';
		out[n++] = '\r';
		return n + qp_octet(d, c, out + n);
	}
	int hi = hex_value((unsigned char)second), lo = hex_value((unsigned char)c);
	if (lo >= 0) {
		out[n++] = (char)(hi << 4 | lo);
		return n;
	}
	out[n++] = '=';
	out[n++] = second;
	return n + qp_octet(d, c, out + n);
}

size_t cte_decode(struct cte_decoder *d, const char *in, size_t len, char *out)
{
	switch (d->kind) {
	case CTE_BASE64:
		return decode_base64(d, in, len, out);
	case CTE_QUOTED_PRINTABLE: {
		size_t n = 0;
		for (size_t i = 0; i < len; i++)
			n += qp_octet(d, in[i], out + n);
		return n;
	}
	default:
		memcpy(out, in, len);
		return len;
	}
}

size_t cte_finish(struct cte_decoder *d, char *out)
{
	size_t n = 0;
	if (d->kind == CTE_QUOTED_PRINTABLE)
		for (size_t i = 0; i < d->held_len; i++)
			out[n++] = d->held[i];
	d->held_len = 0;
	return n;
}
