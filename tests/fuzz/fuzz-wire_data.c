/*
 * fuzz-wire_data.c — libFuzzer target: outbound DATA encoding. Whatever
 * the message, the wire form has CRLF line ends only, no line over 998
 * octets, and petrel's own DATA reader finds its end exactly at the end,
 * with no bare CR or LF: nothing can be smuggled out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mta/wire_data.h"
#include "proto/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = data[0] % 16 + 1;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	struct wire_data w;
	struct buf out = BUF_INIT;
	wire_data_init(&w);
	for (size_t pos = 0; pos < len; pos += chunk)
		wire_data_encode(&w, in + pos, chunk < len - pos ? chunk : len - pos,
		                 &out);
	wire_data_finish(&w, &out);

	size_t line = 0;
	for (size_t i = 0; i < out.len; i++) {
		if (out.data[i] == '\n') {
			if (i == 0 || out.data[i - 1] != '\r')
				abort();
			line = 0;
		} else if (out.data[i] == '\r') {
			if (i + 1 >= out.len || out.data[i + 1] != '\n')
				abort();
		} else if (++line > WIRE_LINE_MAX) {
			abort();
		}
	}
	struct smtp_data reader;
	smtp_data_init(&reader, 1000);
	char *plain = malloc(out.len + 1);
	size_t plain_len;
	size_t consumed = smtp_data_feed(&reader, out.data, out.len, plain, &plain_len);
	if (consumed != out.len || reader.flags != 0)
		abort();
	free(plain);
	buf_free(&out);
	return 0;
}
