/*
 * netaddr.c — parsing and matching of addresses and networks.
 */
#include "lib/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"

int cidr_parse(const char *s, struct cidr *cidr, const char **error_r)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t host_len = slash ? (size_t)(slash - s) : strlen(s);
	if (host_len == 0 || host_len >= sizeof(host)) {
		*error_r = "expected a network such as 192.0.2.0/24 or 2001:db8::/32";
		return -1;
	}
	memcpy(host, s, host_len);
	host[host_len] = '\0';
	memset(cidr, 0, sizeof(*cidr));
	unsigned max;
	if (inet_pton(AF_INET, host, cidr->addr) == 1) {
		cidr->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, cidr->addr) == 1) {
		cidr->family = AF_INET6;
		max = 128;
	} else {
		*error_r = "expected a network such as 192.0.2.0/24 or 2001:db8::/32";
		return -1;
	}
	cidr->prefix = max;
	if (slash) {
		char *end;
		unsigned long prefix = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || prefix > max) {
			*error_r = "bad prefix length";
			return -1;
		}
		cidr->prefix = (unsigned)prefix;
	}
	return 0;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool cidr_match(const struct cidr *cidr, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return cidr->family == AF_INET &&
		       prefix_equal(cidr->addr, (const unsigned char *)&in->sin_addr,
		                    cidr->prefix);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		const unsigned char *a = in6->sin6_addr.s6_addr;
		if (cidr->family == AF_INET6)
			return prefix_equal(cidr->addr, a, cidr->prefix);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			return prefix_equal(cidr->addr, a + 12, cidr->prefix);
	}
	return false;
}

void cidr_format(const struct cidr *cidr, char *out, size_t out_size)
{
	char host[INET6_ADDRSTRLEN];
	inet_ntop(cidr->family, cidr->addr, host, sizeof(host));
	snprintf(out, out_size, "%s/%u", host, cidr->prefix);
}

int sockaddr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len_r,
                   const char **error_r)
{
	char host[64];
	const char *colon;
	const char *host_start = s;
	size_t host_len;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			goto bad;
		host_start = s + 1;
		host_len = (size_t)(close - host_start);
		colon = close + 1;
	} else {
		/* An IPv6 address needs brackets: "::1:25" is ambiguous. */
		colon = strchr(s, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL)
			goto bad;
		host_len = (size_t)(colon - s);
	}
	if (host_len == 0 || host_len >= sizeof(host))
		goto bad;
	memcpy(host, host_start, host_len);
	host[host_len] = '\0';
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port > 65535)
		goto bad;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)port);
		*len_r = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		*len_r = sizeof(*in6);
		return 0;
	}
bad:
	*error_r = "expected \"IP:port\" or \"[IPv6]:port\"";
	return -1;
}

int sockaddr_parse_host_port(const char *s, unsigned default_port,
                             struct sockaddr_storage *ss, socklen_t *len_r,
                             const char **error_r)
{
	if (sockaddr_parse(s, ss, len_r, error_r) == 0)
		return 0;
	char host[64];
	size_t n = strlen(s);
	/* "[IPv6]" without a port: drop the brackets. */
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(host))
		goto bad;
	memcpy(host, s, n);
	host[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)default_port);
		*len_r = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)default_port);
		*len_r = sizeof(*in6);
		return 0;
	}
bad:
	*error_r = "expected \"IP\", \"IP:port\" or \"[IPv6]:port\"";
	return -1;
}

unsigned sockaddr_port(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET
	           ? ntohs(((const struct sockaddr_in *)sa)->sin_port)
	           : ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
}

void sockaddr_ip(const struct sockaddr *sa, char *out, size_t out_size)
{
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
		          (socklen_t)out_size);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, out,
			          (socklen_t)out_size);
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)out_size);
	} else if (sa->sa_family == AF_UNIX) {
		snprintf(out, out_size, "unix");
	} else {
		snprintf(out, out_size, "unknown");
	}
}

void sockaddr_format(const struct sockaddr *sa, char *out, size_t out_size)
{
	char ip[INET6_ADDRSTRLEN];
	sockaddr_ip(sa, ip, sizeof(ip));
	unsigned port = sockaddr_port(sa);
	if (strchr(ip, ':'))
		snprintf(out, out_size, "[%s]:%u", ip, port);
	else
		snprintf(out, out_size, "%s:%u", ip, port);
}

bool sockaddr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) ==
		       127;
	if (sa->sa_family != AF_INET6)
		return false;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	return IN6_IS_ADDR_LOOPBACK(a) ||
	       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}
