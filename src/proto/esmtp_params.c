/*
 * esmtp_params.c — ESMTP parameters and xtext (see esmtp_params.h).
 */
#include "proto/esmtp_params.h"

#include <string.h>
#include <strings.h>

#include "proto/utf8.h"

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int esmtp_params_parse(const char *in, size_t len, struct esmtp_params *params,
                       const char **error_r)
{
	size_t pos = 0;
	params->count = 0;
	for (;;) {
		while (pos < len && in[pos] == ' ')
			pos++;
		if (pos >= len)
			return 0;
		if (params->count == ESMTP_PARAMS_MAX) {
			*error_r = "too many parameters";
			return -1;
		}
		struct esmtp_param *p = &params->param[params->count];
		p->keyword = in + pos;
		if (!is_alnum((unsigned char)in[pos])) {
			*error_r = "bad parameter keyword";
			return -1;
		}
		while (pos < len && (is_alnum((unsigned char)in[pos]) || in[pos] == '-'))
			pos++;
		p->keyword_len = (size_t)(in + pos - p->keyword);
		p->value = NULL;
		p->value_len = 0;
		if (pos < len && in[pos] == '=') {
			pos++;
			p->value = in + pos;
			while (pos < len && in[pos] != ' ') {
				unsigned char c = (unsigned char)in[pos];
				if (c >= 0x80) {
					size_t n =
					    utf8_sequence_length(in + pos, len - pos);
					if (n == 0) {
						*error_r =
						    "invalid UTF-8 in parameter value";
						return -1;
					}
					pos += n;
					continue;
				}
				if (c < 33 || c > 126 || c == '=') {
					*error_r = "bad character in parameter value";
					return -1;
				}
				pos++;
			}
			p->value_len = (size_t)(in + pos - p->value);
			if (p->value_len == 0) {
				*error_r = "empty parameter value";
				return -1;
			}
		}
		if (pos < len && in[pos] != ' ') {
			*error_r = "bad parameter syntax";
			return -1;
		}
		/* Each keyword once: a second BODY= or SIZE= has no meaning
		 * RFC 5321 could give it, only a way to confuse the handler. */
		for (size_t i = 0; i < params->count; i++) {
			const struct esmtp_param *q = &params->param[i];
			if (q->keyword_len == p->keyword_len &&
			    strncasecmp(q->keyword, p->keyword, p->keyword_len) == 0) {
				*error_r = "duplicate parameter";
				return -1;
			}
		}
		params->count++;
	}
}

const struct esmtp_param *esmtp_params_find(const struct esmtp_params *params,
                                            const char *keyword)
{
	size_t klen = strlen(keyword);
	for (size_t i = 0; i < params->count; i++) {
		const struct esmtp_param *p = &params->param[i];
		if (p->keyword_len == klen && strncasecmp(p->keyword, keyword, klen) == 0)
			return p;
	}
	return NULL;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* RFC 3461: hexchar uses upper case only */
}

int xtext_decode(const char *in, size_t len, char *out, size_t out_size,
                 const char **error_r)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '+') {
			if (len - i < 3 || hex_value(in[i + 1]) < 0 ||
			    hex_value(in[i + 2]) < 0) {
				*error_r = "malformed xtext escape";
				return -1;
			}
			c = (unsigned char)(hex_value(in[i + 1]) * 16 +
			                    hex_value(in[i + 2]));
			i += 2;
		}
		if (c < 33 || c > 126) {
			*error_r =
			    "forbidden character in xtext (control, space or 8-bit)";
			return -1;
		}
		if (o + 1 >= out_size) {
			*error_r = "xtext value too long";
			return -1;
		}
		out[o++] = (char)c;
	}
	if (out_size)
		out[o] = '\0';
	return (int)o;
}
