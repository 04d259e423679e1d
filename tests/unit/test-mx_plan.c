/*
 * test-mx_plan.c — RFC 5321 5.1 MX selection: order, equal-preference
 * spreading, implicit MX, null MX (RFC 7505), and never to ourselves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <strings.h>

#include "mta/mx_plan.h"

static bool self_is_mx2(const char *host, void *ctx)
{
	return strcasecmp(host, ctx) == 0;
}

static uint32_t counter_random(void *ctx)
{
	uint32_t *state = ctx;
	*state = *state * 1664525u + 1013904223u; /* LCG: deterministic */
	return *state >> 8;
}

static enum mx_plan_status plan(const struct mx_record *records, size_t count,
                                const char *self, uint32_t seed, struct mx_record *out,
                                size_t *n)
{
	static uint32_t state;
	state = seed;
	struct mx_plan_input input = {
	    .domain = "example.test",
	    .records = records,
	    .count = count,
	    .is_self = self ? self_is_mx2 : NULL,
	    .self_ctx = (void *)self,
	    .random = counter_random,
	    .random_ctx = &state,
	};
	return mx_plan(&input, out, n);
}

static void test_order(void **state)
{
	(void)state;
	const struct mx_record in[] = {{30, "c.test"}, {10, "a.test"}, {20, "b.test"}};
	struct mx_record out[3];
	size_t n;
	assert_int_equal(plan(in, 3, NULL, 1, out, &n), MX_PLAN_OK);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].host, "a.test");
	assert_string_equal(out[1].host, "b.test");
	assert_string_equal(out[2].host, "c.test");
}

static void test_equal_preferences_spread(void **state)
{
	(void)state;
	const struct mx_record in[] = {
	    {10, "a.test"}, {10, "b.test"}, {10, "c.test"}, {20, "z.test"}};
	int first[3] = {0};
	for (uint32_t seed = 0; seed < 3000; seed++) {
		struct mx_record out[4];
		size_t n;
		assert_int_equal(plan(in, 4, NULL, seed, out, &n), MX_PLAN_OK);
		assert_int_equal(n, 4);
		assert_string_equal(out[3].host, "z.test"); /* never jumps ahead */
		first[out[0].host[0] - 'a']++;
	}
	/* Each of the three comes first about a third of the time. */
	for (int i = 0; i < 3; i++)
		assert_true(first[i] > 800 && first[i] < 1200);
}

static void test_implicit_mx(void **state)
{
	(void)state;
	struct mx_record out[1];
	size_t n;
	assert_int_equal(plan(NULL, 0, NULL, 1, out, &n), MX_PLAN_OK);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].host, "example.test");
	/* We are the domain's only (implicit) host: a loop. */
	assert_int_equal(plan(NULL, 0, "example.test", 1, out, &n), MX_PLAN_LOOP);
}

static void test_null_mx(void **state)
{
	(void)state;
	struct mx_record out[2];
	size_t n;
	const struct mx_record null_mx[] = {{0, "."}};
	assert_int_equal(plan(null_mx, 1, NULL, 1, out, &n), MX_PLAN_NULL_MX);
	/* "." among real MX records is ignored (RFC 7505 3). */
	const struct mx_record mixed[] = {{0, "."}, {10, "a.test"}};
	assert_int_equal(plan(mixed, 2, NULL, 1, out, &n), MX_PLAN_OK);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].host, "a.test");
}

static void test_self_is_an_mx(void **state)
{
	(void)state;
	const struct mx_record in[] = {
	    {10, "mx1.test"}, {20, "MX2.test"}, {20, "mx3.test"}, {30, "mx4.test"}};
	struct mx_record out[4];
	size_t n;
	/* We are mx2 (20): only strictly better hosts remain (mx1), never
	 * mx3 at the same preference, never mx4. */
	assert_int_equal(plan(in, 4, "mx2.test", 1, out, &n), MX_PLAN_OK);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].host, "mx1.test");
	/* We are the best MX: nothing better exists, so it is a loop and
	 * the message must never be delivered to ourselves. */
	assert_int_equal(plan(in, 4, "mx1.test", 1, out, &n), MX_PLAN_LOOP);
	/* Listed twice: our best preference counts. */
	const struct mx_record twice[] = {
	    {30, "me.test"}, {10, "a.test"}, {20, "me.test"}};
	assert_int_equal(plan(twice, 3, "me.test", 1, out, &n), MX_PLAN_OK);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].host, "a.test");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_equal_preferences_spread),
	    cmocka_unit_test(test_implicit_mx),
	    cmocka_unit_test(test_null_mx),
	    cmocka_unit_test(test_self_is_an_mx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
