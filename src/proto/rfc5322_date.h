/*
 * rfc5322_date.h — the Date: field (RFC 5322 3.3, and the obsolete
 * forms of 4.3 that mail still carries: two-digit years, zone names,
 * comments, missing seconds), for SEARCH SENTBEFORE/SENTON/SENTSINCE
 * and SORT DATE. Pure.
 */
#ifndef PETREL_RFC5322_DATE_H
#define PETREL_RFC5322_DATE_H

#include <stddef.h>
#include <stdint.h>

/* Seconds since the epoch (UTC) and the zone's offset in seconds; 0, or
 * -1 when text is no date. */
int rfc5322_date_parse(const char *text, size_t len, int64_t *time_r, int *zone_r);

#endif
