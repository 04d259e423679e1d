/*
 * test-netaddr.c — CIDR parsing and matching, listen addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/netaddr.h"

static bool match(const char *net, const char *ip)
{
	struct cidr cidr;
	const char *error;
	assert_int_equal(cidr_parse(net, &cidr, &error), 0);
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &in6->sin6_addr);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &in->sin_addr);
	}
	return cidr_match(&cidr, (struct sockaddr *)&ss);
}

static void test_cidr(void **state)
{
	(void)state;
	assert_true(match("192.0.2.0/24", "192.0.2.77"));
	assert_false(match("192.0.2.0/24", "192.0.3.1"));
	assert_true(match("192.0.2.128/25", "192.0.2.200"));
	assert_false(match("192.0.2.128/25", "192.0.2.100"));
	assert_true(match("0.0.0.0/0", "203.0.113.9"));
	assert_true(match("127.0.0.1", "127.0.0.1"));
	assert_false(match("127.0.0.1", "127.0.0.2"));
	assert_true(match("2001:db8::/32", "2001:db8:1::5"));
	assert_false(match("2001:db8::/32", "2001:db9::5"));
	assert_true(match("10.0.0.0/8", "::ffff:10.1.2.3"));
	assert_false(match("10.0.0.0/8", "::1"));
	struct cidr c;
	const char *error;
	static const char *const bad[] = {"",       "10.0.0.0/", "10.0.0.0/33",
	                                  "::/129", "x/8",       "10.0.0.0/8x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cidr_parse(bad[i], &c, &error), -1);
}

static void test_host_port(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	socklen_t len;
	const char *error;
	char text[64];
	static const struct {
		const char *in, *out;
	} good[] = {{"192.0.2.53", "192.0.2.53:53"},
	            {"192.0.2.53:5353", "192.0.2.53:5353"},
	            {"2001:db8::1", "[2001:db8::1]:53"},
	            {"[2001:db8::1]", "[2001:db8::1]:53"},
	            {"[::1]:5353", "[::1]:5353"}};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(
		    sockaddr_parse_host_port(good[i].in, 53, &ss, &len, &error), 0);
		sockaddr_format((struct sockaddr *)&ss, text, sizeof(text));
		assert_string_equal(text, good[i].out);
	}
	static const char *const bad[] = {"", "ns.example", "192.0.2.0/24", "[]",
	                                  "1.2.3.4:x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sockaddr_parse_host_port(bad[i], 53, &ss, &len, &error),
		                 -1);
}

static void test_sockaddr(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	socklen_t len;
	const char *error;
	char text[64];
	assert_int_equal(sockaddr_parse("127.0.0.1:2525", &ss, &len, &error), 0);
	sockaddr_format((struct sockaddr *)&ss, text, sizeof(text));
	assert_string_equal(text, "127.0.0.1:2525");
	assert_int_equal(sockaddr_parse("[::1]:25", &ss, &len, &error), 0);
	sockaddr_format((struct sockaddr *)&ss, text, sizeof(text));
	assert_string_equal(text, "[::1]:25");
	static const char *const bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
	                                  "::1:25",    "[::1]25",    "host:25",
	                                  ":25"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sockaddr_parse(bad[i], &ss, &len, &error), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_sockaddr),
	    cmocka_unit_test(test_host_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
