/*
 * fuzz-rfc5322_date.c — libFuzzer target: Date: fields. Whatever comes in:
 * no crash, no read past the input; a date parsed is within years 0-9999
 * and its zone within a day.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/rfc5322_date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t t;
	int zone;
	if (rfc5322_date_parse((const char *)data, size, &t, &zone) == 0) {
		if (t < -62200000000LL || t > 253402400000LL)
			abort();
		if (zone <= -86400 || zone >= 86400)
			abort();
	}
	return 0;
}
