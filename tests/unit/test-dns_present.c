/*
 * test-dns_present.c — BIND presentation of records, from presentation
 * text through ldns and back: the cases where ldns and BIND differ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dns/dns_status.h"
#include "dns/present.h"

struct present_case {
	const char *in;
	const char *out; /* BIND's rendering of the data */
};

static void test_rdata(void **state)
{
	(void)state;
	static const struct present_case cases[] = {
	    {"x. 300 IN TXT \"a b\" \"c\\\"d\"", "\"a b\" \"c\\\"d\""},
	    {"x. 300 IN DS 12345 13 2 0123456789abcdef", "12345 13 2 0123456789ABCDEF"},
	    {"x. 300 IN TLSA 3 1 1 abcdef", "3 1 1 ABCDEF"},
	    {"x. 300 IN SSHFP 1 2 abcdef", "1 2 ABCDEF"},
	    {"x. 300 IN NSEC3 1 0 10 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3t A RRSIG",
	     "1 0 10 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3T A RRSIG"},
	    {"x. 300 IN NSEC3PARAM 1 0 10 aabbccdd", "1 0 10 AABBCCDD"},
	    {"x. 300 IN SVCB 1 s.example. alpn=h2,h3 port=8443",
	     "1 s.example. alpn=\"h2,h3\" port=8443"},
	    {"x. 300 IN HTTPS 1 . alpn=h2 ipv4hint=192.0.2.1",
	     "1 . alpn=\"h2\" ipv4hint=192.0.2.1"},
	    {"x. 300 IN CAA 0 issue \"ca.example\"", "0 issue \"ca.example\""},
	    {"x. 300 IN TYPE32768 \\# 6 30390d02abcd", "12345 13 2 ABCD"},
	    {"x. 300 IN MX 0 .", "0 ."},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ldns_rr *rr = NULL;
		if (ldns_rr_new_frm_str(&rr, cases[i].in, 0, NULL, NULL) !=
		    LDNS_STATUS_OK)
			fail_msg("case %zu: ldns cannot parse '%s'", i, cases[i].in);
		struct buf out = BUF_INIT;
		dns_present_rdata(rr, &out);
		if (strcmp(buf_cstr(&out), cases[i].out) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, buf_cstr(&out),
			         cases[i].out);
		buf_free(&out);
		ldns_rr_free(rr);
	}
}

static void test_whole_rr_and_types(void **state)
{
	(void)state;
	ldns_rr *rr = NULL;
	assert_int_equal(ldns_rr_new_frm_str(&rr,
	                                     "ta.example. 60 IN TYPE32768 \\# 4 30390d02",
	                                     0, NULL, NULL),
	                 LDNS_STATUS_OK);
	struct buf out = BUF_INIT;
	dns_present_rr(rr, &out);
	assert_string_equal(buf_cstr(&out), "ta.example.\t60\tIN\tTA\t12345 13 2 ");
	buf_free(&out);
	ldns_rr_free(rr);
	assert_int_equal(dns_type_parse("TA"), 32768);
	assert_int_equal(dns_type_parse("mx"), LDNS_RR_TYPE_MX);
	assert_int_equal(dns_type_parse("TYPE65280"), 65280);
	assert_int_equal(dns_type_parse("TYPE70000"), 0);
	assert_int_equal(dns_type_parse("NOSUCH"), 0);
	assert_string_equal(dns_status_name(DNS_NXDOMAIN), "NXDOMAIN");
	assert_string_equal(dns_status_name(DNS_TIMEOUT), "TIMEOUT");
	assert_string_equal(dns_status_name(9), "RCODE9");
	assert_true(dns_status_is_temporary(DNS_SERVFAIL));
	assert_true(dns_status_is_temporary(DNS_TIMEOUT));
	assert_false(dns_status_is_temporary(DNS_NXDOMAIN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rdata),
	    cmocka_unit_test(test_whole_rr_and_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
