/*
 * commands.c — the IMAP command table and its dispatcher: the state a
 * command needs is checked here, once, and UID's subcommands are found
 * in the same table; after each command the client hears what changed
 * in its folder, before the tagged reply (RFC 9051 7).
 */
#include "imapd/commands.h"

#include <string.h>
#include <strings.h>

static const struct imap_command commands[] = {
    {"CAPABILITY", imap_cmd_capability, IMAP_CMD_ANY},
    {"NOOP", imap_cmd_noop, IMAP_CMD_ANY},
    {"LOGOUT", imap_cmd_logout, IMAP_CMD_ANY},
    {"ID", imap_cmd_id, IMAP_CMD_ANY},
    {"ENABLE", imap_cmd_enable, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"STARTTLS", imap_cmd_starttls, IMAP_CMD_NOT_AUTH},
    {"LOGIN", imap_cmd_login, IMAP_CMD_NOT_AUTH},
    {"AUTHENTICATE", imap_cmd_authenticate, IMAP_CMD_NOT_AUTH},
    {"SELECT", imap_cmd_select, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"EXAMINE", imap_cmd_select, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"CREATE", imap_cmd_create, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"DELETE", imap_cmd_delete, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"RENAME", imap_cmd_rename, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"SUBSCRIBE", imap_cmd_subscribe, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"UNSUBSCRIBE", imap_cmd_subscribe, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"LIST", imap_cmd_list, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"LSUB", imap_cmd_list, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"NAMESPACE", imap_cmd_namespace, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"STATUS", imap_cmd_status, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"APPEND", imap_cmd_append, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"GETQUOTA", imap_cmd_getquota, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"GETQUOTAROOT", imap_cmd_getquota, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"SETQUOTA", imap_cmd_setquota, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"COMPRESS", imap_cmd_compress, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"IDLE", imap_cmd_idle, IMAP_CMD_AUTH | IMAP_CMD_SELECTED},
    {"CHECK", imap_cmd_noop, IMAP_CMD_SELECTED},
    {"CLOSE", imap_cmd_close, IMAP_CMD_SELECTED},
    {"UNSELECT", imap_cmd_close, IMAP_CMD_SELECTED},
    {"EXPUNGE", imap_cmd_expunge, IMAP_CMD_SELECTED | IMAP_CMD_UID},
    {"SEARCH", imap_cmd_search, IMAP_CMD_SELECTED | IMAP_CMD_UID | IMAP_CMD_KEEPS_SEQS},
    {"SORT", imap_cmd_sort, IMAP_CMD_SELECTED | IMAP_CMD_UID | IMAP_CMD_KEEPS_SEQS},
    {"THREAD", imap_cmd_thread, IMAP_CMD_SELECTED | IMAP_CMD_UID | IMAP_CMD_KEEPS_SEQS},
    {"FETCH", imap_cmd_fetch, IMAP_CMD_SELECTED | IMAP_CMD_UID | IMAP_CMD_KEEPS_SEQS},
    {"STORE", imap_cmd_store, IMAP_CMD_SELECTED | IMAP_CMD_UID | IMAP_CMD_KEEPS_SEQS},
    {"COPY", imap_cmd_copy, IMAP_CMD_SELECTED | IMAP_CMD_UID},
    {"MOVE", imap_cmd_copy, IMAP_CMD_SELECTED | IMAP_CMD_UID},
};

const struct imap_command *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcasecmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static unsigned state_flag(enum imap_state state)
{
	switch (state) {
	case IMAP_STATE_NOT_AUTHENTICATED:
		return IMAP_CMD_NOT_AUTH;
	case IMAP_STATE_AUTHENTICATED:
		return IMAP_CMD_AUTH;
	case IMAP_STATE_SELECTED:
		return IMAP_CMD_SELECTED;
	default:
		return 0;
	}
}

void imap_command_dispatch(struct imap_client *c, const struct imap_arg *args,
                           unsigned count)
{
	const struct imap_command *cmd = imap_command_find(c->command);
	if (cmd && strcmp(cmd->name, "UID") != 0 && strcasecmp(c->command, "UID") == 0)
		cmd = NULL;
	if (strcasecmp(c->command, "UID") == 0) {
		const char *sub = args ? imap_arg_string(args) : NULL;
		cmd = sub && args->type == IMAP_ARG_ATOM ? imap_command_find(sub) : NULL;
		if (cmd == NULL || !(cmd->flags & IMAP_CMD_UID)) {
			client_tagged(c, "BAD", "Unknown UID command");
			return;
		}
		snprintf(c->command, sizeof(c->command), "%s", cmd->name);
		c->uid = true;
		args = args->next;
		count--;
	}
	if (cmd == NULL) {
		client_tagged(c, "BAD", "Unknown command");
		return;
	}
	if (!(cmd->flags & state_flag(c->state))) {
		const char *why =
		    c->state == IMAP_STATE_NOT_AUTHENTICATED ? "Log in first"
		    : cmd->flags == IMAP_CMD_NOT_AUTH        ? "Already logged in"
		                                             : "Select a mailbox first";
		client_tagged(c, "BAD", "%s", why);
		return;
	}
	cmd->run(c, args, count);
}

bool imap_command_allows_expunge(const struct imap_client *c)
{
	const struct imap_command *cmd = imap_command_find(c->command);
	return cmd == NULL || !(cmd->flags & IMAP_CMD_KEEPS_SEQS) || c->uid;
}
