/*
 * fuzz-smtp_data.c — libFuzzer target: DATA end detection. The input is
 * fed in chunks whose sizes come from the first octet; the result must
 * not depend on the chunking, the end must be a real <CRLF>.<CRLF>, and
 * the reader (which copies whole runs between line ends) must agree
 * octet for octet, and in its flags, with the plain one-octet-at-a-time
 * state machine below; the BDAT check with its flags too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t run(const char *in, size_t len, size_t chunk, char *out, size_t *out_len,
                  unsigned *flags)
{
	struct smtp_data d;
	smtp_data_init(&d, 1000);
	size_t pos = 0, total = 0;
	*out_len = 0;
	while (pos < len) {
		size_t n = chunk < len - pos ? chunk : len - pos;
		size_t produced;
		size_t used = smtp_data_feed(&d, in + pos, n, out + *out_len, &produced);
		if (produced > n + 1)
			__builtin_trap();
		*out_len += produced;
		if (used) {
			total = pos + used;
			break;
		}
		pos += n;
	}
	*flags = d.flags;
	return total;
}

/* --- the reference: one octet at a time ------------------------------------ */

enum { R_LINE_START, R_IN_LINE, R_AFTER_CR, R_AFTER_DOT, R_AFTER_DOT_CR };

struct ref {
	int state;
	size_t line_len;
	unsigned flags;
};

static void ref_count(struct ref *r)
{
	if (++r->line_len + 2 > 1000)
		r->flags |= SMTP_DATA_LONG_LINE;
}

/* Returns the end (octets through ".\r\n") or 0; the message into out. */
static size_t ref_feed(struct ref *r, const char *in, size_t len, char *out,
                       size_t *out_len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		switch (r->state) {
		case R_AFTER_DOT_CR:
			if (c == '\n') {
				*out_len = o;
				return i + 1;
			}
			r->flags |= SMTP_DATA_BARE_CR;
			out[o++] = '\r';
			ref_count(r);
			r->state = R_IN_LINE;
			break;
		case R_AFTER_DOT:
			r->line_len = 1;
			if (c == '\r') {
				r->state = R_AFTER_DOT_CR;
				continue;
			}
			r->state = R_IN_LINE;
			break;
		case R_AFTER_CR:
			if (c == '\n') {
				out[o++] = '\r';
				out[o++] = '\n';
				r->line_len = 0;
				r->state = R_LINE_START;
				continue;
			}
			r->flags |= SMTP_DATA_BARE_CR;
			out[o++] = '\r';
			ref_count(r);
			r->state = R_IN_LINE;
			break;
		case R_LINE_START:
			if (c == '.') {
				r->state = R_AFTER_DOT;
				continue;
			}
			r->state = R_IN_LINE;
			break;
		}
		if (c == '\r') {
			r->state = R_AFTER_CR;
		} else {
			if (c == '\n')
				r->flags |= SMTP_DATA_BARE_LF;
			out[o++] = c;
			ref_count(r);
		}
	}
	*out_len = o;
	return 0;
}

static unsigned ref_check(const char *in, size_t len)
{
	struct ref r = {R_IN_LINE, 0, 0};
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (r.state == R_AFTER_CR) {
			if (c == '\n') {
				r.line_len = 0;
				r.state = R_IN_LINE;
				continue;
			}
			r.flags |= SMTP_DATA_BARE_CR;
			ref_count(&r);
			r.state = R_IN_LINE;
		}
		if (c == '\r') {
			r.state = R_AFTER_CR;
			continue;
		}
		if (c == '\n')
			r.flags |= SMTP_DATA_BARE_LF;
		ref_count(&r);
	}
	if (r.state == R_AFTER_CR)
		r.flags |= SMTP_DATA_BARE_CR;
	return r.flags;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = 1 + data[0] % 17;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	char *a = malloc(len + 2), *b = malloc(len + 2);
	size_t a_len, b_len;
	unsigned a_flags, b_flags;
	size_t a_end = run(in, len, len ? len : 1, a, &a_len, &a_flags);
	size_t b_end = run(in, len, chunk, b, &b_len, &b_flags);
	if (a_end != b_end || a_len != b_len || memcmp(a, b, a_len) != 0 ||
	    a_flags != b_flags)
		__builtin_trap();
	/* The end is always a line ".\r\n" preceded by CRLF (or at the start). */
	if (a_end) {
		if (a_end < 3 || memcmp(in + a_end - 3, ".\r\n", 3) != 0)
			__builtin_trap();
		if (a_end > 3 && (a_end < 5 || memcmp(in + a_end - 5, "\r\n", 2) != 0))
			__builtin_trap();
	}
	struct ref r = {R_LINE_START, 0, 0};
	size_t r_len;
	size_t r_end = ref_feed(&r, in, len, b, &r_len);
	if (r_end != a_end || r_len != a_len || memcmp(a, b, a_len) != 0 ||
	    r.flags != a_flags)
		__builtin_trap();
	struct smtp_data check;
	smtp_data_init(&check, 1000);
	size_t half = chunk < len ? chunk : len;
	smtp_data_check(&check, in, half);
	smtp_data_check(&check, in + half, len - half);
	smtp_data_check_end(&check);
	if (check.flags != ref_check(in, len))
		__builtin_trap();
	free(a);
	free(b);
	return 0;
}
