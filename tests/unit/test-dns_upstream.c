/*
 * test-dns_upstream.c — resolv.conf's name servers (dns/upstream.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dns/upstream.h"

static size_t read_text(const char *text, char ***servers, int *why)
{
	char path[] = "/tmp/petrel-resolv-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	size_t n = dns_upstream_read_resolv_conf(path, servers, why);
	unlink(path);
	return n;
}

static void test_nameserver_lines(void **state)
{
	(void)state;
	char **servers;
	int why;
	size_t n = read_text("# comment\n"
	                     "search example.net\n"
	                     "nameserver 192.0.2.53\n"
	                     "nameserver   2001:db8::53\n"
	                     "nameserver fe80::1%eth0\n"
	                     "nameserver not-an-address\n"
	                     "nameserver\n"
	                     "options edns0 ndots:2\n"
	                     "nameserver 192.0.2.54 # trailing\n",
	                     &servers, &why);
	assert_int_equal(why, 0);
	assert_int_equal(n, 4);
	assert_string_equal(servers[0], "192.0.2.53");
	assert_string_equal(servers[1], "[2001:db8::53]");
	assert_string_equal(servers[2], "[fe80::1]");
	assert_string_equal(servers[3], "192.0.2.54");
	dns_upstream_free(&servers, n);
	assert_null(servers);
}

static void test_none_means_localhost(void **state)
{
	(void)state;
	char **servers;
	int why;
	size_t n = read_text("search example.net\n", &servers, &why);
	assert_int_equal(why, -1);
	assert_int_equal(n, 1);
	assert_string_equal(servers[0], "127.0.0.1");
	dns_upstream_free(&servers, n);
	n = dns_upstream_read_resolv_conf("/nonexistent/resolv.conf", &servers, &why);
	assert_int_equal(why, -1);
	assert_string_equal(servers[0], "127.0.0.1");
	dns_upstream_free(&servers, n);
	/* A directory cannot be read as one: said, not taken as empty. */
	n = dns_upstream_read_resolv_conf("/", &servers, &why);
	assert_int_equal(n, 1);
	assert_true(why == EISDIR || why == -1);
	dns_upstream_free(&servers, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nameserver_lines),
	    cmocka_unit_test(test_none_means_localhost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
