/*
 * userdb.h — petrel's users, domains, aliases and delegations.
 *
 * One schema in SQLite or PostgreSQL (db.h), created and upgraded by
 * numbered migrations. Addresses are stored in lower case and looked up
 * the same way. An alias maps an address to one or more targets; the
 * address "@domain" is that domain's catch-all. A delegation lets a user
 * act for another address (SASL authzid) and send as it; the target "*"
 * makes a master user.
 *
 * Every call blocks. Only the auth process (auth_server.h) and the CLI
 * open the database, each thread with its own connection
 * (userdb_for_thread); everyone else asks the auth process.
 */
#ifndef PETREL_USERDB_H
#define PETREL_USERDB_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/password.h"
#include "lib/config.h"

/* Alias expansion stops here: deeper chains are a loop or a mistake. */
#define USERDB_ALIAS_DEPTH 10
/* And one address never fans out to more mailboxes than this. */
#define USERDB_MAX_EXPANSION 1000

struct userdb;

struct user_record {
	char *address;
	char *password; /* "{SCHEME}..." */
	char *scram;    /* "iterations,salt,StoredKey,ServerKey" or NULL */
	char *cram_md5; /* or NULL */
	uint64_t quota; /* octets; 0: none */
	bool enabled;
};

/* Final recipients of an address after alias expansion. */
struct userdb_expansion {
	char **addresses;
	size_t count;
	bool truncated;   /* stopped at USERDB_MAX_EXPANSION */
	bool local;       /* the address itself is at one of our domains */
	char *missing;    /* on 0: an alias target at a local domain that
	                     does not exist (the first one found), or NULL */
	uint64_t *quotas; /* each address's quota (0: none or not a user), or NULL */
};

/* Opens the configured database; does not create tables. */
int userdb_open(const struct config *config, struct userdb **db_r, const char **error_r);
void userdb_close(struct userdb **db);

/* This thread's connection, opened on first use; NULL with *error_r if
 * the database cannot be reached (the next call tries again). */
struct userdb *userdb_for_thread(const struct config *config, const char **error_r);

/* Creates or upgrades the schema to the newest version. */
int userdb_migrate(struct userdb *db, const char **error_r);
int userdb_schema_version(struct userdb *db, const char **error_r);

/* Seeds the YAML `domains` and `users` into the database: missing ones
 * are added, a YAML user whose password changed gets the new one. */
int userdb_seed(struct userdb *db, const char **error_r);

/* Lower-cases and validates a mailbox address into out. */
int userdb_normalize(const char *address, struct buf *out, const char **error_r);

/* 1 found (*user filled; free with user_record_free), 0 no such user,
 * -1 error. */
int userdb_user_get(struct userdb *db, const char *address, struct user_record *user,
                    const char **error_r);
void user_record_free(struct user_record *user);
int userdb_user_add(struct userdb *db, const char *address,
                    const struct password_secrets *secrets, uint64_t quota, bool enabled,
                    const char **error_r);
/* Replaces the secrets; with `expected` set, only if the stored hash is
 * still that one (a rehash at login must not undo a password change). */
int userdb_user_set_secrets(struct userdb *db, const char *address,
                            const struct password_secrets *secrets, const char *expected,
                            const char **error_r);
int userdb_user_set_quota(struct userdb *db, const char *address, uint64_t quota,
                          const char **error_r);
int userdb_user_set_enabled(struct userdb *db, const char *address, bool enabled,
                            const char **error_r);
int userdb_user_delete(struct userdb *db, const char *address, const char **error_r);

/* Lists rows for the petrel command; domain may be NULL for all. The
 * callback gets column values in the documented order. */
typedef void userdb_row_fn(void *ctx, const char *const *values, size_t count);
/* address, quota, enabled, scheme */
int userdb_user_list(struct userdb *db, const char *domain, userdb_row_fn *fn, void *ctx,
                     const char **error_r);

int userdb_domain_add(struct userdb *db, const char *domain, const char **error_r);
/* Refuses a domain that still has users or aliases. */
int userdb_domain_delete(struct userdb *db, const char *domain, const char **error_r);
/* name, users, aliases */
int userdb_domain_list(struct userdb *db, userdb_row_fn *fn, void *ctx,
                       const char **error_r);
/* 1 local (YAML `domains` or the domains table), 0 not, -1 error. */
int userdb_domain_is_local(struct userdb *db, const char *domain, const char **error_r);

/* address is "local@domain" or "@domain" (catch-all) of a local domain. */
int userdb_alias_add(struct userdb *db, const char *address, const char *target,
                     const char **error_r);
/* target NULL removes every target of address. Returns rows removed. */
long userdb_alias_delete(struct userdb *db, const char *address, const char *target,
                         const char **error_r);
/* address, target */
int userdb_alias_list(struct userdb *db, const char *domain, userdb_row_fn *fn, void *ctx,
                      const char **error_r);

int userdb_grant(struct userdb *db, const char *user, const char *target,
                 const char **error_r);
long userdb_revoke(struct userdb *db, const char *user, const char *target,
                   const char **error_r);

/*
 * Expands a recipient through aliases, plus-addressing and catch-alls.
 * Returns 1 with the final recipients in *out (free with
 * userdb_expansion_free), 0 for an unknown address of a local domain,
 * -1 on a database error. A remote address is its own final recipient.
 * out->local says whether the address is at a local domain (also on 0).
 * An alias any of whose targets is an unknown local address (and no
 * catch-all takes it) is 0 too, with out->missing naming that target:
 * mail that could reach only some of its recipients is refused at RCPT
 * rather than accepted and partly bounced (backscatter).
 */
int userdb_expand(struct userdb *db, const char *address, struct userdb_expansion *out,
                  const char **error_r);
void userdb_expansion_free(struct userdb_expansion *expansion);

/* The user a local recipient is delivered to (exact, then without its
 * +tag): 1 with *user_r (owned), 0 none, -1 error. */
int userdb_mailbox_owner(struct userdb *db, const char *address, char **user_r,
                         const char **error_r);

/* May user act for target (SASL authzid)? Itself, or by delegation.
 * 1 yes, 0 no, -1 error. */
int userdb_may_act_for(struct userdb *db, const char *user, const char *target,
                       const char **error_r);

/* May user send with MAIL FROM sender? Its own address (with any
 * +tag), an alias that names it, or a delegation. 1 yes, 0 no, -1. */
int userdb_may_send_as(struct userdb *db, const char *user, const char *sender,
                       const char **error_r);

#endif
