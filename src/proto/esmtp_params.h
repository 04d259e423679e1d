/*
 * esmtp_params.h — pure parser of MAIL/RCPT parameters (RFC 5321
 * 4.1.2 esmtp-param) and xtext (RFC 3461 4).
 *
 *   esmtp-param = esmtp-keyword ["=" esmtp-value]
 *   esmtp-value = 1*(%d33-60 / %d62-126)   ; RFC 6531 adds UTF-8
 */
#ifndef PETREL_ESMTP_PARAMS_H
#define PETREL_ESMTP_PARAMS_H

#include <stddef.h>

#define ESMTP_PARAMS_MAX 16

struct esmtp_param {
	const char *keyword; /* points into the input, not terminated */
	size_t keyword_len;
	const char *value; /* NULL when there is no "=value" */
	size_t value_len;
};

struct esmtp_params {
	struct esmtp_param param[ESMTP_PARAMS_MAX];
	size_t count;
};

/*
 * Parses space-separated parameters from in[0..len). Returns 0, or -1
 * with *error_r (bad syntax, a control byte, too many parameters, a
 * keyword given twice, in any case).
 */
int esmtp_params_parse(const char *in, size_t len, struct esmtp_params *params,
                       const char **error_r);

/* Finds a parameter by keyword, case-insensitively; NULL if absent. */
const struct esmtp_param *esmtp_params_find(const struct esmtp_params *params,
                                            const char *keyword);

/*
 * Decodes xtext into out (at most out_size-1 octets, NUL-terminated).
 * Refuses malformed "+XX" escapes and any decoded octet outside
 * 33..126 — CR, LF and NUL in particular can never reach an envelope
 * or a header this way. Returns the decoded length or -1.
 */
int xtext_decode(const char *in, size_t len, char *out, size_t out_size,
                 const char **error_r);

#endif
