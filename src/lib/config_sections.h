/*
 * config_sections.h — the tables of the configuration's sections, one
 * file each (config_<section>.c), and the custom readers of the
 * top-level lists. config.c assembles them into the top-level table;
 * nothing outside lib/ needs this header.
 */
#ifndef PETREL_CONFIG_SECTIONS_H
#define PETREL_CONFIG_SECTIONS_H

#include "lib/config.h"
#include "lib/config_table.h"

extern const struct config_section config_log_section;
extern const struct config_section config_tls_section;
extern const struct config_section config_auth_section;
extern const struct config_section config_limits_section;
extern const struct config_section config_dns_section;
extern const struct config_section config_delivery_section;
extern const struct config_section config_queue_section;
extern const struct config_section config_listener_section;
extern const struct config_section config_user_section;
extern const struct config_section config_route_section;

extern const struct config_custom config_domains_custom;
extern const struct config_custom config_users_custom;
extern const struct config_custom config_aliases_custom;
extern const struct config_custom config_listen_custom;
extern const struct config_custom config_relay_networks_custom;
extern const struct config_custom config_relay_domains_custom;
extern const struct config_custom config_routes_custom;

extern const char *const listen_protocol_names[];
extern const char *const tls_mode_names[];
extern const char *const client_cert_mode_names[];
extern const char *const tls_policy_names[];

/* Fills in what depends on other settings (the SQLite file under home). */
void config_auth_finish(struct auth_config *auth, const char *home);

/* The whole file's table (config.c), for the reference. */
extern const struct config_section config_top_section;

#endif
