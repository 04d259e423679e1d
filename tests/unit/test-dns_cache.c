/*
 * test-dns_cache.c — the answer cache: name keys, TTLs counting down and
 * expiring, RFC 2308 negative caching, what is never cached, LRU eviction
 * and answers held across an eviction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "dns/cache.h"
#include "dns/dns_status.h"

static ldns_pkt *packet(const char *answer[], const char *authority[])
{
	ldns_pkt *p = ldns_pkt_new();
	for (size_t i = 0; answer && answer[i]; i++) {
		ldns_rr *rr = NULL;
		assert_int_equal(ldns_rr_new_frm_str(&rr, answer[i], 0, NULL, NULL),
		                 LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	for (size_t i = 0; authority && authority[i]; i++) {
		ldns_rr *rr = NULL;
		assert_int_equal(ldns_rr_new_frm_str(&rr, authority[i], 0, NULL, NULL),
		                 LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	return p;
}

static struct dns_cache *cache_of(size_t entries)
{
	struct dns_cache_limits limits = {
	    .max_entries = entries, .max_ttl = 86400, .max_negative_ttl = 3600};
	return dns_cache_create(&limits);
}

static struct dns_cache_key key(const char *name, uint16_t type)
{
	struct dns_cache_key k;
	assert_int_equal(dns_cache_key_make(&k, name, type), 0);
	return k;
}

static void test_keys(void **state)
{
	(void)state;
	struct dns_cache_key a = key("Mail.Example.TEST.", LDNS_RR_TYPE_MX);
	struct dns_cache_key b = key("mail.example.test", LDNS_RR_TYPE_MX);
	assert_string_equal(a.name, "mail.example.test");
	assert_int_equal(a.length, 17);
	assert_true(a.hash == b.hash);
	struct dns_cache_key c = key("mail.example.test", LDNS_RR_TYPE_A);
	assert_true(c.hash != b.hash);
	assert_string_equal(key(".", LDNS_RR_TYPE_NS).name, ".");
	/* only A-Z fold: the octets either side of them, and 8-bit octets,
	 * stay as they are, in every position of the 8-octet words */
	assert_string_equal(key("AZ@[`{.Mixed-Case.LONGER-NAME.\xc3\x84.test", 1).name,
	                    "az@[`{.mixed-case.longer-name.\xc3\x84.test");

	char label63[64], label64[65];
	memset(label63, 'a', 63);
	label63[63] = '\0';
	memset(label64, 'a', 64);
	label64[64] = '\0';
	struct dns_cache_key k;
	assert_int_equal(dns_cache_key_make(&k, label63, 1), 0);
	assert_int_equal(dns_cache_key_make(&k, label64, 1), -1);
	/* 253 octets of text is the longest name (255 on the wire) */
	char name[300];
	for (size_t i = 0; i < 253; i++)
		name[i] = (i % 2) ? '.' : 'x';
	name[253] = '\0';
	assert_int_equal(dns_cache_key_make(&k, name, 1), 0);
	name[253] = '.';
	name[254] = '\0';
	assert_int_equal(dns_cache_key_make(&k, name, 1), 0); /* trailing dot */
	name[254] = 'x';
	name[255] = '\0';
	assert_int_equal(dns_cache_key_make(&k, name, 1), -1);
	/* a 64-octet label anywhere in the name, not only first */
	char late[80];
	snprintf(late, sizeof(late), "abc.%s.test", label64);
	assert_int_equal(dns_cache_key_make(&k, late, 1), -1);
	snprintf(late, sizeof(late), "abc.%s.test", label63);
	assert_int_equal(dns_cache_key_make(&k, late, 1), 0);
	snprintf(late, sizeof(late), "abcdefg.%s", label64);
	assert_int_equal(dns_cache_key_make(&k, late, 1), -1);
	const char *bad[] = {"",      "..",          "a..b",      ".a",
	                     "a.b..", "abcdefgh..x", "abcdefg..", NULL};
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(dns_cache_key_make(&k, bad[i], 1), -1);
}

