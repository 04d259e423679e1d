/*
 * config_loader.h — typed readers of YAML nodes for the configuration
 * loader (config.c and its section files, such as config_auth.c).
 *
 * Each reader checks one node and either stores the value or formats
 * "source:line:col: what was expected" into loader->error and returns -1.
 * Mappings are walked by config_table.c, from each section's rows.
 */
#ifndef PETREL_CONFIG_LOADER_H
#define PETREL_CONFIG_LOADER_H

#include <libfyaml.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

struct loader {
	const char *source;
	const char *error;
};

int loader_fail(struct loader *ld, struct fy_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int loader_string(struct loader *ld, struct fy_node *node, char **out);
int loader_uint64(struct loader *ld, struct fy_node *node, uint64_t min, uint64_t max,
                  uint64_t *out);
int loader_uint(struct loader *ld, struct fy_node *node, unsigned min, unsigned max,
                unsigned *out);
int loader_bool(struct loader *ld, struct fy_node *node, bool *out);
/* Picks one of names[] (NULL-terminated); *out is its index. */
int loader_enum(struct loader *ld, struct fy_node *node, const char *const *names,
                int *out);
/* "30s", "5m", "4h", "5d" or seconds, within [min, max]. */
int loader_duration(struct loader *ld, struct fy_node *node, unsigned min, unsigned max,
                    unsigned *out);
int loader_sequence(struct loader *ld, struct fy_node *node, const char *what);

#endif
