/*
 * rfc5322.h — pure parser of a message's header section (RFC 5322 2.2,
 * 3.6), for the end-of-data stage and later DKIM, SPF and scripts.
 *
 *   header-section = *field [CRLF]      field = name ":" value CRLF
 *   value continues on lines that begin with a space or a tab (folding)
 *
 * The section ends at the empty line, or before the first line that is
 * neither a field nor a continuation (such a line starts the body, as in
 * Postfix); the octets are never changed, so a message is re-assembled
 * from its header section and what follows byte for byte. Bounded: the
 * caller gives the largest section and the most fields it accepts
 * (Dovecot CVE-2020-12100 class: header bombs), and nothing is allocated.
 * Lines end with LF; a CR before it belongs to the line ending.
 */
#ifndef PETREL_RFC5322_H
#define PETREL_RFC5322_H

#include <stdbool.h>
#include <stddef.h>

struct rfc5322_scan {
	size_t size_max;    /* octets the section may have */
	unsigned count_max; /* fields it may have */
	size_t pos;         /* start of the first line not yet examined */
	unsigned fields;
	bool in_field; /* the last line examined was part of a field */
};

void rfc5322_scan_init(struct rfc5322_scan *scan, size_t size_max, unsigned count_max);

/*
 * Looks for the end of the header section in data[0..len): the message's
 * first octets, as many as have arrived (the same data, longer, at each
 * call; lines already examined are not examined again).
 *   1  found: the section is data[0..*end_r); the body (with the empty
 *      line, if there is one) starts there;
 *   0  not yet: call again with more data, or rfc5322_scan_finish() at
 *      the end of the message;
 *  -1  too large or too many fields: *error_r says which.
 */
int rfc5322_scan(struct rfc5322_scan *scan, const char *data, size_t len, size_t *end_r,
                 const char **error_r);

/* At the end of the message (data[0..len) is all of it): the section
 * ends where the message does, a last line without LF included. Same
 * returns as rfc5322_scan() but never 0. */
int rfc5322_scan_finish(struct rfc5322_scan *scan, const char *data, size_t len,
                        size_t *end_r, const char **error_r);

struct rfc5322_field {
	const char *name; /* not terminated */
	size_t name_len;
	const char *value; /* after the colon, folding kept, without the CRLF */
	size_t value_len;
	const char *raw; /* the whole field with its line ending */
	size_t raw_len;
};

/*
 * Iterates over the fields of a section found by rfc5322_scan(): call with
 * *pos = 0, then again while it returns 1 (a field in *field, *pos moved
 * past it); 0 at the end of the section.
 */
int rfc5322_next_field(const char *section, size_t len, size_t *pos,
                       struct rfc5322_field *field);

/* True if name[0..len) is a field name: printable US-ASCII but ':'. */
bool rfc5322_name_valid(const char *name, size_t len);

#endif
