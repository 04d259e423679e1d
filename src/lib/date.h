/*
 * date.h — RFC 5322 3.3 date-time, as in Received and Date headers.
 */
#ifndef PETREL_DATE_H
#define PETREL_DATE_H

#include <stddef.h>
#include <stdint.h>

/* "Mon, 23 Nov 2026 22:44:18 +0000" for t in local time. */
void date_rfc5322(int64_t t, char *out, size_t size);

#endif
