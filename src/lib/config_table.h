/*
 * config_table.h — configuration sections as tables of keys.
 *
 * Each section of the YAML file (limits, dns, a listener...) is one
 * table in a file of its own; each key is one row: name, type, where the
 * value lives in the section's struct, default, bounds, and a line of
 * help. Loading, defaults, `petrel check-config`'s printing, the "expected
 * one of" errors with their "did you mean", and the reference table in
 * docs/configuration.md all come from these rows, so they cannot
 * disagree.
 *
 * Keys are loaded in the order of the table, not of the file: a section
 * can rely on the rows above it (a listener's limits start from the
 * global ones, whichever comes first in the file).
 */
#ifndef PETREL_CONFIG_TABLE_H
#define PETREL_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/config_loader.h"

enum config_type {
	CONFIG_STRING,   /* char *; def_string or NULL */
	CONFIG_UINT,     /* unsigned within [min, max] */
	CONFIG_UINT64,   /* uint64_t within [min, max] */
	CONFIG_BOOL,     /* bool */
	CONFIG_ENUM,     /* an enum: the index of its name in choices */
	CONFIG_DURATION, /* unsigned seconds: 30s, 5m, 4h, 5d or a number */
	CONFIG_SECTION,  /* a nested mapping: section, its struct at offset */
	CONFIG_CUSTOM,   /* lists and other shapes: the row's functions */
};

struct config_section;

/* A key whose value is not one scalar (a list, a mapping of routes...).
 * The functions get the section's struct, not the field. */
struct config_custom {
	int (*read)(struct loader *ld, struct fy_node *node, void *base);
	/* Writes the value after "key:" — " [a, b]\n", or "\n" then lines
	 * indented by indent + 2. */
	void (*print)(FILE *out, const void *base, int indent);
	void (*free)(void *base);
	void (*set_default)(void *base); /* NULL: zeros */
};

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset; /* of the field in the section's struct */
	uint64_t def, min, max;
	const char *def_string;               /* a string's default, NULL for none */
	const char *const *choices;           /* CONFIG_ENUM, NULL-terminated */
	const struct config_section *section; /* CONFIG_SECTION */
	const struct config_custom *custom;   /* CONFIG_CUSTOM */
	/* CONFIG_CUSTOM holding a list of mappings: one item's table, which
	 * the reference documents as key[].name. */
	const struct config_section *items;
	const char *items_path;    /* after key in the reference; NULL: "[]" */
	const char *shown_default; /* in the reference, when not the value */
	const char *unset;         /* printed after "null" as a comment */
	const char *help;
	int secret; /* printed as "(set)", never its value */
};

struct config_section {
	const char *name;              /* in messages: "limits", "a listener" */
	const struct config_key *keys; /* ends with a row without a name */
	/* Checks across keys, after they are all loaded; -1 with loader_fail
	 * at node. NULL: none. */
	int (*check)(struct loader *ld, struct fy_node *node, void *base);
};

/* Rows, one macro per type; S is the section's struct type. */
#define CONFIG_ROW_UINT(key, S, field, dflt, lo, hi, text)                               \
	{                                                                                \
		.name = key, .type = CONFIG_UINT, .offset = offsetof(S, field),          \
		.def = dflt, .min = lo, .max = hi, .help = text                          \
	}
#define CONFIG_ROW_UINT64(key, S, field, dflt, lo, hi, text)                             \
	{                                                                                \
		.name = key, .type = CONFIG_UINT64, .offset = offsetof(S, field),        \
		.def = dflt, .min = lo, .max = hi, .help = text                          \
	}
#define CONFIG_ROW_DURATION(key, S, field, dflt, lo, hi, text)                           \
	{                                                                                \
		.name = key, .type = CONFIG_DURATION, .offset = offsetof(S, field),      \
		.def = dflt, .min = lo, .max = hi, .help = text                          \
	}
#define CONFIG_ROW_BOOL(key, S, field, dflt, text)                                       \
	{                                                                                \
		.name = key, .type = CONFIG_BOOL, .offset = offsetof(S, field),          \
		.def = dflt, .help = text                                                \
	}
#define CONFIG_ROW_ENUM(key, S, field, names, dflt, text)                                \
	{                                                                                \
		.name = key, .type = CONFIG_ENUM, .offset = offsetof(S, field),          \
		.def = dflt, .choices = names, .help = text                              \
	}
#define CONFIG_ROW_STRING(key, S, field, dflt, text)                                     \
	{                                                                                \
		.name = key, .type = CONFIG_STRING, .offset = offsetof(S, field),        \
		.def_string = dflt, .help = text                                         \
	}
#define CONFIG_ROW_SECTION(key, S, field, table, text)                                   \
	{                                                                                \
		.name = key, .type = CONFIG_SECTION, .offset = offsetof(S, field),       \
		.section = table, .help = text                                           \
	}
#define CONFIG_ROW_CUSTOM(key, functions, shown, text)                                   \
	{                                                                                \
		.name = key, .type = CONFIG_CUSTOM, .custom = functions,                 \
		.shown_default = shown, .help = text                                     \
	}

/* Fills base with every row's default (nested sections too). */
void config_section_defaults(const struct config_section *section, void *base);

/* Loads a mapping into base, whose defaults are set: each row's key if
 * present, then section->check. An unknown key is an error naming the
 * expected ones, with the nearest as "did you mean". */
int config_section_load(struct loader *ld, struct fy_node *node,
                        const struct config_section *section, void *base);

/* Writes the section's keys as YAML, each line indented by indent. */
void config_section_print(FILE *out, const struct config_section *section,
                          const void *base, int indent);

/* Writes prefix then "{key: value, ...}" for the scalar keys whose values
 * differ from reference's (a listener's limits against the global ones);
 * false when none do, and then nothing is written. */
bool config_section_print_changes(FILE *out, const struct config_section *section,
                                  const void *base, const void *reference,
                                  const char *prefix);

/* Frees what the rows allocated (strings, custom values). */
void config_section_free(const struct config_section *section, void *base);

/* Markdown rows "| `prefix.key` | default | help |" for the reference,
 * nested sections flattened with dotted names. */
void config_section_document(FILE *out, const struct config_section *section,
                             const char *prefix);

/* The key of section nearest to key, a near miss such as "domain" for
 * "domains"; NULL if none is close. For "did you mean". */
const char *config_nearest_key(const struct config_section *section, const char *key);

/* A double-quoted YAML string that loads back. */
void config_print_string(FILE *out, const char *s);
/* " [\"a\", \"b\"]", without the newline. */
void config_print_string_list(FILE *out, char *const *list, size_t count);
void config_free_string_list(char ***list, size_t *count);

/* A duration in the largest unit that is exact, as people write it:
 * 15m, 4h, 90s. */
void config_print_duration(FILE *out, unsigned long long seconds);

/* Writes indent spaces. */
void config_indent(FILE *out, int indent);

#endif
