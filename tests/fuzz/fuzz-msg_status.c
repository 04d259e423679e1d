/*
 * fuzz-msg_status.c — libFuzzer target: the per-recipient journal. Any
 * bytes (a torn or damaged file) are applied without crashing, records
 * we write read back as written, and a final state never goes back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/msg_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t rcpts = data[0] % 8;
	struct msg_status st;
	msg_status_init(&st, rcpts);
	msg_status_apply(&st, (const char *)data + 1, size - 1);
	enum rcpt_state before[8];
	for (size_t i = 0; i < rcpts; i++)
		before[i] = st.rcpt[i].state;
	/* Our own records, from whatever text the input holds, round-trip. */
	char text[64];
	size_t n = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
	memcpy(text, data + 1, n);
	text[n] = '\0';
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < rcpts; i++)
		status_record_failure(&b, i, false, "4.4.1", text, text);
	msg_status_apply(&st, b.data, b.len);
	for (size_t i = 0; i < rcpts; i++) {
		if (st.rcpt[i].state != before[i])
			abort();
		if (before[i] == RCPT_PENDING &&
		    (st.rcpt[i].diagnostic == NULL ||
		     strlen(st.rcpt[i].diagnostic) != strlen(text)))
			abort();
	}
	buf_free(&b);
	msg_status_clear(&st);
	return 0;
}
