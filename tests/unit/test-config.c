/*
 * test-config.c — the YAML loader: defaults, the embedded default, and
 * errors that name file:line:column and what was expected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"

static struct config *load(const char *yaml, const char **error)
{
	return config_load_string("test.yaml", yaml, strlen(yaml), NULL, error);
}

static void test_embedded_default(void **state)
{
	(void)state;
	const char *error = NULL;
	struct config *c = config_load(NULL, "/tmp/petrel-home", &error);
	assert_non_null(c);
	assert_string_equal(c->home, "/tmp/petrel-home");
	assert_int_equal(c->domain_count, 2);
	assert_true(config_is_local_domain(c, "EXAMPLE.test"));
	assert_int_equal(c->user_count, 4);
	assert_int_equal(c->listen_count, 9);
	assert_int_equal(c->listen[2].tls, TLS_IMPLICIT);
	assert_int_equal(c->listen[2].protocol, PROTO_SUBMISSION);
	assert_int_equal(c->listen[3].protocol, PROTO_IMAP);
	assert_int_equal(c->listen[3].tls, TLS_STARTTLS);
	assert_int_equal(c->listen[4].protocol, PROTO_IMAP);
	assert_int_equal(c->listen[4].tls, TLS_IMPLICIT);
	assert_int_equal(c->listen[5].protocol, PROTO_POP3);
	assert_int_equal(c->listen[5].tls, TLS_STARTTLS);
	assert_int_equal(c->listen[6].protocol, PROTO_POP3);
	assert_int_equal(c->listen[6].tls, TLS_IMPLICIT);
	assert_int_equal(c->listen[7].protocol, PROTO_LMTP);
	assert_string_equal(c->listen[7].unix_path, "run/lmtp.sock");
	assert_int_equal(c->listen[8].protocol, PROTO_HTTP);
	assert_int_equal(c->limits.message_size, 50 * 1024 * 1024);
	assert_int_equal(c->limits.recipients, 100);
	assert_int_equal(c->limits.command_line, 512);
	assert_int_equal(c->limits.text_line, 1000);
	assert_int_equal(c->limits.idle_timeout, 300);
	assert_int_equal(c->limits.data_timeout, 600);
	assert_int_equal(c->relay_network_count, 0);
	assert_int_equal(c->dns.server_count, 0);
	assert_int_equal(c->dns.timeout_ms, 10000);
	config_free(&c);
	assert_null(c);
}

static void test_full(void **state)
{
	(void)state;
	const char *error = NULL;
	struct config *c = load(
	    "hostname: mx.example.test\n"
	    "home: /var/petrel\n"
	    "domains: [Example.Test]\n"
	    "users: [{address: A@Example.Test, password: x}]\n"
	    "listen: [{protocol: submission, address: \"[::1]:587\", tls: starttls}]\n"
	    "tls: {certificate: /c.pem, key: /k.pem}\n"
	    "relay_networks: [10.0.0.0/8, \"2001:db8::/32\"]\n"
	    "limits: {message_size: 2048, recipients: 5, errors: 3}\n"
	    "log: {level: debug}\n",
	    &error);
	if (c == NULL)
		fail_msg("%s", error);
	assert_string_equal(c->hostname, "mx.example.test");
	assert_string_equal(c->domains[0], "example.test");
	assert_string_equal(c->users[0].address, "a@example.test");
	assert_int_equal(c->listen[0].protocol, PROTO_SUBMISSION);
	assert_int_equal(c->listen[0].addr.ss_family, AF_INET6);
	assert_int_equal(c->relay_network_count, 2);
	assert_int_equal(c->limits.message_size, 2048);
	assert_int_equal(c->limits.recipients, 5);
	assert_int_equal(c->limits.command_line, 512);
	assert_int_equal(c->log.level, L_DEBUG);
	struct sockaddr_in in = {.sin_family = AF_INET,
	                         .sin_addr.s_addr = htonl(0x0a010203)};
	assert_true(config_in_relay_networks(c, (struct sockaddr *)&in));
	in.sin_addr.s_addr = htonl(0x0b010203);
	assert_false(config_in_relay_networks(c, (struct sockaddr *)&in));
	config_free(&c);
}

/* A listener's limits start from the global ones, wherever `limits:` is
 * written, and override only what they name. */
