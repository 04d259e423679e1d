/*
 * upstream.h — which name servers petrel's resolver asks, by default
 * those of /etc/resolv.conf (as Postfix and Exim do, through the C
 * library), and a quick check of whether one is there at all.
 */
#ifndef PETREL_DNS_UPSTREAM_H
#define PETREL_DNS_UPSTREAM_H

#include <stddef.h>

/*
 * The "nameserver" lines of a resolv.conf file, as "IP" strings (an IPv6
 * zone index dropped). A missing file or one without such lines means
 * 127.0.0.1, as for the C library: *why_r is then -1, or the errno when
 * the file exists but could not be read; 0 when it named servers.
 * Returns the count; free the list with dns_upstream_free.
 */
size_t dns_upstream_read_resolv_conf(const char *path, char ***servers_r, int *why_r);
void dns_upstream_free(char ***servers, size_t count);

/*
 * Sends one small query to server ("IP" or "IP:port") over a connected
 * UDP socket and waits up to timeout_ms: 0 when something answered or
 * nothing was heard (a slow server is not judged here), else the errno
 * the network reported (ECONNREFUSED: nothing listens there). Blocking:
 * for the command line, never for an event loop.
 */
int dns_upstream_probe(const char *server, unsigned timeout_ms);

#endif
