/*
 * smtp_ehlo.c — EHLO capabilities (see smtp_ehlo.h).
 */
#include "proto/smtp_ehlo.h"

#include <string.h>
#include <strings.h>

void smtp_ehlo_init(struct smtp_ehlo *ehlo)
{
	memset(ehlo, 0, sizeof(*ehlo));
}

static bool is_keyword_char(unsigned char c, size_t pos)
{
	bool alnum =
	    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	return alnum || (pos > 0 && c == '-');
}

static bool word_is(const char *word, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(word, name, len) == 0;
}

/* "AUTH PLAIN LOGIN", or the pre-standard "AUTH=PLAIN LOGIN". */
static void read_mechanisms(struct smtp_ehlo *ehlo, const char *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (p[i] == ' ' || p[i] == '='))
			i++;
		size_t start = i;
		while (i < len && p[i] != ' ')
			i++;
		if (word_is(p + start, i - start, "PLAIN"))
			ehlo->auth |= SMTP_EHLO_AUTH_PLAIN;
		else if (word_is(p + start, i - start, "LOGIN"))
			ehlo->auth |= SMTP_EHLO_AUTH_LOGIN;
	}
}

/* SIZE's parameter: digits only, at most 19 of them. */
static void read_size(struct smtp_ehlo *ehlo, const char *p, size_t len)
{
	uint64_t value = 0;
	size_t i = 0;
	while (i < len && p[i] == ' ')
		i++;
	size_t digits = 0;
	for (; i < len && p[i] >= '0' && p[i] <= '9' && digits < 19; i++, digits++)
		value = value * 10 + (uint64_t)(p[i] - '0');
	if (digits > 0 && (i == len || p[i] == ' '))
		ehlo->size_limit = value;
}

int smtp_ehlo_line(struct smtp_ehlo *ehlo, const char *text, size_t len)
{
	size_t k = 0;
	while (k < len && is_keyword_char((unsigned char)text[k], k))
		k++;
	/* The keyword, then a space and parameters, or "=" for old AUTH=. */
	if (k == 0 || (k < len && text[k] != ' ' && text[k] != '='))
		return -1;
	for (size_t i = k; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 32 || c == 127)
			return -1; /* ehlo-param is printable (%d33-126) */
	}
	const char *params = text + k;
	size_t params_len = len - k;
	if (k < len && text[k] == '=') {
		if (!word_is(text, k, "AUTH"))
			return -1;
		read_mechanisms(ehlo, params, params_len);
		return 1;
	}
	if (word_is(text, k, "PIPELINING"))
		ehlo->pipelining = true;
	else if (word_is(text, k, "STARTTLS"))
		ehlo->starttls = true;
	else if (word_is(text, k, "8BITMIME"))
		ehlo->eightbitmime = true;
	else if (word_is(text, k, "SMTPUTF8"))
		ehlo->smtputf8 = true;
	else if (word_is(text, k, "DSN"))
		ehlo->dsn = true;
	else if (word_is(text, k, "CHUNKING"))
		ehlo->chunking = true;
	else if (word_is(text, k, "ENHANCEDSTATUSCODES"))
		ehlo->enhancedstatuscodes = true;
	else if (word_is(text, k, "AUTH"))
		read_mechanisms(ehlo, params, params_len);
	else if (word_is(text, k, "SIZE")) {
		ehlo->size = true;
		read_size(ehlo, params, params_len);
	} else
		return 0;
	return 1;
}
