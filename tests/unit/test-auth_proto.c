/*
 * test-auth_proto.c — the auth process's requests and answers: every
 * type round-trips, and malformed frames (lengths that disagree, fields
 * cut short or too long, a NUL in a name, octets left over, unknown types
 * and flags) are refused whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "auth/auth_proto.h"
#include "ipc/wire.h"

static void test_round_trips(void **state)
{
	(void)state;
	struct buf out = BUF_INIT;
	struct auth_request r = {.type = AUTH_SENDER};
	snprintf(r.name, sizeof(r.name), "%s", "alice@example.test");
	snprintf(r.other, sizeof(r.other), "%s", "sales@example.test");
	assert_int_equal(auth_request_encode(&r, &out), 0);
	struct auth_request back;
	assert_int_equal(auth_request_decode(out.data, out.len, &back), 0);
	assert_int_equal(back.type, AUTH_SENDER);
	assert_string_equal(back.name, "alice@example.test");
	assert_string_equal(back.other, "sales@example.test");

	struct auth_request step = {.type = AUTH_SASL_STEP,
	                            .conversation = 0x1122334455667788ull,
	                            .first = true,
	                            .mechanism = 4,
	                            .has_response = true,
	                            .response = "\0u\0p",
	                            .response_len = 4};
	snprintf(step.client_ip, sizeof(step.client_ip), "%s", "192.0.2.1");
	step.cert.present = step.cert.verified = true;
	snprintf(step.cert.subject, sizeof(step.cert.subject), "%s", "CN=x");
	assert_int_equal(auth_request_encode(&step, &out), 0);
	assert_int_equal(auth_request_decode(out.data, out.len, &back), 0);
	assert_true(back.first && back.has_response && back.cert.verified);
	assert_int_equal(back.conversation, 0x1122334455667788ull);
	assert_int_equal(back.response_len, 4);
	assert_memory_equal(back.response, "\0u\0p", 4);
	assert_string_equal(back.cert.subject, "CN=x");

	struct auth_response resp = {.result = 1};
	char *list[] = {"a@example.test", "b@example.test"};
	uint64_t quotas[] = {0, 5000000000ull};
	resp.expansion.addresses = list;
	resp.expansion.quotas = quotas;
	resp.expansion.count = 2;
	resp.expansion.local = true;
	assert_int_equal(auth_response_encode(AUTH_EXPAND, &resp, &out), 0);
	struct auth_response got;
	assert_int_equal(auth_response_decode(AUTH_EXPAND, out.data, out.len, &got), 0);
	assert_int_equal(got.result, 1);
	assert_true(got.expansion.local);
	assert_int_equal(got.expansion.count, 2);
	assert_string_equal(got.expansion.addresses[1], "b@example.test");
	assert_int_equal(got.expansion.quotas[0], 0);
	assert_int_equal(got.expansion.quotas[1], 5000000000ull);
	assert_null(got.expansion.missing);
	auth_response_clear(&got);
	/* the owner of a local address, and its quota */
	struct auth_response owner = {.result = 1, .quota = 1u << 30};
	snprintf(owner.user, sizeof(owner.user), "%s", "a@example.test");
	assert_int_equal(auth_response_encode(AUTH_LOCAL_RCPT, &owner, &out), 0);
	assert_int_equal(auth_response_decode(AUTH_LOCAL_RCPT, out.data, out.len, &got),
	                 0);
	assert_string_equal(got.user, "a@example.test");
	assert_int_equal(got.quota, 1u << 30);
	auth_response_clear(&got);
	/* a refused alias names its missing target */
	struct auth_response refused = {.result = 0};
	refused.expansion.local = true;
	refused.expansion.missing = "gone@example.test";
	assert_int_equal(auth_response_encode(AUTH_EXPAND, &refused, &out), 0);
	assert_int_equal(auth_response_decode(AUTH_EXPAND, out.data, out.len, &got), 0);
	assert_int_equal(got.result, 0);
	assert_string_equal(got.expansion.missing, "gone@example.test");
	auth_response_clear(&got);
	/* an answer of another type is refused */
	assert_int_equal(auth_response_decode(AUTH_SENDER, out.data, out.len, &got), -1);
	buf_free(&out);
}

static void test_malformed(void **state)
{
	(void)state;
	struct auth_request r;
	/* a length field that disagrees with the frame */
	const unsigned char bad_len[] = {0, 0, 0, 9, 1, 0, 0, 0, 0, 0};
	assert_int_equal(auth_request_decode(bad_len, sizeof(bad_len), &r), -1);
	/* unknown type */
	const unsigned char unknown[] = {0, 0, 0, 5, 99};
	assert_int_equal(auth_request_decode(unknown, sizeof(unknown), &r), -1);
	/* a string longer than what is left */
	const unsigned char cut[] = {0, 0, 0, 10, 1, 0, 0, 0, 9, 'x'};
	assert_int_equal(auth_request_decode(cut, sizeof(cut), &r), -1);
	/* NUL inside a name */
	const unsigned char nul[] = {0, 0, 0, 12, 1, 0, 0, 0, 3, 'a', 0, 'b'};
	assert_int_equal(auth_request_decode(nul, sizeof(nul), &r), -1);
	/* octets left over */
	const unsigned char extra[] = {0, 0, 0, 11, 1, 0, 0, 0, 1, 'a', 'b'};
	assert_int_equal(auth_request_decode(extra, sizeof(extra), &r), -1);
	/* a name longer than any address */
	struct buf out = BUF_INIT;
	wire_begin(&out, AUTH_EXPAND);
	char big[AUTH_NAME_SIZE + 10];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	wire_str(&out, big);
	wire_end(&out);
	assert_int_equal(auth_request_decode(out.data, out.len, &r), -1);
	/* SASL flags out of range */
	wire_begin(&out, AUTH_SASL_STEP);
	wire_u64(&out, 1);
	wire_u32(&out, 9);
	wire_end(&out);
	assert_int_equal(auth_request_decode(out.data, out.len, &r), -1);
	/* an expansion over the maximum count */
	wire_begin(&out, AUTH_EXPAND);
	wire_u32(&out, 1);
	wire_str(&out, "");
	wire_u32(&out, 0);
	wire_u32(&out, USERDB_MAX_EXPANSION + 1);
	wire_end(&out);
	struct auth_response got;
	assert_int_equal(auth_response_decode(AUTH_EXPAND, out.data, out.len, &got), -1);
	buf_free(&out);
	assert_int_equal(wire_frame_length((const unsigned char *)"\x00\x00\x00\x04"), 0);
	assert_int_equal(wire_frame_length((const unsigned char *)"\x7f\x00\x00\x00"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
