/*
 * rfc5322_date.c — Date: fields (see rfc5322_date.h).
 */
#include "proto/rfc5322_date.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

struct cursor {
	const char *s;
	size_t len, pos;
};

/* Skips white space and (nested) comments. */
static void skip_cfws(struct cursor *c)
{
	int depth = 0;
	while (c->pos < c->len) {
		char ch = c->s[c->pos];
		if (ch == '(')
			depth++;
		else if (ch == ')' && depth > 0)
			depth--;
		else if (depth == 0 && ch != ' ' && ch != '\t' && ch != '\r' &&
		         ch != '\n')
			return;
		else if (ch == '\\' && depth > 0 && c->pos + 1 < c->len)
			c->pos++;
		c->pos++;
	}
}

static bool number(struct cursor *c, int min_digits, int max_digits, int *out)
{
	int v = 0, n = 0;
	while (c->pos < c->len && n < max_digits && c->s[c->pos] >= '0' &&
	       c->s[c->pos] <= '9') {
		v = v * 10 + (c->s[c->pos++] - '0');
		n++;
	}
	*out = v;
	return n >= min_digits;
}

static size_t word(struct cursor *c, char *out, size_t size)
{
	size_t n = 0;
	while (c->pos < c->len && ((c->s[c->pos] >= 'a' && c->s[c->pos] <= 'z') ||
	                           (c->s[c->pos] >= 'A' && c->s[c->pos] <= 'Z'))) {
		if (n + 1 < size)
			out[n++] = c->s[c->pos];
		c->pos++;
	}
	out[n] = '\0';
	return n;
}

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

/* RFC 5322 4.3 zone names; military letters mean nothing reliable. */
static bool zone_name(const char *name, int *offset)
{
	static const struct {
		const char *name;
		int hours;
	} zones[] = {{"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},
	             {"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
	             {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
	for (size_t i = 0; i < sizeof(zones) / sizeof(*zones); i++)
		if (strcasecmp(zones[i].name, name) == 0) {
			*offset = zones[i].hours * 3600;
			return true;
		}
	*offset = 0;
	return strlen(name) == 1; /* "-0000" in spirit */
}

int rfc5322_date_parse(const char *text, size_t len, int64_t *time_r, int *zone_r)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	struct cursor c = {text, len, 0};
	char name[16];
	skip_cfws(&c);
	size_t save = c.pos;
	if (word(&c, name, sizeof(name)) > 0) { /* day of week */
		skip_cfws(&c);
		if (c.pos < len && text[c.pos] == ',')
			c.pos++;
		skip_cfws(&c);
	} else {
		c.pos = save;
	}
	int day, year, hour, minute, second = 0;
	if (!number(&c, 1, 2, &day) || day < 1 || day > 31)
		return -1;
	skip_cfws(&c);
	if (word(&c, name, sizeof(name)) != 3)
		return -1;
	for (int i = 0; i < 3; i++)
		name[i] = (char)(name[i] | 0x20);
	const char *at = strstr(months, name);
	if (at == NULL || (at - months) % 3)
		return -1;
	int month = (int)(at - months) / 3 + 1;
	skip_cfws(&c);
	size_t year_start = c.pos;
	if (!number(&c, 2, 4, &year))
		return -1;
	size_t digits = c.pos - year_start;
	if (digits == 2)
		year += year < 50 ? 2000 : 1900; /* RFC 5322 4.3 */
	else if (digits == 3)
		year += 1900;
	skip_cfws(&c);
	if (!number(&c, 1, 2, &hour) || c.pos >= len || text[c.pos++] != ':')
		return -1;
	skip_cfws(&c);
	if (!number(&c, 2, 2, &minute))
		return -1;
	skip_cfws(&c);
	if (c.pos < len && text[c.pos] == ':') {
		c.pos++;
		skip_cfws(&c);
		if (!number(&c, 2, 2, &second))
			return -1;
	}
	if (hour > 23 || minute > 59 || second > 60)
		return -1;
	static const int days_in[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (day > days_in[month - 1] + (month == 2 && leap))
		return -1;
	skip_cfws(&c);
	int zone = 0;
	if (c.pos < len && (text[c.pos] == '+' || text[c.pos] == '-')) {
		int sign = text[c.pos++] == '-' ? -1 : 1, hhmm;
		size_t start = c.pos;
		/* no zone is a day or more away (RFC 5322 3.3 leaves it open) */
		if (!number(&c, 4, 4, &hhmm) || c.pos - start != 4 || hhmm % 100 > 59 ||
		    hhmm / 100 > 23)
			return -1;
		zone = sign * ((hhmm / 100) * 3600 + (hhmm % 100) * 60);
	} else if (word(&c, name, sizeof(name)) > 0) {
		zone_name(name, &zone);
	}
	*time_r = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
	          second - zone;
	*zone_r = zone;
	return 0;
}
