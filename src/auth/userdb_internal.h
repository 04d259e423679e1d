/*
 * userdb_internal.h — what the parts of the user database share: the
 * handle and a few query helpers. userdb.c opens it and keeps its schema;
 * userdb_admin.c has the writes of the petrel commands and the seeding;
 * userdb_lookup.c the reads on the mail path (recipients, logins, who may
 * send as whom). Not for use outside auth/.
 */
#ifndef PETREL_USERDB_INTERNAL_H
#define PETREL_USERDB_INTERNAL_H

#include "auth/db.h"
#include "auth/userdb.h"
#include "lib/buf.h"

struct userdb {
	struct db *db;
	const struct config *config;
};

long userdb_exec(struct userdb *u, const char *sql, const char *const *params, size_t n,
                 struct db_result *result, const char **error_r);
/* The first column of the first row as a number; -1 on error. */
long userdb_query_number(struct userdb *u, const char *sql, const char *const *params,
                         size_t n, const char **error_r);
/* 1 if sql with key as $1 returns a row, 0 if not, -1 on error. */
int userdb_row_exists(struct userdb *u, const char *sql, const char *key,
                      const char **error_r);
/* Seconds since the epoch, as text for a parameter. */
void userdb_now_text(char out[24]);
/* Lower-cases without validating (lookups of what a client sent). */
void userdb_lower(const char *address, struct buf *out);
const char *userdb_domain_of(const char *address);

#endif
