/*
 * config_table.c — loading, defaults, printing and documenting a
 * configuration section from its table of keys (see config_table.h).
 */
#include "lib/config_table.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

#define FIELD(base, key) ((char *)(base) + (key)->offset)

/* Every enum the tables store has the size of an int. */
static int enum_get(const void *field)
{
	int value;
	memcpy(&value, field, sizeof(value));
	return value;
}

static void enum_set(void *field, int value)
{
	memcpy(field, &value, sizeof(value));
}

void config_section_defaults(const struct config_section *section, void *base)
{
	for (const struct config_key *k = section->keys; k->name; k++) {
		void *field = FIELD(base, k);
		switch (k->type) {
		case CONFIG_STRING:
			*(char **)field = k->def_string ? xstrdup(k->def_string) : NULL;
			break;
		case CONFIG_UINT:
		case CONFIG_DURATION:
			*(unsigned *)field = (unsigned)k->def;
			break;
		case CONFIG_UINT64:
			*(uint64_t *)field = k->def;
			break;
		case CONFIG_BOOL:
			*(bool *)field = k->def != 0;
			break;
		case CONFIG_ENUM:
			enum_set(field, (int)k->def);
			break;
		case CONFIG_SECTION:
			config_section_defaults(k->section, field);
			break;
		case CONFIG_CUSTOM:
			if (k->custom->set_default)
				k->custom->set_default(base);
			break;
		}
	}
}

/* Levenshtein distance, bounded: names are short. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return 64;
	size_t row[64];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diagonal = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diagonal + cost;
			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

const char *config_nearest_key(const struct config_section *section, const char *key)
{
	const char *nearest = NULL;
	size_t best =
	    strlen(key) / 3 + 1; /* "domain" for "domains": yes; "x" for "log": no */
	if (best > 3)
		best = 3;
	for (const struct config_key *k = section->keys; k->name; k++) {
		size_t d = edit_distance(key, k->name);
		if (d <= best && (nearest == NULL || d < best)) {
			nearest = k->name;
			best = d;
		}
	}
	return nearest;
}

static int unknown_key(struct loader *ld, struct fy_node *key_node, const char *key,
                       const struct config_section *section)
{
	struct buf expected = BUF_INIT;
	for (const struct config_key *k = section->keys; k->name; k++)
		buf_appendf(&expected, "%s%s", k == section->keys ? "" : ", ", k->name);
	const char *nearest = config_nearest_key(section, key);
	int r;
	if (nearest)
		r = loader_fail(ld, key_node,
		                "unknown key '%s' in %s; did you mean '%s'? expected one "
		                "of: %s",
		                key, section->name, nearest, buf_cstr(&expected));
	else
		r = loader_fail(ld, key_node,
		                "unknown key '%s' in %s; expected one of: %s", key,
		                section->name, buf_cstr(&expected));
	buf_free(&expected);
	return r;
}

static int load_key(struct loader *ld, struct fy_node *value, const struct config_key *k,
                    void *base)
{
	void *field = FIELD(base, k);
	int choice;
	switch (k->type) {
	case CONFIG_STRING:
		return loader_string(ld, value, (char **)field);
	case CONFIG_UINT:
		return loader_uint(ld, value, (unsigned)k->min, (unsigned)k->max, field);
	case CONFIG_UINT64:
		return loader_uint64(ld, value, k->min, k->max, field);
	case CONFIG_DURATION:
		return loader_duration(ld, value, (unsigned)k->min, (unsigned)k->max,
		                       field);
	case CONFIG_BOOL:
		return loader_bool(ld, value, field);
	case CONFIG_ENUM:
		if (loader_enum(ld, value, k->choices, &choice) < 0)
			return -1;
		enum_set(field, choice);
		return 0;
	case CONFIG_SECTION:
		return config_section_load(ld, value, k->section, field);
	case CONFIG_CUSTOM:
		return k->custom->read(ld, value, base);
	}
	return -1;
}

