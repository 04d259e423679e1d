/*
 * config_auth.h — loading and printing the `auth:` section (config.c
 * calls these; everyone else reads struct auth_config in config.h).
 */
#ifndef PETREL_CONFIG_AUTH_H
#define PETREL_CONFIG_AUTH_H

#include <stdio.h>

#include "lib/config.h"
#include "lib/config_loader.h"

void config_auth_defaults(struct auth_config *auth);
int config_auth_load(struct loader *ld, struct fy_node *node, struct auth_config *auth);
/* Fills in what depends on other settings (the SQLite file under home). */
void config_auth_finish(struct auth_config *auth, const char *home);
void config_auth_free(struct auth_config *auth);
void config_auth_print(FILE *out, const struct auth_config *auth);

/* config_print.c: a double-quoted YAML string that loads back. */
void config_print_string(FILE *out, const char *s);

#endif
