/*
 * events.c — every event that updates a metric, and how: which fields
 * label which family (lib/event.h, lib/metrics.h). An event not listed
 * here is only a log line.
 */
#include "lib/event.h"

const struct event_def event_connect = {
    "connect", {{METRIC_CONNECTIONS, {"protocol"}, "result=\"accepted\"", NULL}}, 1};

const struct event_def event_connection_refused = {
    "connection-refused",
    {{METRIC_CONNECTIONS, {"protocol"}, "result=\"refused\"", NULL}},
    1};

const struct event_def event_disconnect = {
    "disconnect", {{METRIC_SESSIONS, {"protocol", "tls_version"}, NULL, NULL}}, 1};

/* One per SMTP command and its reply; logged at debug. */
const struct event_def event_command = {
    "command",
    {{METRIC_COMMANDS, {"verb", "reply_class"}, NULL, NULL},
     {METRIC_COMMAND_SECONDS, {"verb"}, NULL, "duration"}},
    2};

const struct event_def event_auth = {
    "auth", {{METRIC_LOGINS, {"mechanism", "result"}, NULL, NULL}}, 1};

const struct event_def event_queued = {
    "queued",
    {{METRIC_MESSAGES, {NULL}, "result=\"accepted\"", NULL},
     {METRIC_RECEIVED_BYTES, {NULL}, NULL, "size"}},
    2};

const struct event_def event_message_refused = {
    "message-refused", {{METRIC_MESSAGES, {"result"}, NULL, NULL}}, 1};

const struct event_def event_message_discarded = {
    "message-discarded", {{METRIC_MESSAGES, {NULL}, "result=\"discarded\"", NULL}}, 1};

const struct event_def event_delivery = {
    "delivery",
    {{METRIC_DELIVERIES, {"transport", "status"}, NULL, NULL},
     {METRIC_DELIVERY_SECONDS, {"transport"}, NULL, "attempt"}},
    2};

/* One per resolver lookup; logged at debug. */
const struct event_def event_dns_lookup = {
    "dns-lookup", {{METRIC_DNS_LOOKUPS, {"result"}, NULL, NULL}}, 1};

/* One per HTTP request (the metrics listener); logged at debug. */
const struct event_def event_http_request = {"http-request", {{0}}, 0};

/* One per IMAP command and its tagged reply, one per POP3 command. */
const struct event_def event_imap_command = {
    "imap-command",
    {{METRIC_MAILBOX_COMMANDS, {"command", "result"}, "protocol=\"imap\"", NULL},
     {METRIC_MAILBOX_COMMAND_SECONDS, {"command"}, "protocol=\"imap\"", "duration"}},
    2};

const struct event_def event_pop3_command = {
    "pop3-command",
    {{METRIC_MAILBOX_COMMANDS, {"command", "result"}, "protocol=\"pop3\"", NULL},
     {METRIC_MAILBOX_COMMAND_SECONDS, {"command"}, "protocol=\"pop3\"", "duration"}},
    2};
