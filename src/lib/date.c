/*
 * date.c — RFC 5322 dates (see date.h).
 */
#include "lib/date.h"

#include <time.h>

void date_rfc5322(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S %z", &tm);
}
