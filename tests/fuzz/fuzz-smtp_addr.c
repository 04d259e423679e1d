/*
 * fuzz-smtp_addr.c — libFuzzer target: SMTP paths and ESMTP parameters.
 * A parsed address must format and re-parse to the same address.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/esmtp_params.h"
#include "proto/smtp_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *error;
	struct smtp_addr addr;
	/* A mailbox of ours names a Maildir: never a '/' or a leading '.'. */
	if (smtp_addr_mailbox_check(in, size, &addr, &error) == 0 &&
	    (addr.local[0] == '.' || memchr(addr.local, '/', addr.local_len) ||
	     addr.quoted || addr.domain_literal || addr.domain_len == 0))
		__builtin_trap();
	int n = smtp_addr_parse(
	    in, size, SMTP_ADDR_ALLOW_NULL | SMTP_ADDR_ALLOW_POSTMASTER, &addr, &error);
	if (n < 0)
		return 0;
	if ((size_t)n > size || addr.local_len > SMTP_LOCAL_MAX ||
	    addr.domain_len > SMTP_DOMAIN_MAX)
		__builtin_trap();
	struct esmtp_params params;
	esmtp_params_parse(in + n, size - (size_t)n, &params, &error);
	for (size_t i = 0; i < params.count; i++) {
		char value[600];
		if (params.param[i].value)
			xtext_decode(params.param[i].value, params.param[i].value_len,
			             value, sizeof(value), &error);
	}
	if (addr.null_path || addr.domain_len == 0)
		return 0;
	char text[SMTP_PATH_MAX * 2 + 8], path[SMTP_PATH_MAX * 2 + 16];
	if (smtp_addr_format(&addr, text, sizeof(text)) < 0)
		__builtin_trap();
	snprintf(path, sizeof(path), "<%s>", text);
	struct smtp_addr again;
	/* Re-quoting may lengthen the path past its limit; otherwise the
	 * round trip must hold. */
	if (smtp_addr_parse(path, strlen(path), 0, &again, &error) < 0) {
		if (strlen(path) <= SMTP_PATH_MAX)
			__builtin_trap();
		return 0;
	}
	if (strcmp(addr.local, again.local) != 0 ||
	    strcmp(addr.domain, again.domain) != 0)
		__builtin_trap();
	return 0;
}