static void test_positive_ttl_counts_down_and_expires(void **state)
{
	(void)state;
	struct dns_cache *cache = cache_of(100);
	struct dns_cache_key k = key("mx.example.test", LDNS_RR_TYPE_A);
	const char *answer[] = {"mx.example.test. 300 IN A 192.0.2.1",
	                        "mx.example.test. 60 IN A 192.0.2.2", NULL};
	assert_true(
	    dns_cache_store(cache, &k, 1000, DNS_NOERROR, true, packet(answer, NULL)));
	struct dns_cache_answer a;
	struct dns_cache_key spelled = key("MX.example.test.", LDNS_RR_TYPE_A);
	assert_non_null(dns_cache_find(cache, &spelled, 1000, &a));
	assert_int_equal(a.status, DNS_NOERROR);
	assert_true(a.secure);
	assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(a.packet)), 2);

	/* 40 s later both TTLs are 40 s smaller */
	assert_non_null(dns_cache_find(cache, &k, 1040, &a));
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(a.packet), 0)), 260);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(a.packet), 1)), 20);
	assert_non_null(dns_cache_find(cache, &k, 1059, &a));
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(a.packet), 1)), 1);
	/* the smallest TTL rules the entry: gone at 60 s */
	assert_null(dns_cache_find(cache, &k, 1060, &a));
	assert_int_equal(dns_cache_count(cache), 0);
	dns_cache_destroy(&cache);
	assert_null(cache);
}

static void test_ttl_limits(void **state)
{
	(void)state;
	struct dns_cache *cache = cache_of(100);
	struct dns_cache_answer a;
	struct dns_cache_key zero = key("zero.example.test", 1);
	ldns_pkt *p =
	    packet((const char *[]){"zero.example.test. 0 IN A 192.0.2.1", NULL}, NULL);
	assert_false(dns_cache_store(cache, &zero, 0, DNS_NOERROR, false, p));
	ldns_pkt_free(p); /* not taken */

	struct dns_cache_key week = key("week.example.test", 1);
	p = packet((const char *[]){"week.example.test. 604800 IN A 192.0.2.1", NULL},
	           NULL);
	assert_true(dns_cache_store(cache, &week, 0, DNS_NOERROR, false, p));
	assert_non_null(dns_cache_find(cache, &week, 86399, &a));
	assert_null(dns_cache_find(cache, &week, 86400, &a)); /* max_ttl */
	dns_cache_destroy(&cache);
}

static void test_negative_caching(void **state)
{
	(void)state;
	struct dns_cache *cache = cache_of(100);
	struct dns_cache_answer a;
	/* RFC 2308 5: min(SOA TTL 900, MINIMUM 300) = 300 */
	const char *soa[] = {"example.test. 900 IN SOA ns.example.test. h.example.test. "
	                     "1 3600 600 86400 300",
	                     NULL};
	struct dns_cache_key gone = key("gone.example.test", LDNS_RR_TYPE_MX);
	assert_true(
	    dns_cache_store(cache, &gone, 0, DNS_NXDOMAIN, false, packet(NULL, soa)));
	assert_non_null(dns_cache_find(cache, &gone, 299, &a));
	assert_int_equal(a.status, DNS_NXDOMAIN);
	assert_null(dns_cache_find(cache, &gone, 300, &a));

	const char *short_soa[] = {"example.test. 30 IN SOA ns.example.test. "
	                           "h.example.test. 1 3600 600 86400 300",
	                           NULL};
	struct dns_cache_key nodata = key("a.example.test", LDNS_RR_TYPE_AAAA);
	assert_true(dns_cache_store(cache, &nodata, 0, DNS_NODATA, false,
	                            packet(NULL, short_soa)));
	assert_non_null(dns_cache_find(cache, &nodata, 29, &a));
	assert_int_equal(a.status, DNS_NODATA);
	assert_null(dns_cache_find(cache, &nodata, 30, &a));

	/* no SOA: RFC 2308 says do not cache */
	ldns_pkt *p = packet(NULL, NULL);
	assert_false(dns_cache_store(cache, &gone, 0, DNS_NXDOMAIN, false, p));
	ldns_pkt_free(p);
	dns_cache_destroy(&cache);
}