int config_section_load(struct loader *ld, struct fy_node *node,
                        const struct config_section *section, void *base)
{
	if (!fy_node_is_mapping(node))
		return loader_fail(ld, node, "expected a mapping for %s", section->name);
	/* Unknown keys first, in the order written: a typo is the likeliest
	 * cause of whatever else might fail. */
	void *iter = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(node, &iter)) != NULL) {
		struct fy_node *key = fy_node_pair_key(pair);
		size_t len;
		const char *name =
		    key && fy_node_is_scalar(key) ? fy_node_get_scalar(key, &len) : NULL;
		if (name == NULL)
			return loader_fail(ld, key ? key : node,
			                   "expected a key name in %s", section->name);
		char key_name[64];
		snprintf(key_name, sizeof(key_name), "%.*s", (int)len, name);
		const struct config_key *k = section->keys;
		while (k->name &&
		       !(strlen(k->name) == len && memcmp(k->name, name, len) == 0))
			k++;
		if (k->name == NULL)
			return unknown_key(ld, key, key_name, section);
		if (fy_node_pair_value(pair) == NULL)
			return loader_fail(ld, key, "'%s' has no value", key_name);
	}
	for (const struct config_key *k = section->keys; k->name; k++) {
		struct fy_node *value =
		    fy_node_mapping_lookup_by_string(node, k->name, strlen(k->name));
		if (value && load_key(ld, value, k, base) < 0)
			return -1;
	}
	return section->check ? section->check(ld, node, base) : 0;
}

void config_indent(FILE *out, int indent)
{
	fprintf(out, "%*s", indent, "");
}

void config_print_string(FILE *out, const char *s)
{
	/* Double-quoted YAML with escapes: round-trips any value. */
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void config_print_duration(FILE *out, unsigned long long seconds)
{
	static const struct {
		unsigned seconds;
		char unit;
	} units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (seconds >= units[i].seconds && seconds % units[i].seconds == 0) {
			fprintf(out, "%llu%c", seconds / units[i].seconds, units[i].unit);
			return;
		}
	fprintf(out, "%llus", seconds);
}

/* One scalar value, without the key: "300s", "\"text\"", "null". */
static void print_scalar(FILE *out, const struct config_key *k, const void *field)
{
	switch (k->type) {
	case CONFIG_STRING: {
		const char *s = *(char *const *)field;
		if (s && k->secret)
			fprintf(out, "(set)  # not shown");
		else if (s)
			config_print_string(out, s);
		else if (k->unset)
			fprintf(out, "null  # %s", k->unset);
		else
			fprintf(out, "null");
		break;
	}
	case CONFIG_UINT:
		fprintf(out, "%u", *(const unsigned *)field);
		break;
	case CONFIG_DURATION:
		config_print_duration(out, *(const unsigned *)field);
		break;
	case CONFIG_UINT64:
		fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)field);
		break;
	case CONFIG_BOOL:
		fprintf(out, "%s", *(const bool *)field ? "true" : "false");
		break;
	case CONFIG_ENUM:
		fprintf(out, "%s", k->choices[enum_get(field)]);
		break;
	default:
		break;
	}
}

void config_section_print(FILE *out, const struct config_section *section,
                          const void *base, int indent)
{
	for (const struct config_key *k = section->keys; k->name; k++) {
		const void *field = (const char *)base + k->offset;
		config_indent(out, indent);
		fprintf(out, "%s:", k->name);
		if (k->type == CONFIG_SECTION) {
			fputc('\n', out);
			config_section_print(out, k->section, field, indent + 2);
		} else if (k->type == CONFIG_CUSTOM) {
			k->custom->print(out, base, indent);
		} else {
			fputc(' ', out);
			print_scalar(out, k, field);
			fputc('\n', out);
		}
	}
}

static size_t scalar_size(const struct config_key *k)
{
	switch (k->type) {
	case CONFIG_UINT:
	case CONFIG_DURATION:
		return sizeof(unsigned);
	case CONFIG_UINT64:
		return sizeof(uint64_t);
	case CONFIG_BOOL:
		return sizeof(bool);
	case CONFIG_ENUM:
		return sizeof(int);
	default:
		return 0;
	}
}

