/*
 * dns_status.c — names of DNS outcome codes (see dns_status.h).
 */
#include "dns/dns_status.h"

#include <stdio.h>

const char *dns_status_name(int status)
{
	switch (status) {
	case DNS_NOERROR:
		return "NOERROR";
	case DNS_FORMERR:
		return "FORMERR";
	case DNS_SERVFAIL:
		return "SERVFAIL";
	case DNS_NXDOMAIN:
		return "NXDOMAIN";
	case DNS_NOTIMP:
		return "NOTIMP";
	case DNS_REFUSED:
		return "REFUSED";
	case DNS_NODATA:
		return "NODATA";
	case DNS_TIMEOUT:
		return "TIMEOUT";
	case DNS_BOGUS:
		return "BOGUS";
	case DNS_BADNAME:
		return "BADNAME";
	case DNS_BADTYPE:
		return "BADTYPE";
	case DNS_NETWORK:
		return "NETWORK";
	case DNS_INTERNAL:
		return "INTERNAL";
	default: {
		static __thread char other[16];
		snprintf(other, sizeof(other), "RCODE%d", status);
		return other;
	}
	}
}

int dns_status_is_temporary(int status)
{
	/* RFC 5321 5.1 and practice: only a definite "does not exist" is
	 * permanent; everything else may heal. */
	return status != DNS_NOERROR && status != DNS_NXDOMAIN && status != DNS_NODATA &&
	       status != DNS_BADNAME;
}
