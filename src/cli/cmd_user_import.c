/*
 * cmd_user_import.c — `petrel user import FILE [--domain DOMAIN]`: users
 * from a Dovecot passwd-file (user:password:uid:gid:gecos:home:shell:
 * extra). Hashes are kept as they are ({SHA512-CRYPT}, {BLF-CRYPT},
 * {ARGON2ID}) and upgraded to argon2id at each user's next login;
 * {PLAIN} passwords are hashed now. A quota in the extra fields
 * (userdb_quota_rule=*:storage=1G) is kept. Users that exist already are
 * left alone and reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "cli/cli.h"

#define LINE_MAX_OCTETS 8192

struct import_counts {
	unsigned added, existing, failed;
};

/* userdb_quota_rule=*:storage=SIZE among space-separated extra fields. */
static uint64_t extra_quota(const char *extra)
{
	const char *key = "userdb_quota_rule=*:storage=";
	const char *p = strstr(extra, key);
	if (p == NULL)
		return 0;
	char size[32];
	p += strlen(key);
	size_t len = strcspn(p, " \t");
	if (len == 0 || len >= sizeof(size))
		return 0;
	memcpy(size, p, len);
	size[len] = '\0';
	uint64_t quota;
	return cli_parse_size(size, &quota) == 0 ? quota : 0;
}

static void import_line(struct config *config, struct userdb *db, const char *domain,
                        char *line, unsigned number, struct import_counts *counts)
{
	char *fields[8] = {0};
	size_t n = 0;
	for (char *p = line; n < 8; n++) {
		fields[n] = p;
		/* The eighth field (extra) may itself contain ':'. */
		char *colon = n < 7 ? strchr(p, ':') : NULL;
		if (colon == NULL) {
			n++;
			break;
		}
		*colon = '\0';
		p = colon + 1;
	}
	struct buf address = BUF_INIT, stored = BUF_INIT;
	const char *error = NULL;
	int r = -1;
	buf_append_str(&address, fields[0]);
	if (strchr(fields[0], '@') == NULL) {
		if (domain)
			buf_appendf(&address, "@%s", domain);
		else
			error = "no domain in the user name (use --domain)";
	}
	bool plain = false;
	struct password_secrets secrets = {BUF_INIT, BUF_INIT, BUF_INIT};
	if (error == NULL && (n < 2 || fields[1][0] == '\0'))
		error = "no password";
	if (error == NULL && password_import(fields[1], &stored, &plain, &error) == 0) {
		if (plain)
			r = password_make(&config->auth.password, stored.data, stored.len,
			                  &secrets, &error);
		else {
			buf_append(&secrets.hash, stored.data, stored.len);
			r = 0;
		}
	}
	struct user_record existing;
	int found = r == 0 ? userdb_user_get(db, address.data, &existing, &error) : -1;
	if (found > 0) {
		user_record_free(&existing);
		counts->existing++;
		fprintf(stderr, "line %u: %s exists already, left alone\n", number,
		        address.data);
	} else if (found == 0 && userdb_user_add(db, address.data, &secrets,
	                                         n == 8 ? extra_quota(fields[7]) : 0,
	                                         true, &error) == 0) {
		counts->added++;
	} else {
		counts->failed++;
		fprintf(stderr, "line %u: %s: %s\n", number, address.data,
		        error ? error : "refused");
	}
	password_secrets_free(&secrets);
	buf_free(&stored);
	buf_free(&address);
}

int cmd_user_import(struct config *config, struct userdb *db, const char *file,
                    const char *domain)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		fprintf(stderr, "petrel: %s: %s\n", file, strerror(errno));
		return 1;
	}
	struct import_counts counts = {0};
	char line[LINE_MAX_OCTETS];
	unsigned number = 0;
	while (fgets(line, sizeof(line), f)) {
		number++;
		size_t len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			fprintf(stderr, "line %u: longer than %d octets, stopped\n",
			        number, LINE_MAX_OCTETS);
			counts.failed++;
			break;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		import_line(config, db, domain, line, number, &counts);
	}
	fclose(f);
	cli_report(config, "imported %u users, %u existed already, %u failed",
	           counts.added, counts.existing, counts.failed);
	return counts.failed ? 1 : 0;
}
