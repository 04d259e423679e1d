/*
 * cte.h — Content-Transfer-Encoding decoding (RFC 2045 6): base64 and
 * quoted-printable, as IMAP's BINARY (RFC 3516, part of IMAP4rev2) hands
 * parts out decoded. Streaming and pure: any piece of the encoded text
 * in, its decoded octets out, with the state kept in between; memory is
 * the caller's. Tolerant of what mailers write: white space and line
 * ends inside base64 are skipped, an "=" not followed by two hex digits
 * in quoted-printable is kept as it is.
 */
#ifndef PETREL_CTE_H
#define PETREL_CTE_H

#include <stdbool.h>
#include <stddef.h>

enum cte_kind {
	CTE_IDENTITY, /* 7bit, 8bit, binary, or none given */
	CTE_BASE64,
	CTE_QUOTED_PRINTABLE,
	CTE_UNKNOWN, /* BINARY answers [UNKNOWN-CTE] */
};

struct cte_decoder {
	enum cte_kind kind;
	unsigned bits, nbits; /* base64: bits waiting */
	bool done;            /* base64: padding seen */
	char held[3];         /* quoted-printable: "=", "=X" or "\r" waiting */
	size_t held_len;
};

/* The kind a Content-Transfer-Encoding value names (case-insensitive,
 * white space around it ignored; NULL: identity). */
enum cte_kind cte_kind_of(const char *value, size_t len);

void cte_decoder_init(struct cte_decoder *d, enum cte_kind kind);

/* Decodes in[0..len) into out, which has room for len + 3 octets;
 * returns how many octets it wrote. */
size_t cte_decode(struct cte_decoder *d, const char *in, size_t len, char *out);
/* At the end of the input: what is still held, decoded (out: 3 octets). */
size_t cte_finish(struct cte_decoder *d, char *out);

#endif
