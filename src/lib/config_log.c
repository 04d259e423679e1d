/*
 * config_log.c — the `log:` section.
 */
#include "lib/config_sections.h"

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

static const struct config_key log_keys[] = {
    CONFIG_ROW_ENUM("level", struct log_config, level, log_levels, L_INFO,
                    "least severity written"),
    CONFIG_ROW_BOOL("syslog", struct log_config, syslog, false,
                    "also send log lines to syslog (facility mail)"),
    {0},
};

const struct config_section config_log_section = {"log", log_keys, NULL};
