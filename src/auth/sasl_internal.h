/*
 * sasl_internal.h — what the SASL mechanisms share: the exchange's state,
 * the checks every mechanism ends with (lockouts, the user enabled, the
 * authorization identity), and one step function per mechanism, each in
 * its own file (sasl_plain.c: PLAIN and LOGIN, sasl_scram.c, sasl_external.c,
 * sasl_bearer.c: OAUTHBEARER and XOAUTH2, sasl_cram.c), dispatched from
 * the table in sasl.c. Not for use outside auth/.
 */
#ifndef PETREL_SASL_INTERNAL_H
#define PETREL_SASL_INTERNAL_H

#include "auth/sasl.h"
#include "proto/sasl.h"

struct sasl_server {
	const struct config *config;
	unsigned mechanism;
	unsigned step;
	char hostname[256];
	char client_ip[64];
	struct client_cert cert;
	char login[SASL_NAME_MAX + 1];
	char identity[SASL_NAME_MAX + 1];
	char reason[192];
	bool rehashed;
	bool cached; /* the password was checked from the credential cache */
	bool done;   /* success pending the client's empty answer (SCRAM) */
	/* SCRAM-SHA-256 */
	char authzid[SASL_NAME_MAX + 1];
	struct scram_keys keys;
	bool scram_user; /* keys are a real user's */
	char user[SASL_NAME_MAX + 1];
	char nonce[192];
	struct buf gs2_header;
	struct buf auth_message;
	/* CRAM-MD5 */
	char challenge[320];
	/* OAUTHBEARER, XOAUTH2: why the token failed, told after the error
	 * challenge has been answered */
	char token_failure[192];
};

/* One step of a mechanism (see sasl_server_step()). */
typedef enum sasl_result sasl_step_fn(struct sasl_server *s, struct userdb *db,
                                      const char *response, size_t len,
                                      struct buf *challenge);

sasl_step_fn sasl_step_plain, sasl_step_login, sasl_step_scram, sasl_step_external,
    sasl_step_bearer, sasl_step_cram_md5;

enum sasl_result sasl_fail(struct sasl_server *s, enum sasl_result result,
                           const char *reason);
void sasl_set_text(char *out, size_t size, const char *data, size_t len);
bool sasl_locked_out(struct sasl_server *s);
enum sasl_result sasl_authorize(struct sasl_server *s, struct userdb *db,
                                const char *user, const char *authzid);
int sasl_enabled_user(struct sasl_server *s, struct userdb *db, const char *name,
                      struct user_record *user);
enum sasl_result sasl_check_password(struct sasl_server *s, struct userdb *db,
                                     const char *password, size_t len,
                                     const char *authzid);

#endif
