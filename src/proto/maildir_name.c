/*
 * maildir_name.c — Maildir file names (see maildir_name.h).
 */
#include "proto/maildir_name.h"

#include <string.h>

/* ",S=123" or ",W=123" in base: the number, if there. */
static bool base_number(const char *base, size_t len, char key, uint64_t *out)
{
	for (size_t i = 0; i + 2 < len; i++) {
		if (base[i] != ',' || base[i + 1] != key || base[i + 2] != '=')
			continue;
		uint64_t v = 0;
		size_t j = i + 3, digits = 0;
		for (; j < len && base[j] >= '0' && base[j] <= '9' && digits < 19;
		     j++, digits++)
			v = v * 10 + (uint64_t)(base[j] - '0');
		if (digits > 0 && (j == len || base[j] == ','))
			*out = v;
		return digits > 0 && (j == len || base[j] == ',');
	}
	return false;
}

int maildir_name_parse(const char *name, size_t len, struct maildir_name *out,
                       const char **error_r)
{
	memset(out, 0, sizeof(*out));
	if (len == 0 || len > MAILDIR_NAME_MAX || name[0] == '.') {
		*error_r = len ? "not a Maildir file name" : "empty Maildir file name";
		return -1;
	}
	if (memchr(name, '/', len) || memchr(name, '\0', len)) {
		*error_r = "not a Maildir file name";
		return -1;
	}
	out->base = name;
	out->base_len = len;
	for (size_t i = 0; i + 2 < len; i++)
		if (name[i] == ':' && name[i + 1] == '2' && name[i + 2] == ',') {
			out->base_len = i;
			out->has_info = true;
			for (size_t k = i + 3; k < len; k++) {
				char c = name[k];
				if (c >= 'A' && c <= 'Z')
					out->upper |= MAILDIR_FLAG(c);
				else if (c >= 'a' && c <= 'z')
					out->keywords |= 1u << (c - 'a');
				else {
					*error_r = "a Maildir flag that is not a letter";
					return -1;
				}
			}
			break;
		}
	if (out->base_len == 0) {
		*error_r = "not a Maildir file name";
		return -1;
	}
	out->has_size = base_number(out->base, out->base_len, 'S', &out->size);
	out->has_vsize = base_number(out->base, out->base_len, 'W', &out->vsize);
	return 0;
}

size_t maildir_name_format(const struct maildir_name *name, char *out, size_t size)
{
	size_t n = name->base_len;
	char flags[53];
	size_t f = 0;
	for (int i = 0; i < 26; i++)
		if (name->upper & (1u << i))
			flags[f++] = (char)('A' + i);
	for (int i = 0; i < 26; i++)
		if (name->keywords & (1u << i))
			flags[f++] = (char)('a' + i);
	if (n + 3 + f + 1 > size)
		return 0;
	memcpy(out, name->base, n);
	memcpy(out + n, ":2,", 3);
	memcpy(out + n + 3, flags, f);
	out[n + 3 + f] = '\0';
	return n + 3 + f;
}
