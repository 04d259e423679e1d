/*
 * client.h — one IMAP session (RFC 9051, RFC 3501): its state, the
 * interface between the I/O loop (client.c), the command table
 * (commands.c), the commands (cmd_*.c, one file each) and the replies.
 */
#ifndef PETREL_IMAP_CLIENT_H
#define PETREL_IMAP_CLIENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/auth_client.h"
#include "auth/auth_service.h"
#include "auth/sasl_session.h"
#include "imapd/imapd.h"
#include "lib/buf.h"
#include "mailbox/mailbox.h"
#include "net/conn.h"
#include "proto/imap_parser.h"
#include "proto/imap_write.h"

enum imap_state {
	IMAP_STATE_NOT_AUTHENTICATED,
	IMAP_STATE_AUTHENTICATED,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

/* RFC 5161 ENABLE */
enum {
	IMAP_ENABLED_UTF8 = 1 << 0,
	IMAP_ENABLED_CONDSTORE = 1 << 1,
	IMAP_ENABLED_QRESYNC = 1 << 2,
	IMAP_ENABLED_REV2 = 1 << 3, /* IMAP4rev2 */
};

/* A command that goes on after its handler returned (a login waiting
 * for the auth process, a FETCH waiting for the client to read). */
struct append_sync;

struct imap_pending {
	/* Called when output has drained or input arrived; returns true
	 * once the command is over (its tagged reply sent). */
	bool (*resume)(struct imap_client *c);
	void (*free)(struct imap_client *c);
	void *state;
};

struct imap_client {
	struct imapd *server;
	struct worker_listener *accepted_on;
	const struct listen_config *listener;
	struct imap_client *prev, *next;
	struct conn *conn;
	struct sockaddr_storage peer;
	char peer_ip[INET6_ADDRSTRLEN];
	char log_id[24];
	enum imap_state state;
	bool tls_active, tls_pending, closing, compressed;
	struct imap_parser *parser;
	unsigned errors;
	unsigned enabled; /* IMAP_ENABLED_* */
	/* the command being run */
	char tag[IMAP_TAG_MAX + 1];
	char command[IMAP_COMMAND_MAX + 1];
	bool uid; /* "UID FETCH": numbers are UIDs */
	uint64_t command_usec;
	struct imap_pending pending; /* resume NULL: none */
	/* after login */
	char *user;
	struct mail_store *store;
	struct mailbox *mailbox; /* SELECTED */
	bool idling;
	/* a streamed APPEND literal being read */
	struct mail_append *append;
	uint64_t append_left;
	struct append_sync *append_sync; /* its fsync on a thread: input waits */
	char *append_refusal;            /* the NO to give once the parser says ERROR */
	/* AUTHENTICATE / LOGIN */
	struct sasl_session *sasl;
	struct event *delay_timer;
	char *sasl_tag; /* the tag the exchange's result answers */
	uint64_t connect_usec;
	struct imap_writer writer; /* to the connection */
};

/* client.c */
void imap_client_start(struct imapd *server, struct worker_listener *accepted_on, int fd,
                       const struct sockaddr *peer, socklen_t peer_len);
void imap_client_destroy(struct imap_client *c, const char *reason);
/* A stop: an idle session is told BYE and closed. */
void imap_client_shutdown(struct imap_client *c);
/* The folder being watched changed (imapd.c): rescan its directories, or
 * (false) read the index another client of this process has just
 * rescanned. */
void imap_client_changed(struct imap_client *c, bool rescan);

/* "* text" CRLF */
void client_untagged(struct imap_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "tag OK|NO|BAD text" CRLF; ends the command (logs it). */
void client_tagged(struct imap_client *c, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void client_write(struct imap_client *c, const void *data, size_t len);
void client_puts(struct imap_client *c, const char *text);
/* BYE and close once it is out. */
void client_bye(struct imap_client *c, const char *text);
/* Stops reading commands until resumed (a command waits for something). */
void client_pause(struct imap_client *c);
void client_resume(struct imap_client *c);

/* Untagged news of the selected folder (EXISTS, EXPUNGE, FETCH); with
 * allow_expunge false expunges wait (RFC 9051 7.5.1). */
void client_refresh(struct imap_client *c, bool allow_expunge);
/* The same; with sync false the index alone is asked (it was just synced). */
/* The selected folder is closed (SELECT elsewhere, CLOSE, UNSELECT). */
void client_close_mailbox(struct imap_client *c);

/* The client's certificate (an empty one when none was shown). */
const struct client_cert *client_cert(const struct imap_client *c);

/* The capability list for the current state (no leading "CAPABILITY"). */
void client_capabilities(struct imap_client *c, struct buf *out);
/* Whether a login may happen now (TLS, or plaintext allowed). */
bool client_login_permitted(const struct imap_client *c);
/* After a successful login: the user's store opens, the state changes. */
bool client_logged_in(struct imap_client *c, const char *user, uint64_t quota,
                      const char **error_r);
/* An error from the store, as a response code + text: "[NONEXISTENT] ..." */
const char *client_store_error(int error_number, const char *error);

/* A mailbox name argument (modified UTF-7 unless UTF8=ACCEPT) into its
 * UTF-8 name, out[IMAP_MAILBOX_NAME_MAX + 1]. false after a BAD/NO. */
bool client_mailbox_arg(struct imap_client *c, const struct imap_arg *arg, char *out);
/* A name for a reply: mUTF-7 (or UTF-8 with UTF8=ACCEPT), as an astring. */
void client_write_mailbox(struct imap_client *c, const char *name);

/* flags.c: "FLAGS (\\Seen $Junk)" of a message; the untagged FLAGS and
 * PERMANENTFLAGS of the selected folder; flag lists of STORE and APPEND
 * into flags and keyword numbers (keywords made as needed). */
void client_write_flags(struct imap_client *c, uint32_t seq);
void client_write_flags_list(struct imap_client *c);
bool client_parse_flags(struct imap_client *c, const struct imap_arg *arg,
                        uint16_t *flags_r, const char *names[MAIL_KEYWORDS_MAX],
                        size_t *name_count_r);

#endif