static void test_listener_limits(void **state)
{
	(void)state;
	const char *error = NULL;
	struct config *c =
	    load("listen:\n"
	         "  - {address: \"127.0.0.1:25\", limits: {connections_per_ip: 3}}\n"
	         "  - {address: \"127.0.0.1:587\"}\n"
	         "limits: {recipients: 7, connections_per_ip: 9}\n",
	         &error);
	if (c == NULL)
		fail_msg("%s", error);
	assert_int_equal(c->listen[0].limits.connections_per_ip, 3);
	assert_int_equal(c->listen[0].limits.recipients, 7);
	assert_int_equal(c->listen[1].limits.connections_per_ip, 9);
	assert_int_equal(c->listen[1].limits.command_line, 512);
	/* check-config shows the override, and what it prints loads back */
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	config_print(c, out);
	fclose(out);
	assert_non_null(strstr(text, "limits: {connections_per_ip: 3}"));
	struct config *again = load(text, &error);
	if (again == NULL)
		fail_msg("printed configuration does not load: %s\n%s", error, text);
	assert_int_equal(again->listen[0].limits.connections_per_ip, 3);
	assert_int_equal(again->limits.recipients, 7);
	config_free(&again);
	free(text);
	config_free(&c);
}

struct bad_case {
	const char *yaml;
	const char *error;
};

static void test_users_and_aliases(void **state)
{
	(void)state;
	char path[] = "/tmp/petrel-pw-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{SHA512-CRYPT}$6$x\nsecond line\n", 30), 30);
	close(fd);
	char yaml[512];
	snprintf(yaml, sizeof(yaml),
	         "users:\n"
	         "  - {address: A@X.test, password: \"{BLF-CRYPT}$2y$05$abc\"}\n"
	         "  - {address: b@x.test, password_file: %s}\n"
	         "  - {address: c@x.test, password: \"plain {text}\"}\n"
	         "aliases:\n"
	         "  Sales@X.test: [a@x.test, B@x.test]\n"
	         "  \"@x.test\": a@x.test\n",
	         path);
	const char *error = NULL;
	struct config *c = load(yaml, &error);
	unlink(path);
	assert_non_null(c);
	assert_string_equal(c->users[0].address, "a@x.test");
	assert_string_equal(c->users[0].password, "{BLF-CRYPT}$2y$05$abc");
	assert_string_equal(c->users[1].password, "{SHA512-CRYPT}$6$x");
	assert_string_equal(c->users[1].password_file, path);
	assert_string_equal(c->users[2].password, "plain {text}");
	assert_int_equal(c->alias_count, 2);
	assert_string_equal(c->aliases[0].address, "sales@x.test");
	assert_int_equal(c->aliases[0].target_count, 2);
	assert_string_equal(c->aliases[0].targets[1], "b@x.test");
	assert_string_equal(c->aliases[1].address, "@x.test");
	assert_string_equal(c->aliases[1].targets[0], "a@x.test");
	config_free(&c);
}

