/*
 * upstream.c — resolv.conf's name servers and a reachability probe (see
 * upstream.h).
 */
#include "dns/upstream.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/netaddr.h"
#include "lib/xalloc.h"

/* The C library reads at most this many (MAXNS); petrel takes them all. */
#define UPSTREAM_MAX 16

size_t dns_upstream_read_resolv_conf(const char *path, char ***servers_r, int *why_r)
{
	char **servers = xcalloc(UPSTREAM_MAX, sizeof(*servers));
	size_t count = 0;
	FILE *f = fopen(path, "r");
	int open_error = f == NULL && errno != ENOENT ? errno : 0;
	char line[512];
	while (f && count < UPSTREAM_MAX && fgets(line, sizeof(line), f)) {
		char word[16], address[128];
		if (sscanf(line, "%15s %127s", word, address) != 2 ||
		    strcmp(word, "nameserver") != 0)
			continue;
		address[strcspn(address, "%")] = '\0'; /* fe80::1%eth0 */
		/* The host:port parser takes IPv6 in brackets. */
		char server[132];
		if (strchr(address, ':'))
			snprintf(server, sizeof(server), "[%s]", address);
		else
			snprintf(server, sizeof(server), "%s", address);
		struct sockaddr_storage ss;
		socklen_t len;
		const char *error;
		if (sockaddr_parse_host_port(server, 53, &ss, &len, &error) == 0)
			servers[count++] = xstrdup(server);
	}
	if (f)
		fclose(f);
	*why_r = count ? 0 : open_error ? open_error : -1;
	if (count == 0)
		servers[count++] = xstrdup("127.0.0.1");
	*servers_r = servers;
	return count;
}

void dns_upstream_free(char ***servers, size_t count)
{
	for (size_t i = 0; *servers && i < count; i++)
		free((*servers)[i]);
	x_free(servers);
}

int dns_upstream_probe(const char *server, unsigned timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *error;
	if (sockaddr_parse_host_port(server, 53, &ss, &len, &error) < 0)
		return EINVAL;
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	/* ". NS", no recursion wanted: any server answers it at once. */
	static const unsigned char query[] = {0x70, 0x65, 0x00, 0x00, 0x00, 0x01,
	                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	                                      0x00, 0x00, 0x02, 0x00, 0x01};
	int result = 0;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 ||
	    send(fd, query, sizeof(query), 0) < 0) {
		result = errno;
	} else {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)timeout_ms) > 0) {
			unsigned char answer[512];
			if (recv(fd, answer, sizeof(answer), 0) < 0)
				result = errno; /* the ICMP error of a closed port */
		}
	}
	close(fd);
	return result;
}
