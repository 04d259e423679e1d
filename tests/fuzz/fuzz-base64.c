/*
 * fuzz-base64.c — libFuzzer target: strict base64. Whatever decodes must
 * encode back to exactly the same text (only canonical input is
 * accepted), and the decoder never writes past its output.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum base64_alphabet alphabet = data[0] & 1 ? BASE64_URL : BASE64_STANDARD;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	size_t max = base64_decoded_max(len);
	unsigned char *out = malloc(max ? max : 1);
	const char *error = NULL;
	long n = base64_decode(alphabet, text, len, out, max, &error);
	if (n < 0) {
		if (error == NULL)
			abort();
	} else {
		if ((size_t)n > max)
			abort();
		size_t size_needed = base64_encoded_length((size_t)n) + 1;
		char *again = malloc(size_needed);
		size_t m = base64_encode(alphabet, out, (size_t)n, again, size_needed);
		if (m != len || memcmp(again, text, len) != 0)
			abort(); /* accepted a non-canonical encoding */
		free(again);
	}
	/* Encoding anything decodes back to it. */
	size_t enc_size = base64_encoded_length(len) + 1;
	char *enc = malloc(enc_size);
	size_t m = base64_encode(alphabet, text, len, enc, enc_size);
	unsigned char *back = malloc(base64_decoded_max(m) + 1);
	long k = base64_decode(alphabet, enc, m, back, base64_decoded_max(m), &error);
	if (k != (long)len || memcmp(back, text, len) != 0)
		abort();
	free(back);
	free(enc);
	free(out);
	return 0;
}