static void test_errors(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
	    {"hostnam: x\n", "test.yaml:1:1: unknown key 'hostnam'"},
	    {"domains: [a.test]\nlimits:\n  recipients: lots\n",
	     "test.yaml:3:15: expected a number from 1 to 100000, not 'lots'"},
	    {"listen:\n  - {protocol: smtp, address: \"127.0.0.1\"}\n",
	     "test.yaml:2:32: expected \"IP:port\""},
	    {"listen:\n  - {protocol: gopher, address: \"127.0.0.1:1\"}\n",
	     "test.yaml:2:16: expected smtp|submission"},
	    {"listen:\n  - {protocol: smtp, address: \"127.0.0.1:1\", tls: maybe}\n",
	     "test.yaml:2:51: expected none|starttls|implicit"},
	    {"relay_networks: [10.0.0.0/33]\n", "test.yaml:1:18: bad prefix length"},
	    {"users: [{address: \"a b@x\"}]\n",
	     "test.yaml:1:20: 'a b@x': not a plain address"},
	    {"users: [{address: \"../x@y.z\"}]\n", "test.yaml:1:20: '../x@y.z'"},
	    {"users: [{address: \"a/b@y.z\"}]\n", "may not contain '/'"},
	    {"users: [{password: x}]\n", "a user needs an address"},
	    {"users: [{address: a@x.test, password: \"{MD5-CRYPT}$1$abc\"}]\n",
	     "test.yaml:1:10: unsupported password scheme '{MD5-CRYPT}'"},
	    {"users: [{address: a@x.test, password: x, password_file: /etc/hostname}]\n",
	     "a@x.test: password or password_file, not both"},
	    {"users: [{address: a@x.test, password_file: /nonexistent/pw}]\n",
	     "password_file /nonexistent/pw: No such file or directory"},
	    {"aliases: [a@x.test]\n", "expected a mapping of address: target"},
	    {"aliases: {\"sales\": b@x.test}\n", "test.yaml:1:12: 'sales'"},
	    {"aliases: {\"@-bad\": b@x.test}\n", "'@-bad' is not @domain"},
	    {"aliases: {sales@x.test: \"@x.test\"}\n", "test.yaml:1:26: '@x.test'"},
	    {"aliases: {sales@x.test: []}\n", "alias sales@x.test has no target"},
	    {"domains: a.test\n", "test.yaml:1:10: expected a list for domains"},
	    {"domains: [\"-bad\"]\n", "is not a domain name"},
	    {"limits: {command_line: 100}\n", "expected a number from 512 to 65536"},
	    {"log: {syslog: maybe}\n", "expected true or false"},
	    /* YAML syntax: the file's name and the position, not libfyaml's
	     * "<memory-@0x...>" */
	    {"hostname: x\nlog:\n  level: [\n",
	     "test.yaml:4:1: invalid YAML: flow sequence"},
	    {"hostname: \"x\n", "test.yaml:1:12: invalid YAML: double-quoted scalar"},
	    {"hostname: x\n  home: y\n", "test.yaml:1:11: invalid YAML"},
	    {"", "test.yaml:1:1: the file holds no settings"},
	    {"# only a comment\n\n---\n", "test.yaml:1:1: the file holds no settings"},
	    {"- just\n- a list\n", "expected a mapping for the configuration"},
	    {"log: debug\n", "test.yaml:1:6: expected a mapping for log"},
	    /* near misses */
	    {"domain: [a.test]\n",
	     "test.yaml:1:1: unknown key 'domain' in the configuration; did you mean "
	     "'domains'? expected one of: hostname, home,"},
	    {"limits: {recipent: 5}\n", "did you mean 'recipients'?"},
	    {"listen: [{protocl: smtp, address: \"127.0.0.1:1\"}]\n",
	     "unknown key 'protocl' in a listener; did you mean 'protocol'?"},
	    {"zebra: 1\n", "unknown key 'zebra' in the configuration; expected one of"},
	    /* listeners */
	    {"listen:\n  - {address: \"127.0.0.1:25\"}\n  - {address: "
	     "\"127.0.0.1:25\"}\n",
	     "test.yaml:3:6: two listeners on 127.0.0.1:25"},
	    {"listen: [{address: \"127.0.0.1:25\", limits: {connections_per_ip: 0}}]\n",
	     "expected a number from 1 to 1000000, not '0'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *error = NULL;
		struct config *c = load(cases[i].yaml, &error);
		if (c != NULL)
			fail_msg("case %zu accepted", i);
		if (error == NULL || strstr(error, cases[i].error) == NULL)
			fail_msg("case %zu: got '%s', want '%s'", i,
			         error ? error : "(null)", cases[i].error);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_embedded_default),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_listener_limits),
	    cmocka_unit_test(test_users_and_aliases),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
