/*
 * base64.c — strict RFC 4648 base64 (see base64.h).
 */
#include "proto/base64.h"

#include <stdint.h>

static const char standard_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t base64_encoded_length(size_t len)
{
	return (len + 2) / 3 * 4;
}

size_t base64_decoded_max(size_t len)
{
	return (len + 3) / 4 * 3;
}

size_t base64_encode(enum base64_alphabet alphabet, const void *in, size_t len, char *out,
                     size_t out_size)
{
	const char *chars = alphabet == BASE64_URL ? url_chars : standard_chars;
	const unsigned char *p = in;
	size_t o = 0;
	if (out_size == 0)
		return 0;
	for (size_t i = 0; i < len; i += 3) {
		size_t left = len - i;
		uint32_t v = (uint32_t)p[i] << 16;
		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		char quad[4] = {chars[v >> 18], chars[(v >> 12) & 63],
		                left > 1 ? chars[(v >> 6) & 63] : '=',
		                left > 2 ? chars[v & 63] : '='};
		for (int k = 0; k < 4; k++) {
			if (quad[k] == '=' && alphabet == BASE64_URL)
				break;
			if (o + 1 >= out_size)
				goto full;
			out[o++] = quad[k];
		}
	}
full:
	out[o] = '\0';
	return o;
}

/* The value of c in the alphabet, or -1. */
static int sextet(enum base64_alphabet alphabet, unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (alphabet == BASE64_URL)
		return c == '-' ? 62 : c == '_' ? 63 : -1;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long base64_decode(enum base64_alphabet alphabet, const char *text, size_t len,
                   unsigned char *out, size_t out_size, const char **error_r)
{
	size_t data_len = len; /* without padding */
	if (alphabet == BASE64_STANDARD) {
		if (len % 4 != 0) {
			*error_r = "base64 length is not a multiple of 4";
			return -1;
		}
		if (len > 0 && text[len - 1] == '=')
			data_len--;
		if (len > 1 && text[len - 2] == '=')
			data_len--;
	}
	/* 4n+1 characters can never come from whole octets. */
	if (data_len % 4 == 1) {
		*error_r = "base64 text ends with a lone character";
		return -1;
	}
	size_t need = data_len / 4 * 3 + (data_len % 4 ? data_len % 4 - 1 : 0);
	if (need > out_size) {
		*error_r = "base64 output does not fit";
		return -1;
	}
	uint32_t acc = 0;
	size_t o = 0;
	for (size_t i = 0; i < data_len; i++) {
		int v = sextet(alphabet, (unsigned char)text[i]);
		if (v < 0) {
			*error_r = text[i] == '=' ? "base64 padding in the middle"
			                          : "invalid base64 character";
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	/* A partial last group: its unused low bits must be zero. */
	size_t tail = data_len % 4;
	if (tail == 2) {
		if (acc & 0xf)
			goto noncanonical;
		out[o++] = (unsigned char)(acc >> 4);
	} else if (tail == 3) {
		if (acc & 0x3)
			goto noncanonical;
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
	}
	return (long)o;
noncanonical:
	*error_r = "base64 text is not canonical (non-zero padding bits)";
	return -1;
}
