/*
 * commands.c — the POP3 command table (RFC 1939, CAPA of RFC 2449, STLS
 * of RFC 2595, AUTH of RFC 5034): each verb with the state it needs and
 * its handler. The maildrop's own commands are in maildrop.c and retr.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/penalty.h"
#include "lib/event.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/tls.h"
#include "pop3d/session.h"
#include "proto/sasl.h"

enum {
	IN_AUTHORIZATION = 1 << 0,
	IN_TRANSACTION = 1 << 1,
};

static pop3_handler cmd_capa, cmd_stls, cmd_user, cmd_pass, cmd_auth, cmd_apop, cmd_quit,
    cmd_utf8;

static const struct {
	enum pop3_verb verb;
	const char *name;
	unsigned states;
	pop3_handler *handler;
} commands[] = {
    {POP3_CAPA, "CAPA", IN_AUTHORIZATION | IN_TRANSACTION, cmd_capa},
    {POP3_STLS, "STLS", IN_AUTHORIZATION, cmd_stls},
    {POP3_USER, "USER", IN_AUTHORIZATION, cmd_user},
    {POP3_PASS, "PASS", IN_AUTHORIZATION, cmd_pass},
    {POP3_AUTH, "AUTH", IN_AUTHORIZATION, cmd_auth},
    {POP3_APOP, "APOP", IN_AUTHORIZATION, cmd_apop},
    {POP3_UTF8, "UTF8", IN_AUTHORIZATION, cmd_utf8},
    {POP3_QUIT, "QUIT", IN_AUTHORIZATION | IN_TRANSACTION, cmd_quit},
    {POP3_NOOP, "NOOP", IN_TRANSACTION, pop3_cmd_noop},
    {POP3_STAT, "STAT", IN_TRANSACTION, pop3_cmd_stat},
    {POP3_LIST, "LIST", IN_TRANSACTION, pop3_cmd_list},
    {POP3_UIDL, "UIDL", IN_TRANSACTION, pop3_cmd_uidl},
    {POP3_RETR, "RETR", IN_TRANSACTION, pop3_cmd_retr},
    {POP3_TOP, "TOP", IN_TRANSACTION, pop3_cmd_top},
    {POP3_DELE, "DELE", IN_TRANSACTION, pop3_cmd_dele},
    {POP3_RSET, "RSET", IN_TRANSACTION, pop3_cmd_rset},
};

void pop3_dispatch(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		if (commands[i].verb != cmd->verb)
			continue;
		s->command = commands[i].name;
		unsigned state = s->state == POP3_STATE_AUTHORIZATION ? IN_AUTHORIZATION
		                 : s->state == POP3_STATE_TRANSACTION ? IN_TRANSACTION
		                                                      : 0;
		if (!(commands[i].states & state)) {
			pop3_reply(s, false, "%s",
			           state == IN_AUTHORIZATION ? "Log in first"
			                                     : "Not now");
			return;
		}
		commands[i].handler(s, cmd);
		return;
	}
	s->command = "-";
	pop3_reply(s, false, "Unknown command");
}

static void cmd_capa(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3_reply(s, true, "Capability list follows");
	pop3_printf(s, "TOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n"
	               "EXPIRE NEVER\r\n");
	if (s->state == POP3_STATE_AUTHORIZATION) {
		if (!s->tls_active && s->listener->tls == TLS_STARTTLS)
			pop3_printf(s, "STLS\r\n");
		if (pop3_login_permitted(s)) {
			pop3_printf(s, "USER\r\nSASL");
			unsigned available =
			    sasl_mechanisms_available(s->server->config, &s->cert);
			for (unsigned i = 0; i < MECH_COUNT; i++)
				if (available & (1u << i))
					pop3_printf(s, " %s",
					            auth_mechanism_name(1u << i));
			pop3_printf(s, "\r\n");
		}
	}
	pop3_printf(s, ".\r\n");
}

static void cmd_stls(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	if (s->tls_active || s->listener->tls != TLS_STARTTLS) {
		pop3_reply(s, false, "TLS is not available here");
		return;
	}
	pop3_reply(s, true, "Begin TLS negotiation");
	SSL *ssl = tls_server_ssl(s->server->tls, s->listener->client_certificates);
	s->tls_pending = true;
	/* Whatever was pipelined behind STLS came in the clear: the layer
	 * drops it (CVE-2011-0411 and its POP3 cousins). */
	conn_starttls(s->conn, ssl);
}

static void cmd_apop(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3_reply(s, false, "APOP is not offered (no greeting timestamp)");
}

static void cmd_utf8(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3_reply(s, false, "UTF8 is not offered");
}

static void cmd_quit(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	(void)cmd;
	if (s->state == POP3_STATE_TRANSACTION) {
		pop3_update(s); /* replies itself */
		return;
	}
	pop3_close_after(s, true, "Bye");
}

/* --- logins --------------------------------------------------------------- */

static void log_auth(struct pop3_session *s, const struct auth_exchange *x,
                     const char *result, unsigned failures)
{
	EVENT(strcmp(result, "ok") == 0 ? L_INFO : L_WARN, &event_auth,
	      EV_WORD("session", s->log_id), EV_TEXT("client", s->peer_ip),
	      EV_WORD("protocol", "pop3"),
	      EV_WORD("mechanism", auth_mechanism_name(x->mechanism)),
	      EV_TEXT("user", x->login[0] ? x->login : "-"), EV_WORD("result", result),
	      EV_OPTIONAL("reason", x->reason[0] ? x->reason : NULL),
	      EV_UINT("failures", failures));
}

