/*
 * dns_status.h — stable numeric codes for DNS outcomes, shared by the
 * resolver, `petrel dns lookup` (text, --json and the exit status) and
 * the logs. DNS RCODEs keep their RFC numbers (RFC 1035 4.1.1, RFC 6895);
 * petrel's own outcomes start at 100. Never renumber.
 */
#ifndef PETREL_DNS_STATUS_H
#define PETREL_DNS_STATUS_H

enum dns_status {
	DNS_NOERROR = 0,
	DNS_FORMERR = 1,
	DNS_SERVFAIL = 2,
	DNS_NXDOMAIN = 3,
	DNS_NOTIMP = 4,
	DNS_REFUSED = 5,
	DNS_NODATA = 100,   /* NOERROR, but no record of that type */
	DNS_TIMEOUT = 101,  /* no answer in time */
	DNS_BOGUS = 102,    /* DNSSEC validation failed */
	DNS_BADNAME = 103,  /* not a valid domain name */
	DNS_BADTYPE = 104,  /* unknown record type */
	DNS_NETWORK = 105,  /* no server could be reached, or a malformed answer */
	DNS_INTERNAL = 106, /* resolver set-up or other local failure */
};

/* "NXDOMAIN" etc.; "RCODE7" for an RCODE without a name here. */
const char *dns_status_name(int status);

/* Temporary (retry later) or permanent (bounce) for mail routing. */
int dns_status_is_temporary(int status);

#endif