bool config_section_print_changes(FILE *out, const struct config_section *section,
                                  const void *base, const void *reference,
                                  const char *prefix)
{
	bool any = false;
	for (const struct config_key *k = section->keys; k->name; k++) {
		size_t size = scalar_size(k);
		const char *field = (const char *)base + k->offset;
		if (size == 0 ||
		    memcmp(field, (const char *)reference + k->offset, size) == 0)
			continue;
		if (!any)
			fprintf(out, "%s{", prefix);
		else
			fprintf(out, ", ");
		fprintf(out, "%s: ", k->name);
		print_scalar(out, k, field);
		any = true;
	}
	if (any)
		fputc('}', out);
	return any;
}

void config_print_string_list(FILE *out, char *const *list, size_t count)
{
	fprintf(out, " [");
	for (size_t i = 0; i < count; i++) {
		if (i)
			fprintf(out, ", ");
		config_print_string(out, list[i]);
	}
	fputc(']', out);
}

void config_free_string_list(char ***list, size_t *count)
{
	for (size_t i = 0; i < *count; i++)
		free((*list)[i]);
	x_free(list);
	*count = 0;
}

void config_section_free(const struct config_section *section, void *base)
{
	for (const struct config_key *k = section->keys; k->name; k++) {
		void *field = FIELD(base, k);
		if (k->type == CONFIG_STRING) {
			char **s = field;
			if (*s && k->secret)
				explicit_bzero(*s, strlen(*s));
			x_free(s);
		} else if (k->type == CONFIG_SECTION) {
			config_section_free(k->section, field);
		} else if (k->type == CONFIG_CUSTOM && k->custom->free) {
			k->custom->free(base);
		}
	}
}

/* A table cell: '|' escaped. */
static void document_cell(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '|')
			fputc('\\', out);
		fputc(*p, out);
	}
}

/* 300 as "5m", 86400 as "1d": as an administrator writes it. */

static void document_default(FILE *out, const struct config_key *k)
{
	if (k->shown_default) {
		document_cell(out, k->shown_default);
		return;
	}
	switch (k->type) {
	case CONFIG_STRING:
		if (k->def_string)
			fprintf(out, "`%s`", k->def_string);
		else
			fprintf(out, "none");
		break;
	case CONFIG_UINT:
	case CONFIG_UINT64:
		fprintf(out, "`%llu`", (unsigned long long)k->def);
		break;
	case CONFIG_DURATION:
		fputc('`', out);
		config_print_duration(out, k->def);
		fputc('`', out);
		break;
	case CONFIG_BOOL:
		fprintf(out, "`%s`", k->def ? "true" : "false");
		break;
	case CONFIG_ENUM:
		fprintf(out, "`%s`", k->choices[k->def]);
		break;
	default:
		fprintf(out, "see below");
		break;
	}
}

static void document_bounds(FILE *out, const struct config_key *k)
{
	switch (k->type) {
	case CONFIG_UINT:
	case CONFIG_UINT64:
		fprintf(out, " (%llu to %llu)", (unsigned long long)k->min,
		        (unsigned long long)k->max);
		break;
	case CONFIG_DURATION:
		fprintf(out, " (");
		config_print_duration(out, k->min);
		fprintf(out, " to ");
		config_print_duration(out, k->max);
		fprintf(out, ")");
		break;
	case CONFIG_ENUM:
		fprintf(out, " (");
		for (size_t i = 0; k->choices[i]; i++)
			fprintf(out, "%s`%s`", i ? ", " : "", k->choices[i]);
		fprintf(out, ")");
		break;
	default:
		break;
	}
}

void config_section_document(FILE *out, const struct config_section *section,
                             const char *prefix)
{
	for (const struct config_key *k = section->keys; k->name; k++) {
		char path[128];
		snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "",
		         prefix && prefix[0] ? "." : "", k->name);
		if (k->type == CONFIG_SECTION && k->shown_default == NULL) {
			config_section_document(out, k->section, path);
			continue;
		}
		fprintf(out, "| `%s` | ", path);
		document_default(out, k);
		fprintf(out, " | ");
		document_cell(out, k->help);
		document_bounds(out, k);
		fprintf(out, " |\n");
		if (k->items) {
			char items[sizeof(path) + 16];
			snprintf(items, sizeof(items), "%s%s", path,
			         k->items_path ? k->items_path : "[]");
			config_section_document(out, k->items, items);
		}
	}
}