static void delay_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pop3_session *s = arg;
	s->command = "AUTH";
	pop3_reply(s, false, "[AUTH] Authentication failed");
	pop3_resume(s);
}

static void on_challenge(void *owner, const char *base64)
{
	struct pop3_session *s = owner;
	s->sasl_pending = false;
	pop3_printf(s, "+ %s\r\n", base64);
	pop3_resume(s);
}

static void on_done(void *owner, enum sasl_result result, const struct auth_exchange *x)
{
	struct pop3_session *s = owner;
	s->sasl_pending = false;
	s->command = "AUTH";
	if (result == SASL_SUCCESS) {
		penalty_login_succeeded(s->peer_ip, x->login);
		log_auth(s, x, "ok", 0);
		pop3_logged_in(s, x->identity, x->quota); /* replies */
	} else if (result == SASL_FAILURE) {
		unsigned failures;
		unsigned delay = penalty_login_failed(&s->server->config->auth, s->log_id,
		                                      s->peer_ip, x->login, &failures);
		log_auth(s, x, "failed", failures);
		if (delay == 0) {
			pop3_reply(s, false, "[AUTH] Authentication failed");
		} else {
			if (s->delay_timer == NULL)
				s->delay_timer =
				    evtimer_new(s->server->base, delay_over, s);
			struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
			evtimer_add(s->delay_timer, &tv);
		}
	} else {
		log_auth(s, x, "tempfail", 0);
		pop3_reply(s, false, "[SYS/TEMP] Temporary authentication failure");
	}
	pop3_resume(s);
}

static const struct sasl_session_handlers sasl_handlers = {
    .challenge = on_challenge,
    .done = on_done,
};

static void start_sasl(struct pop3_session *s, unsigned mechanism, char *response,
                       size_t len)
{
	if (s->sasl == NULL)
		s->sasl = sasl_session_new(s->server->auth, &sasl_handlers, s);
	s->sasl_pending = true;
	sasl_session_start(s->sasl, mechanism, s->peer_ip,
	                   s->cert.verified ? &s->cert : NULL, response, len);
}

/* RFC 1939 7: USER/PASS only where a password may travel (TLS). */
static void cmd_user(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (!pop3_login_permitted(s)) {
		pop3_reply(s, false, "[AUTH] Use STLS first");
		return;
	}
	if (!sasl_text_valid(cmd->arg[0], cmd->arg_len[0], false)) {
		pop3_reply(s, false, "Invalid user name");
		return;
	}
	free(s->user_name);
	s->user_name = xstrndup(cmd->arg[0], cmd->arg_len[0]);
	pop3_reply(s, true, "Send your password");
}

static void cmd_pass(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (s->user_name == NULL) {
		pop3_reply(s, false, "USER first");
		return;
	}
	if (!sasl_text_valid(cmd->arg[0], cmd->arg_len[0], true)) {
		x_free(&s->user_name);
		pop3_reply(s, false, "[AUTH] Invalid characters in the password");
		return;
	}
	/* PLAIN's message: "" NUL user NUL password */
	size_t ulen = strlen(s->user_name), plen = cmd->arg_len[0];
	char *response = xmalloc(ulen + plen + 3);
	response[0] = '\0';
	memcpy(response + 1, s->user_name, ulen);
	response[1 + ulen] = '\0';
	memcpy(response + 2 + ulen, cmd->arg[0], plen);
	response[2 + ulen + plen] = '\0';
	x_free(&s->user_name);
	start_sasl(s, MECH_PLAIN, response, ulen + plen + 2);
}

static void cmd_auth(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	if (cmd->argc == 0) { /* RFC 1734: the list of mechanisms */
		pop3_reply(s, true, "Methods follow");
		unsigned available =
		    sasl_mechanisms_available(s->server->config, &s->cert);
		for (unsigned i = 0; i < MECH_COUNT && pop3_login_permitted(s); i++)
			if (available & (1u << i))
				pop3_printf(s, "%s\r\n", auth_mechanism_name(1u << i));
		pop3_printf(s, ".\r\n");
		return;
	}
	if (!pop3_login_permitted(s)) {
		pop3_reply(s, false, "[AUTH] Use STLS first");
		return;
	}
	unsigned mechanism = auth_mechanism_by_name(cmd->arg[0], cmd->arg_len[0]);
	unsigned available = sasl_mechanisms_available(s->server->config, &s->cert);
	if (!(mechanism & available)) {
		pop3_reply(s, false, "Unsupported authentication mechanism");
		return;
	}
	char *response = NULL;
	size_t len = 0;
	if (cmd->argc == 2) { /* RFC 5034 4: "=" is an empty initial response */
		if (cmd->arg_len[1] == 1 && cmd->arg[1][0] == '=')
			response = xstrdup("");
		else if (sasl_decode_base64(cmd->arg[1], cmd->arg_len[1], &response,
		                            &len) < 0) {
			pop3_reply(s, false, "Invalid base64 in the initial response");
			return;
		}
	}
	start_sasl(s, mechanism, response, len);
}

void pop3_sasl_line(struct pop3_session *s, const char *line, size_t len)
{
	const char *error = "Authentication line too long";
	if (line && sasl_session_line(s->sasl, line, len, &error) == 0) {
		s->sasl_pending = true;
		return;
	}
	if (line == NULL)
		sasl_session_abandon(s->sasl);
	pop3_reply(s, false, "%s", error);
}
