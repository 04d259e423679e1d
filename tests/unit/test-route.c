/*
 * test-route.c — per-domain routing decisions and the routes config.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/config.h"
#include "mta/route.h"

static struct config *load(const char *yaml, const char **error)
{
	return config_load_string("t.yaml", yaml, strlen(yaml), NULL, error);
}

static void test_decisions(void **state)
{
	(void)state;
	const char *error = NULL;
	struct config *c = load("domains: [example.test]\n"
	                        "relay_domains: [backup.test]\n"
	                        "routes:\n"
	                        "  partner.test: \"[192.0.2.7]:2525\"\n"
	                        "  .corp.test: \"gw.corp.test\"\n"
	                        "  .eu.corp.test: \"[eu-gw.corp.test]:26\"\n"
	                        "  \"*\": \"[smarthost.test]:587\"\n",
	                        &error);
	if (c == NULL)
		fail_msg("%s", error);
	struct route r;
	route_for_domain(c, "EXAMPLE.test", config_is_local_domain(c, "EXAMPLE.test"),
	                 &r);
	assert_int_equal(r.kind, ROUTE_LOCAL);
	route_for_domain(c, "partner.test", config_is_local_domain(c, "partner.test"),
	                 &r);
	assert_int_equal(r.kind, ROUTE_NEXT_HOP);
	assert_string_equal(r.host, "192.0.2.7");
	assert_int_equal(r.port, 2525);
	assert_false(r.mx_lookup);
	route_for_domain(c, "a.corp.test", config_is_local_domain(c, "a.corp.test"), &r);
	assert_string_equal(r.host, "gw.corp.test");
	assert_int_equal(r.port, 25);
	assert_true(r.mx_lookup);
	route_for_domain(c, "x.eu.corp.test", config_is_local_domain(c, "x.eu.corp.test"),
	                 &r); /* longest parent wins */
	assert_string_equal(r.host, "eu-gw.corp.test");
	assert_int_equal(r.port, 26);
	route_for_domain(c, "corp.test", config_is_local_domain(c, "corp.test"),
	                 &r); /* ".corp.test" is for subdomains */
	assert_string_equal(r.host, "smarthost.test");
	route_for_domain(c, "backup.test", config_is_local_domain(c, "backup.test"), &r);
	assert_string_equal(r.host, "smarthost.test");
	assert_true(config_is_relay_domain(c, "BACKUP.test"));
	assert_false(config_is_relay_domain(c, "x.backup.test"));
	config_free(&c);

	c = load("domains: [example.test]\n", &error);
	route_for_domain(c, "elsewhere.test", config_is_local_domain(c, "elsewhere.test"),
	                 &r);
	assert_int_equal(r.kind, ROUTE_MX);
	assert_string_equal(r.host, "elsewhere.test");
	assert_int_equal(r.port, 25);
	config_free(&c);
}

static void test_bad_routes(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "routes: [a]\n",
	    "routes: {a.test: \"[host:25\"}\n",
	    "routes: {a.test: \"[host]:0\"}\n",
	    "routes: {a.test: \"[host]:70000\"}\n",
	    "routes: {a.test: \"[host]x\"}\n",
	    "routes: {a.test: \"[]:25\"}\n",
	    "relay_domains: [\"bad domain\"]\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *error = NULL;
		struct config *c = load(bad[i], &error);
		if (c != NULL)
			fail_msg("case %zu accepted", i);
		assert_non_null(strstr(error, "t.yaml:"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decisions),
	    cmocka_unit_test(test_bad_routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
