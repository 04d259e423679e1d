/*
 * netaddr.h — socket addresses and CIDR networks as config values.
 */
#ifndef PETREL_NETADDR_H
#define PETREL_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;
};

/* "192.0.2.0/24", "2001:db8::/32", or a bare address (full prefix). */
int cidr_parse(const char *s, struct cidr *cidr, const char **error_r);
/* IPv4-mapped IPv6 addresses match IPv4 networks. */
bool cidr_match(const struct cidr *cidr, const struct sockaddr *sa);
void cidr_format(const struct cidr *cidr, char *out, size_t out_size);

/* "IP:port" or "[IPv6]:port" into *ss. */
int sockaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len_r,
                   const char **error_r);
/* Like sockaddr_parse, but the port may be left out: "IP", "[IPv6]" or
 * a bare IPv6 address get default_port. */
int sockaddr_parse_host_port(const char *s, unsigned default_port,
                             struct sockaddr_storage *ss, socklen_t *len_r,
                             const char **error_r);
/* The port of an AF_INET or AF_INET6 address. */
unsigned sockaddr_port(const struct sockaddr *sa);
/* The address alone ("192.0.2.1", "2001:db8::1"); v4-mapped shown as v4. */
void sockaddr_ip(const struct sockaddr *sa, char *out, size_t out_size);
/* 127.0.0.0/8, ::1, or ::ffff:127.x.x.x */
bool sockaddr_is_loopback(const struct sockaddr *sa);
/* "192.0.2.1:25" or "[2001:db8::1]:25". */
void sockaddr_format(const struct sockaddr *sa, char *out, size_t out_size);

#endif
