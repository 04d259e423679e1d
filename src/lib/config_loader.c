/*
 * config_loader.c — the typed YAML readers the configuration loader is
 * built from (see config_loader.h).
 */
#include "lib/config_loader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/error.h"
#include "lib/xalloc.h"

/* Formats "source:line:col: message" at node into loader->error. */
int loader_fail(struct loader *ld, struct fy_node *node, const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	struct fy_token *token = node ? fy_node_get_scalar_token(node) : NULL;
	if (token == NULL && node)
		token = fy_node_get_tag_token(node);
	const struct fy_mark *mark = token ? fy_token_start_mark(token) : NULL;
	if (mark == NULL && node) {
		/* Collections have no scalar token; report at their first key/item. */
		void *iter = NULL;
		struct fy_node *first = NULL;
		if (fy_node_is_mapping(node)) {
			struct fy_node_pair *pair = fy_node_mapping_iterate(node, &iter);
			first = pair ? fy_node_pair_key(pair) : NULL;
		} else if (fy_node_is_sequence(node)) {
			first = fy_node_sequence_iterate(node, &iter);
		}
		token = first ? fy_node_get_scalar_token(first) : NULL;
		mark = token ? fy_token_start_mark(token) : NULL;
	}
	if (mark)
		ld->error = error_fmt("%s:%d:%d: %s", ld->source, mark->line + 1,
		                      mark->column + 1, message);
	else
		ld->error = error_fmt("%s: %s", ld->source, message);
	return -1;
}

int loader_string(struct loader *ld, struct fy_node *node, char **out)
{
	if (!fy_node_is_scalar(node))
		return loader_fail(ld, node, "expected a string");
	size_t len;
	const char *s = fy_node_get_scalar(node, &len);
	if (memchr(s, '\0', len))
		return loader_fail(ld, node, "NUL byte in string");
	free(*out);
	*out = xstrndup(s, len);
	return 0;
}

int loader_uint64(struct loader *ld, struct fy_node *node, uint64_t min, uint64_t max,
                  uint64_t *out)
{
	if (!fy_node_is_scalar(node))
		return loader_fail(ld, node, "expected a number");
	size_t len;
	const char *s = fy_node_get_scalar(node, &len);
	char text[32];
	if (len == 0 || len >= sizeof(text))
		return loader_fail(ld, node, "expected a number from %llu to %llu",
		                   (unsigned long long)min, (unsigned long long)max);
	memcpy(text, s, len);
	text[len] = '\0';
	char *end;
	unsigned long long value = strtoull(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || value < min || value > max)
		return loader_fail(
		    ld, node, "expected a number from %llu to %llu, not '%s'",
		    (unsigned long long)min, (unsigned long long)max, text);
	*out = value;
	return 0;
}

int loader_uint(struct loader *ld, struct fy_node *node, unsigned min, unsigned max,
                unsigned *out)
{
	uint64_t value;
	if (loader_uint64(ld, node, min, max, &value) < 0)
		return -1;
	*out = (unsigned)value;
	return 0;
}

int loader_bool(struct loader *ld, struct fy_node *node, bool *out)
{
	size_t len;
	const char *s = fy_node_is_scalar(node) ? fy_node_get_scalar(node, &len) : NULL;
	if (s && len == 4 && strncasecmp(s, "true", 4) == 0)
		*out = true;
	else if (s && len == 5 && strncasecmp(s, "false", 5) == 0)
		*out = false;
	else
		return loader_fail(ld, node, "expected true or false");
	return 0;
}

/* Picks one of names[] (NULL-terminated); *out is its index. */
int loader_enum(struct loader *ld, struct fy_node *node, const char *const *names,
                int *out)
{
	size_t len;
	const char *s = fy_node_is_scalar(node) ? fy_node_get_scalar(node, &len) : NULL;
	struct buf expected = BUF_INIT;
	for (int i = 0; names[i]; i++) {
		if (s && strlen(names[i]) == len && strncmp(s, names[i], len) == 0) {
			buf_free(&expected);
			*out = i;
			return 0;
		}
		buf_appendf(&expected, "%s%s", i ? "|" : "", names[i]);
	}
	loader_fail(ld, node, "expected %s", buf_cstr(&expected));
	buf_free(&expected);
	return -1;
}

int loader_sequence(struct loader *ld, struct fy_node *node, const char *what)
{
	if (!fy_node_is_sequence(node))
		return loader_fail(ld, node, "expected a list for %s", what);
	return 0;
}

int config_parse_duration(const char *text, unsigned *seconds_r)
{
	char *end;
	if (text[0] < '0' || text[0] > '9')
		return -1;
	unsigned long long value = strtoull(text, &end, 10);
	unsigned long long unit = 1;
	switch (*end) {
	case '\0':
		break;
	case 's':
		end++;
		break;
	case 'm':
		unit = 60, end++;
		break;
	case 'h':
		unit = 3600, end++;
		break;
	case 'd':
		unit = 86400, end++;
		break;
	default:
		return -1;
	}
	if (*end != '\0' || value > UINT32_MAX / unit)
		return -1;
	*seconds_r = (unsigned)(value * unit);
	return 0;
}

int loader_duration(struct loader *ld, struct fy_node *node, unsigned min, unsigned max,
                    unsigned *out)
{
	char *text = NULL;
	if (loader_string(ld, node, &text) < 0)
		return -1;
	unsigned value;
	int r = config_parse_duration(text, &value);
	if (r < 0 || value < min || value > max)
		r = loader_fail(ld, node,
		                "expected a duration (30s, 5m, 4h, 5d) from %us to %us, "
		                "not '%s'",
		                min, max, text);
	else
		*out = value;
	free(text);
	return r;
}
