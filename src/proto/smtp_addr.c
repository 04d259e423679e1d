/*
 * smtp_addr.c — SMTP path parser (see smtp_addr.h).
 */
#include "proto/smtp_addr.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "proto/utf8.h"

/* RFC 5322 atext: ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~" */
static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_let_dig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool smtp_addr_local_is_dot_string(const char *local, size_t len)
{
	if (len == 0 || local[0] == '.' || local[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)local[i];
		if (c == '.') {
			if (i + 1 < len && local[i + 1] == '.')
				return false;
		} else if (!is_atext(c) && c < 0x80) {
			return false;
		}
	}
	return true;
}

/* Dot-string with UTF-8 (RFC 6531 3.3). Returns octets consumed or -1. */
static int parse_dot_string(const char *in, size_t len, struct smtp_addr *addr)
{
	size_t pos = 0;
	bool need_atom = true;
	while (pos < len) {
		unsigned char c = (unsigned char)in[pos];
		if (c == '.') {
			if (need_atom)
				return -1;
			need_atom = true;
			pos++;
		} else if (is_atext(c)) {
			need_atom = false;
			pos++;
		} else if (c >= 0x80) {
			size_t n = utf8_sequence_length(in + pos, len - pos);
			if (n == 0)
				return -1;
			addr->utf8 = true;
			need_atom = false;
			pos += n;
		} else {
			break;
		}
	}
	if (need_atom || pos > SMTP_LOCAL_MAX)
		return -1;
	memcpy(addr->local, in, pos);
	addr->local_len = pos;
	addr->local[pos] = '\0';
	return (int)pos;
}

/* Quoted-string (RFC 5321 4.1.2): qtextSMTP / quoted-pairSMTP. */
static int parse_quoted_string(const char *in, size_t len, struct smtp_addr *addr)
{
	size_t pos = 1, out = 0;
	while (pos < len && in[pos] != '"') {
		unsigned char c = (unsigned char)in[pos];
		if (c == '\\') {
			/* quoted-pairSMTP = %d92 %d32-126 */
			if (pos + 1 >= len || in[pos + 1] < 32 || in[pos + 1] > 126)
				return -1;
			c = (unsigned char)in[pos + 1];
			pos += 2;
		} else if (c >= 32 && c <= 126) {
			pos++;
		} else if (c >= 0x80) {
			size_t n = utf8_sequence_length(in + pos, len - pos);
			if (n == 0 || out + n > SMTP_LOCAL_MAX)
				return -1;
			memcpy(addr->local + out, in + pos, n);
			out += n;
			pos += n;
			addr->utf8 = true;
			continue;
		} else {
			return -1;
		}
		if (out >= SMTP_LOCAL_MAX)
			return -1;
		addr->local[out++] = (char)c;
	}
	if (pos >= len)
		return -1;
	addr->local[out] = '\0';
	addr->local_len = out;
	addr->quoted = true;
	return (int)pos + 1;
}

/* Domain = sub-domain *("." sub-domain); U-labels allowed (RFC 6531). */
static int parse_domain(const char *in, size_t len, char *out, size_t *out_len,
                        bool *utf8)
{
	size_t pos = 0, label = 0;
	while (pos < len) {
		unsigned char c = (unsigned char)in[pos];
		size_t n = 1;
		if (c == '.') {
			if (label == 0 || in[pos - 1] == '-')
				return -1;
			label = 0;
		} else if (is_let_dig(c) || (c == '-' && label > 0)) {
			label++;
		} else if (c >= 0x80) {
			n = utf8_sequence_length(in + pos, len - pos);
			if (n == 0)
				return -1;
			*utf8 = true;
			label += n;
		} else {
			break;
		}
		if (label > 63 || pos + n > SMTP_DOMAIN_MAX)
			return -1;
		for (size_t i = 0; i < n; i++) {
			char d = in[pos + i];
			out[pos + i] = (d >= 'A' && d <= 'Z') ? (char)(d - 'A' + 'a') : d;
		}
		pos += n;
	}
	if (pos == 0 || label == 0 || in[pos - 1] == '-')
		return -1;
	out[pos] = '\0';
	*out_len = pos;
	return (int)pos;
}

/* address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" dcontent ) "]" */
static int parse_address_literal(const char *in, size_t len, struct smtp_addr *addr)
{
	const char *close = memchr(in, ']', len);
	if (close == NULL)
		return -1;
	size_t total = (size_t)(close - in) + 1;
	if (total > SMTP_DOMAIN_MAX || total < 3)
		return -1;
	/* dcontent is printable ASCII; a NUL would hide the rest from
	 * inet_pton (found by fuzzing). */
	for (size_t i = 1; i + 1 < total; i++)
		if (in[i] < 33 || in[i] > 126 || in[i] == '[' || in[i] == '\\')
			return -1;
	char inner[SMTP_DOMAIN_MAX + 1];
	memcpy(inner, in + 1, total - 2);
	inner[total - 2] = '\0';
	unsigned char bin[16];
	if (strncasecmp(inner, "IPv6:", 5) == 0) {
		if (inet_pton(AF_INET6, inner + 5, bin) != 1)
			return -1;
	} else if (inet_pton(AF_INET, inner, bin) != 1) {
		/* General-address-literal: a tag we do not route to. */
		return -1;
	}
	memcpy(addr->domain, in, total);
	addr->domain[total] = '\0';
	addr->domain_len = total;
	addr->domain_literal = true;
	return (int)total;
}

