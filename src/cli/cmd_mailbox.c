/*
 * cmd_mailbox.c — `petrel mailbox list|status|reindex|purge USER`: a
 * user's folders and what they hold, a full rescan of the index against
 * the Maildir, and the removal of messages marked \Deleted.
 *
 * The store is opened as the account the server runs as (the files
 * stay the server's when the command is run as root), and may be open in
 * the server at the same time: the index's locking is SQLite's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/privilege.h"
#include "mailbox/maildir.h"
#include "mailbox/quota.h"
#include "mailbox/store.h"

static int refused(const char *error)
{
	fprintf(stderr, "petrel: %s\n", error);
	return 1;
}

static void human_size(uint64_t n, char *out, size_t size)
{
	static const char *const units[] = {"B", "K", "M", "G", "T"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, u ? "%.1f%s" : "%.0f%s", v, units[u]);
}

/* The user (as the database knows them) and their store, as the server's
 * account. */
static int open_user(const struct cli_options *options, const char *address,
                     struct config **config_r, struct mail_store **store_r,
                     uint64_t *quota_r)
{
	struct userdb *db;
	struct config *config;
	if (cli_userdb_open(options, &config, &db) < 0)
		return 1;
	const char *error;
	struct buf key = BUF_INIT;
	struct user_record user;
	int found = userdb_normalize(address, &key, &error) < 0
	                ? -1
	                : userdb_user_get(db, key.data, &user, &error);
	userdb_close(&db);
	if (found <= 0) {
		fprintf(stderr, "petrel: %s: %s\n", address,
		        found < 0 ? error : "no such user");
		buf_free(&key);
		config_free(&config);
		return 1;
	}
	*quota_r = user.quota;
	user_record_free(&user);
	uid_t uid;
	gid_t gid;
	if (geteuid() == 0 && (privilege_lookup(config->run_as, &uid, &gid, &error) < 0 ||
	                       privilege_drop(uid, gid, &error) < 0)) {
		buf_free(&key);
		config_free(&config);
		return refused(error);
	}
	struct buf root = BUF_INIT;
	maildir_user_root(config->home, key.data, &root);
	buf_free(&key);
	int r = mail_store_open(root.data, store_r, &error);
	buf_free(&root);
	if (r < 0) {
		config_free(&config);
		return refused(error);
	}
	*config_r = config;
	return 0;
}

static int list(struct mail_store *store)
{
	struct mail_folder *folders;
	size_t count;
	const char *error;
	if (mail_store_list(store, &folders, &count, &error) < 0)
		return refused(error);
	printf("%-32s %9s %9s %9s  %s\n", "FOLDER", "MESSAGES", "UNSEEN", "SIZE", "USE");
	int status = 0;
	uint64_t total = 0, bytes = 0;
	for (size_t i = 0; i < count; i++) {
		if (!folders[i].exists)
			continue;
		struct mail_folder_status st;
		if (mail_store_status(store, folders[i].name, &st, &error) < 0) {
			fprintf(stderr, "petrel: %s: %s\n", folders[i].name, error);
			status = 1;
			continue;
		}
		char size[16];
		human_size(st.size, size, sizeof(size));
		const char *use = mail_special_use_name(folders[i].special_use);
		printf("%-32s %9u %9u %9s  %s\n", folders[i].name, st.messages, st.unseen,
		       size, use ? use : "");
		total += st.messages;
		bytes += st.size;
	}
	char size[16];
	human_size(bytes, size, sizeof(size));
	printf("%zu folders, %llu messages, %s\n", count, (unsigned long long)total,
	       size);
	mail_folder_list_free(folders, count);
	return status;
}

static int status(struct mail_store *store, uint64_t quota)
{
	uint64_t bytes, messages;
	const char *error;
	if (mail_quota_usage(mail_store_root(store), quota, &bytes, &messages, &error) <
	    0)
		return refused(error);
	struct mail_folder_status inbox;
	if (mail_store_status(store, "INBOX", &inbox, &error) < 0)
		return refused(error);
	char used[16], limit[16];
	human_size(bytes, used, sizeof(used));
	human_size(quota, limit, sizeof(limit));
	printf("maildir: %s\n", mail_store_root(store));
	printf("messages: %llu in all folders, %u in INBOX (%u unseen)\n",
	       (unsigned long long)messages, inbox.messages, inbox.unseen);
	printf("storage: %s used of %s\n", used, quota ? limit : "no quota");
	printf("INBOX: uidvalidity %u, uidnext %u, highestmodseq %llu\n",
	       inbox.uidvalidity, inbox.uidnext, (unsigned long long)inbox.highestmodseq);
	return 0;
}

static int each_folder(struct mail_store *store, bool purge)
{
	struct mail_folder *folders;
	size_t count;
	const char *error;
	if (mail_store_list(store, &folders, &count, &error) < 0)
		return refused(error);
	int result = 0;
	uint64_t total = 0;
	for (size_t i = 0; i < count; i++) {
		if (!folders[i].exists)
			continue;
		uint32_t n;
		int r = purge ? mail_store_purge(store, folders[i].name, &n, &error)
		              : mail_store_reindex(store, folders[i].name, &n, &error);
		if (r < 0) {
			fprintf(stderr, "petrel: %s: %s\n", folders[i].name, error);
			result = 1;
			continue;
		}
		printf("%-32s %u %s\n", folders[i].name, n,
		       purge ? "removed" : "messages");
		total += n;
	}
	mail_folder_list_free(folders, count);
	if (purge && mail_store_compact(store, &error) < 0)
		return refused(error);
	printf("%llu %s in %zu folders\n", (unsigned long long)total,
	       purge ? "messages removed" : "messages indexed", count);
	return result;
}

int cmd_mailbox(const struct cli_options *options, int argc, char **argv)
{
	if (cli_no_options("mailbox", argc, argv))
		return 2;
	if (argc != 3)
		return cli_usage_error("mailbox", "expected a subcommand and a user");
	const char *sub = argv[1];
	if (strcmp(sub, "list") != 0 && strcmp(sub, "status") != 0 &&
	    strcmp(sub, "reindex") != 0 && strcmp(sub, "purge") != 0)
		return cli_usage_error("mailbox", "unknown subcommand '%s'", sub);
	struct config *config;
	struct mail_store *store;
	uint64_t quota;
	int r = open_user(options, argv[2], &config, &store, &quota);
	if (r)
		return r;
	if (mail_store_was_rebuilt(store))
		fprintf(stderr,
		        "petrel: the index was corrupt: moved aside and rebuilt from "
		        "the files (clients resynchronise)\n");
	if (strcmp(sub, "list") == 0)
		r = list(store);
	else if (strcmp(sub, "status") == 0)
		r = status(store, quota);
	else
		r = each_folder(store, strcmp(sub, "purge") == 0);
	mail_store_close(&store);
	config_free(&config);
	return r;
}
