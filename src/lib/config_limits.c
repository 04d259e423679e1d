/*
 * config_limits.c — the `limits:` section: what one client may make a
 * session cost. A listener may override any of them (its own `limits:`).
 */
#include "lib/config_sections.h"

#define LIMIT(key, field, dflt, lo, hi, help)                                            \
	CONFIG_ROW_UINT(key, struct limits_config, field, dflt, lo, hi, help)

static const struct config_key limit_keys[] = {
    CONFIG_ROW_UINT64("message_size", struct limits_config, message_size,
                      50 * 1024 * 1024, 1024, (uint64_t)1 << 40,
                      "octets, advertised in SIZE; 552 5.3.4 beyond"),
    LIMIT("recipients", recipients, 100, 1, 100000, "per message; 452 4.5.3 beyond"),
    LIMIT("command_line", command_line, 512, 512, 65536,
          "octets with CRLF (RFC 5321 4.5.3.1.4); 500 5.5.2 beyond"),
    LIMIT("text_line", text_line, 1000, 1000, 1000000,
          "octets with CRLF (RFC 5321 4.5.3.1.6); the message is refused"),
    LIMIT("errors", errors, 10, 1, 1000, "protocol errors before 421 and disconnect"),
    LIMIT("idle_timeout", idle_timeout, 300, 1, 86400,
          "seconds waiting for a command; then 421 4.4.2"),
    LIMIT("data_timeout", data_timeout, 600, 1, 86400,
          "seconds waiting for message data"),
    LIMIT("connections", connections, 4000, 1, 1000000,
          "sessions per listener in each worker process; 421 4.3.2 beyond"),
    LIMIT("connections_per_ip", connections_per_ip, 50, 1, 1000000,
          "sessions per client IP on a listener, counted across all workers; 421 "
          "4.7.0 beyond"),
    LIMIT("greeting_delay_ms", greeting_delay_ms, 0, 0, 60000,
          "wait before the banner; a client talking first gets 554 5.5.0"),
    LIMIT("auth_line", auth_line, 12288, 512, 1000000,
          "octets of a SASL response, or of AUTH with its initial response, without "
          "CRLF (RFC 4954 4); 500 5.5.6 beyond"),
    LIMIT("header_size", header_size, 256 * 1024, 1024, 16 * 1024 * 1024,
          "octets of a message's header section, the part held in memory while the "
          "rest streams to disk; 552 5.3.4 beyond"),
    LIMIT("header_fields", header_fields, 1000, 16, 100000,
          "fields in a message's header section; 552 5.3.4 beyond"),
    {0},
};

const struct config_section config_limits_section = {"limits", limit_keys, NULL};