/* A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain */
static int skip_source_route(const char *in, size_t len)
{
	size_t pos = 0;
	char scratch[SMTP_DOMAIN_MAX + 1];
	size_t scratch_len;
	bool utf8 = false;
	for (;;) {
		if (pos >= len || in[pos] != '@')
			return -1;
		pos++;
		int n = parse_domain(in + pos, len - pos, scratch, &scratch_len, &utf8);
		if (n < 0)
			return -1;
		pos += (size_t)n;
		if (pos < len && in[pos] == ',') {
			pos++;
			continue;
		}
		if (pos < len && in[pos] == ':')
			return (int)pos + 1;
		return -1;
	}
}

int smtp_addr_parse(const char *in, size_t len, unsigned flags, struct smtp_addr *addr,
                    const char **error_r)
{
	memset(addr, 0, sizeof(*addr));
	if (len == 0 || in[0] != '<') {
		*error_r = "address must be enclosed in <>";
		return -1;
	}
	const char *close = memchr(in, '>', len);
	size_t path_len = close ? (size_t)(close - in) + 1 : len;
	if (path_len > SMTP_PATH_MAX) {
		*error_r = "path too long";
		return -1;
	}
	size_t pos = 1;
	if (len >= 2 && in[1] == '>') {
		if (!(flags & SMTP_ADDR_ALLOW_NULL)) {
			*error_r = "null address not allowed here";
			return -1;
		}
		addr->null_path = true;
		return 2;
	}
	if (pos < len && in[pos] == '@') {
		int n = skip_source_route(in + pos, len - pos);
		if (n < 0) {
			*error_r = "bad source route";
			return -1;
		}
		addr->source_route = true;
		pos += (size_t)n;
	}
	int n = pos < len && in[pos] == '"'
	            ? parse_quoted_string(in + pos, len - pos, addr)
	            : parse_dot_string(in + pos, len - pos, addr);
	if (n < 0) {
		*error_r = "bad local part";
		return -1;
	}
	pos += (size_t)n;
	if (pos < len && in[pos] == '>' && (flags & SMTP_ADDR_ALLOW_POSTMASTER) &&
	    !addr->quoted && !addr->source_route &&
	    strcasecmp(addr->local, "postmaster") == 0) {
		/* RFC 5321 4.1.1.3: "<Postmaster>" without a domain. */
		return (int)pos + 1;
	}
	if (pos >= len || in[pos] != '@') {
		*error_r = "address must be local-part@domain";
		return -1;
	}
	pos++;
	if (pos < len && in[pos] == '[')
		n = parse_address_literal(in + pos, len - pos, addr);
	else
		n = parse_domain(in + pos, len - pos, addr->domain, &addr->domain_len,
		                 &addr->utf8);
	if (n < 0) {
		*error_r = "bad domain";
		return -1;
	}
	pos += (size_t)n;
	if (pos >= len || in[pos] != '>') {
		*error_r = "unexpected character in address";
		return -1;
	}
	return (int)pos + 1;
}

int smtp_addr_format(const struct smtp_addr *addr, char *out, size_t out_size)
{
	size_t pos = 0;
#define PUT(c)                                                                           \
	do {                                                                             \
		if (pos + 1 >= out_size)                                                 \
			return -1;                                                       \
		out[pos++] = (c);                                                        \
	} while (0)
	if (addr->null_path) {
		if (out_size < 1)
			return -1;
		out[0] = '\0';
		return 0;
	}
	bool quote = !smtp_addr_local_is_dot_string(addr->local, addr->local_len);
	if (quote)
		PUT('"');
	for (size_t i = 0; i < addr->local_len; i++) {
		if (quote && (addr->local[i] == '"' || addr->local[i] == '\\'))
			PUT('\\');
		PUT(addr->local[i]);
	}
	if (quote)
		PUT('"');
	if (addr->domain_len) {
		PUT('@');
		for (size_t i = 0; i < addr->domain_len; i++)
			PUT(addr->domain[i]);
	}
#undef PUT
	out[pos] = '\0';
	return (int)pos;
}

int smtp_addr_mailbox_check(const char *address, size_t len, struct smtp_addr *addr,
                            const char **error_r)
{
	char path[SMTP_PATH_MAX + 3];
	if (len == 0 || len > SMTP_PATH_MAX || memchr(address, '\0', len)) {
		*error_r = "not an address local@domain";
		return -1;
	}
	path[0] = '<';
	memcpy(path + 1, address, len);
	path[len + 1] = '>';
	int n = smtp_addr_parse(path, len + 2, 0, addr, error_r);
	if (n < 0 || (size_t)n != len + 2 || addr->quoted || addr->domain_literal ||
	    addr->source_route || addr->domain_len == 0 ||
	    !smtp_addr_local_is_dot_string(addr->local, addr->local_len)) {
		*error_r = "not a plain address local@domain";
		return -1;
	}
	if (addr->local[0] == '.' || memchr(addr->local, '/', addr->local_len)) {
		*error_r = "a mailbox's local part may not contain '/' or start with '.'";
		return -1;
	}
	return 0;
}
