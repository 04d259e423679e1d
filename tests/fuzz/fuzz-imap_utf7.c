/*
 * fuzz-imap_utf7.c — libFuzzer target: modified UTF-7 has one spelling
 * per name. Whatever the input: if it decodes, encoding the result gives
 * the input back octet for octet; if it encodes (as UTF-8), decoding the
 * result gives the input back. The name check never reads past a name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/imap_utf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	char utf8[IMAP_MAILBOX_NAME_MAX + 1], utf7[4 * IMAP_MAILBOX_NAME_MAX];
	const char *error;
	if (imap_utf7_decode(in, size, utf8, &error) == 0) {
		if (imap_utf7_encode(utf8, strlen(utf8), utf7, sizeof(utf7), &error) < 0)
			abort();
		if (strlen(utf7) != size || memcmp(utf7, in, size) != 0)
			abort();
		(void)imap_mailbox_name_check(utf8, '.', &error);
	}
	if (size <= IMAP_MAILBOX_NAME_MAX && memchr(in, '\0', size) == NULL &&
	    imap_utf7_encode(in, size, utf7, sizeof(utf7), &error) == 0) {
		if (imap_utf7_decode(utf7, strlen(utf7), utf8, &error) < 0)
			abort();
		if (strlen(utf8) != size || memcmp(utf8, in, size) != 0)
			abort();
	}
	return 0;
}