static void test_failures_never_cached(void **state)
{
	(void)state;
	struct dns_cache *cache = cache_of(100);
	struct dns_cache_key k = key("broken.example.test", LDNS_RR_TYPE_MX);
	const char *soa[] = {"example.test. 900 IN SOA ns.example.test. h.example.test. "
	                     "1 3600 600 86400 300",
	                     NULL};
	int failures[] = {DNS_SERVFAIL, DNS_REFUSED, DNS_FORMERR,
	                  DNS_TIMEOUT,  DNS_BOGUS,   DNS_NETWORK};
	for (size_t i = 0; i < sizeof(failures) / sizeof(*failures); i++) {
		ldns_pkt *p = packet(NULL, soa);
		assert_false(dns_cache_store(cache, &k, 0, failures[i], false, p));
		ldns_pkt_free(p);
	}
	assert_int_equal(dns_cache_count(cache), 0);
	assert_false(dns_cache_store(cache, &k, 0, DNS_NOERROR, false, NULL));
	dns_cache_destroy(&cache);
}

static void test_lru_eviction_and_holds(void **state)
{
	(void)state;
	struct dns_cache *cache = cache_of(2);
	struct dns_cache_answer a;
	struct dns_cache_key one = key("one.test", 1), two = key("two.test", 1),
	                     three = key("three.test", 1);
	const char *rr1[] = {"one.test. 300 IN A 192.0.2.1", NULL};
	const char *rr2[] = {"two.test. 300 IN A 192.0.2.2", NULL};
	const char *rr3[] = {"three.test. 300 IN A 192.0.2.3", NULL};
	assert_true(
	    dns_cache_store(cache, &one, 0, DNS_NOERROR, false, packet(rr1, NULL)));
	assert_true(
	    dns_cache_store(cache, &two, 0, DNS_NOERROR, false, packet(rr2, NULL)));
	/* one is used, so two is the least recently used */
	struct dns_cache_entry *held = dns_cache_find(cache, &one, 1, &a);
	assert_non_null(held);
	dns_cache_hold(held);
	assert_true(
	    dns_cache_store(cache, &three, 1, DNS_NOERROR, false, packet(rr3, NULL)));
	assert_null(dns_cache_find(cache, &two, 1, &a));
	assert_non_null(dns_cache_find(cache, &three, 1, &a));
	assert_int_equal(dns_cache_count(cache), 2);

	/* replacing "one" evicts the held entry; its answer stays readable */
	const char *rr1b[] = {"one.test. 300 IN A 192.0.2.9", NULL};
	assert_true(
	    dns_cache_store(cache, &one, 2, DNS_NOERROR, false, packet(rr1b, NULL)));
	dns_cache_answer_of(held, &a);
	char *text = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(a.packet), 0));
	assert_non_null(strstr(text, "192.0.2.1"));
	free(text);
	dns_cache_release(held); /* freed now (ASan checks) */
	assert_non_null(dns_cache_find(cache, &one, 2, &a));
	text = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(a.packet), 0));
	assert_non_null(strstr(text, "192.0.2.9"));
	free(text);
	dns_cache_destroy(&cache);
}

static void test_no_cache(void **state)
{
	(void)state;
	struct dns_cache_limits none = {.max_entries = 0};
	struct dns_cache *cache = dns_cache_create(&none);
	assert_null(cache);
	struct dns_cache_key k = key("x.test", 1);
	struct dns_cache_answer a;
	assert_null(dns_cache_find(cache, &k, 0, &a));
	ldns_pkt *p = packet((const char *[]){"x.test. 300 IN A 192.0.2.1", NULL}, NULL);
	assert_false(dns_cache_store(cache, &k, 0, DNS_NOERROR, false, p));
	ldns_pkt_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_positive_ttl_counts_down_and_expires),
	    cmocka_unit_test(test_ttl_limits),
	    cmocka_unit_test(test_negative_caching),
	    cmocka_unit_test(test_failures_never_cached),
	    cmocka_unit_test(test_lru_eviction_and_holds),
	    cmocka_unit_test(test_no_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
