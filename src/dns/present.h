/*
 * present.h — resource records in BIND presentation format.
 *
 * ldns renders the records; this module makes the result read as BIND
 * (dig) prints it: every character-string quoted (TXT, CAA, URI, NAPTR,
 * HINFO, and SVCB/HTTPS alpn values), upper-case hex digests (DS, CDS,
 * TA, TLSA, SSHFP), no ldns comments, TA (type 32768) decoded as the DS
 * format it is. One RR per line: name TTL class type data.
 */
#ifndef PETREL_DNS_PRESENT_H
#define PETREL_DNS_PRESENT_H

#include <ldns/ldns.h>
#include <stdint.h>

#include "lib/buf.h"

/* Appends the data part of rr (no owner, TTL, class or type). */
void dns_present_rdata(const ldns_rr *rr, struct buf *out);
/* Appends the type mnemonic ("A", "TA", "TYPE65280"). */
void dns_present_type(uint16_t type, struct buf *out);
/* Appends the whole RR as one line (no newline), fields separated by tabs. */
void dns_present_rr(const ldns_rr *rr, struct buf *out);
/* Parses a type mnemonic or TYPEnnn; returns 0 if unknown. */
uint16_t dns_type_parse(const char *name);

#endif
