/*
 * fuzz-dns_name.c — the answer cache's name keys (dns/cache.c) against a
 * plain byte-at-a-time model: the word-at-a-time code must accept exactly
 * the names the model accepts (labels of 1-63 octets, at most 253 octets
 * without the trailing dot) and fold exactly A-Z to lower case.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/cache.h"

static int model(const char *name, char *folded, size_t *length_r)
{
	size_t length = strlen(name);
	if (length > 1 && name[length - 1] == '.' && name[length - 2] != '.')
		length--;
	if (length == 0 || length > 253)
		return -1;
	if (length == 1 && name[0] == '.') {
		folded[0] = '.';
		*length_r = 1;
		return 0;
	}
	size_t label = 0;
	for (size_t i = 0; i < length; i++) {
		char c = name[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (++label > 63) {
			return -1;
		}
		folded[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	if (label == 0)
		return -1;
	*length_r = length;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* two keys of the same text must hash alike, whatever the type */
	uint16_t type = (uint16_t)(data[0] | data[1] << 8);
	char *name = malloc(size - 1);
	memcpy(name, data + 2, size - 2);
	name[size - 2] = '\0';
	char folded[300];
	size_t length = 0;
	struct dns_cache_key key, again;
	int expected = model(name, folded, &length);
	int got = dns_cache_key_make(&key, name, type);
	if (got != expected)
		abort();
	if (got == 0) {
		folded[length] = '\0';
		if (key.length != length || memcmp(key.name, folded, length) != 0 ||
		    key.name[length] != '\0' || key.type != type)
			abort();
		for (size_t i = length; i % 8; i++)
			if (key.name[i] != '\0')
				abort(); /* the padding that word compares rely on */
		if (dns_cache_key_make(&again, folded, type) != 0 ||
		    again.hash != key.hash)
			abort();
	}
	free(name);
	return 0;
}
