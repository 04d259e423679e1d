/*
 * test-imap_subject.c — RFC 5256 base subjects (proto/imap_subject.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/imap_subject.h"

static void test_base_subjects(void **state)
{
	(void)state;
	static const struct {
		const char *in, *base;
		bool reply;
	} cases[] = {
	    {"Hello", "Hello", false},
	    {"Re: Hello", "Hello", true},
	    {"re: RE: Fwd: [list] Hello (fwd)", "Hello", true},
	    {"[list] Hello", "Hello", false},
	    {"[list]", "[list]", false},
	    {"[Fwd: Re: Hello]", "Hello", true},
	    {"Re [ticket 5]: Hello", "Hello", true},
	    {"Fw:Hello", "Hello", true},
	    {"Hello \t\r\n world (FWD) ", "Hello world", true},
	    {"Reply to this", "Reply to this", false},
	    {"Re:", "", true},
	    {"  ", "", false},
	    {"[a][b] Re: [c] x", "x", true},
	    {"Re: [fwd: Re: y]", "y", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[128];
		bool reply;
		size_t n = imap_base_subject(cases[i].in, strlen(cases[i].in), out,
		                             sizeof(out), &reply);
		if (strcmp(out, cases[i].base) != 0 || reply != cases[i].reply ||
		    n != strlen(out))
			fail_msg("'%s': got '%s' (%d), want '%s' (%d)", cases[i].in, out,
			         reply, cases[i].base, cases[i].reply);
	}
	/* cut to the buffer, terminated */
	char small[4];
	bool reply;
	assert_int_equal(imap_base_subject("Hello", 5, small, sizeof(small), &reply), 3);
	assert_string_equal(small, "Hel");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base_subjects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
