/*
 * smtp_ehlo.h — pure parser of the capabilities in a server's reply to
 * EHLO (RFC 5321 4.1.1.1), for petrel's SMTP client.
 *
 *   ehlo-line = ehlo-keyword *( SP ehlo-param )
 *
 * One call per line of the 250 reply, the greeting line (index 0)
 * excluded, each line whole: capabilities are never lost because the
 * reply's display text was cut short. Unknown keywords are ignored, and so
 * is a line that is not a capability (a server's own extension text):
 * nothing in it can turn on a capability by accident.
 */
#ifndef PETREL_SMTP_EHLO_H
#define PETREL_SMTP_EHLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SASL mechanisms the client can use, as bits. */
enum smtp_ehlo_auth {
	SMTP_EHLO_AUTH_PLAIN = 1 << 0,
	SMTP_EHLO_AUTH_LOGIN = 1 << 1,
};

struct smtp_ehlo {
	bool pipelining, starttls, eightbitmime, smtputf8, dsn, chunking,
	    enhancedstatuscodes;
	bool size;           /* SIZE offered */
	uint64_t size_limit; /* SIZE n; 0: no limit given */
	unsigned auth;       /* enum smtp_ehlo_auth bits */
};

void smtp_ehlo_init(struct smtp_ehlo *ehlo);

/*
 * Reads one capability line, text[0..len) without the code and line end.
 * Returns 1 if it named a capability petrel knows, 0 if not (ignored), -1
 * if its syntax is not that of an ehlo-line (ignored too: the caller may
 * log it).
 */
int smtp_ehlo_line(struct smtp_ehlo *ehlo, const char *text, size_t len);

#endif
