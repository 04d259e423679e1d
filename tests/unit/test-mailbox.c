/*
 * test-mailbox.c — the Maildir++ store and its index (src/mailbox):
 * folders, UIDs, \Recent, flags in file names, expunges seen by other
 * views, APPEND, COPY/MOVE, the FETCH cache, quota, files with bare LFs,
 * Dovecot migration, a corrupt index, and two processes syncing at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "mailbox/mailbox.h"
#include "mailbox/mailbox_internal.h"
#include "mailbox/maildir.h"
#include "mailbox/message_file.h"
#include "mailbox/quota.h"
#include "mailbox/store.h"
#include "mailbox/store_cache.h"

static char base[200];
static int counter;

/* A fresh user root for each test. */
static char *new_root(void)
{
	static char root[300];
	snprintf(root, sizeof(root), "%s/user%d", base, ++counter);
	return root;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void deliver(const char *dir, const char *text)
{
	struct message_source m = {.fd = -1, .body = text, .body_len = strlen(text)};
	char name[256];
	const char *error;
	assert_int_equal(maildir_deliver(dir, "host", "", 0, &m, name, &error), 0);
}

/* STORE on one message, unconditionally, without callbacks. */
static void change_one(struct mailbox *mb, uint32_t seq, enum mailbox_flags_op op,
                       uint16_t flags, uint64_t keywords)
{
	struct mailbox_flags_change change = {
	    .op = op, .flags = flags, .keywords = keywords};
	const char *error;
	assert_int_equal(
	    mailbox_change_flags(mb, &seq, 1, &change, NULL, NULL, NULL, &error), 0);
}

static int count_entries(const char *dir, const char *sub)
{
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/%s", dir, sub);
	DIR *d = opendir(path.data);
	buf_free(&path);
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The one file in dir/sub (a test with one message). */
static void only_file(const char *dir, const char *sub, char *out, size_t size)
{
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/%s", dir, sub);
	DIR *d = opendir(path.data);
	assert_non_null(d);
	struct dirent *e;
	out[0] = '\0';
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			snprintf(out, size, "%s", e->d_name);
	closedir(d);
	buf_free(&path);
}

/* The names of the files in dir/sub (up to max), leaving out those
 * containing without (if given); returns how many. */
static int list_files(const char *dir, const char *sub, char (*names)[300], int max,
                      const char *without)
{
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/%s", dir, sub);
	DIR *d = opendir(path.data);
	assert_non_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) != NULL && n < max)
		if (e->d_name[0] != '.' &&
		    (without == NULL || !strstr(e->d_name, without)))
			snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
	closedir(d);
	buf_free(&path);
	return n;
}

static const char MESSAGE[] = "From: Alice <alice@example.org>\r\n"
                              "To: bob@example.org\r\n"
                              "Subject: hello\r\n"
                              "\r\n"
                              "body\r\n";

/* Collected notifications. */
struct seen {
	uint32_t expunged[16], flags[16];
	int expunges, flag_changes;
	uint32_t exists;
	int keyword_changes;
};

static void on_expunge(void *ctx, uint32_t seq, uint32_t uid)
{
	struct seen *s = ctx;
	(void)uid;
	s->expunged[s->expunges++] = seq;
}

static void on_flags(void *ctx, uint32_t seq, const struct mailbox_message *m)
{
	struct seen *s = ctx;
	(void)m;
	s->flags[s->flag_changes++] = seq;
}

static void on_exists(void *ctx, uint32_t count)
{
	((struct seen *)ctx)->exists = count;
}

static void on_keywords(void *ctx)
{
	((struct seen *)ctx)->keyword_changes++;
}

static const struct mailbox_notify notify = {.expunge = on_expunge,
                                             .flags = on_flags,
                                             .exists = on_exists,
                                             .keywords = on_keywords};

static void test_new_store(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	struct mail_folder *folders;
	size_t count;
	assert_int_equal(mail_store_list(store, &folders, &count, &error), 0);
	assert_int_equal(count, 6);
	assert_string_equal(folders[0].name, "INBOX");
	const char *expected[] = {"Archive", "Drafts", "Junk", "Sent", "Trash"};
	enum mail_special_use uses[] = {MAIL_SPECIAL_ARCHIVE, MAIL_SPECIAL_DRAFTS,
	                                MAIL_SPECIAL_JUNK, MAIL_SPECIAL_SENT,
	                                MAIL_SPECIAL_TRASH};
	for (int i = 0; i < 5; i++) {
		assert_string_equal(folders[i + 1].name, expected[i]);
		assert_int_equal(folders[i + 1].special_use, uses[i]);
		assert_true(folders[i + 1].subscribed);
		assert_true(folders[i + 1].exists);
	}
	mail_folder_list_free(folders, count);
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/.Sent/maildirfolder", root);
	assert_int_equal(access(path.data, F_OK), 0);
	buf_free(&path);
	mail_store_close(&store);
	/* Opening again changes nothing (a deleted standard folder stays so). */
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	assert_int_equal(mail_store_delete(store, "Junk", &error), 0);
	mail_store_close(&store);
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	assert_int_equal(mail_store_list(store, &folders, &count, &error), 0);
	size_t existing = 0;
	for (size_t i = 0; i < count; i++)
		existing += folders[i].exists;
	assert_int_equal(existing, 5);
	mail_folder_list_free(folders, count);
	mail_store_close(&store);
}

static void test_uids_and_recent(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	for (int i = 0; i < 3; i++)
		deliver(root, MESSAGE);
	struct mailbox *a, *b;
	assert_int_equal(mailbox_open(store, "inbox", false, &a, &error), 0);
	assert_string_equal(mailbox_name(a), "INBOX");
	assert_int_equal(mailbox_count(a), 3);
	for (uint32_t seq = 1; seq <= 3; seq++) {
		assert_int_equal(mailbox_get(a, seq)->uid, seq);
		assert_true(mailbox_is_recent(a, seq));
	}
	assert_int_equal(mailbox_recent_count(a), 3);
	assert_int_equal(mailbox_uidnext(a), 4);
	assert_true(mailbox_uidvalidity(a) > 0);
	/* Moved from new/ to cur/ on the way. */
	assert_int_equal(count_entries(root, "new"), 0);
	assert_int_equal(count_entries(root, "cur"), 3);
	/* Only one session gets \Recent. */
	assert_int_equal(mailbox_open(store, "INBOX", false, &b, &error), 0);
	assert_int_equal(mailbox_recent_count(b), 0);
	/* A delivery: both views learn of it; b takes \Recent. */
	deliver(root, MESSAGE);
	struct seen seen_b = {0}, seen_a = {0};
	assert_int_equal(mailbox_refresh(b, true, &notify, &seen_b, &error), 0);
	assert_int_equal(seen_b.exists, 4);
	assert_int_equal(mailbox_get(b, 4)->uid, 4);
	assert_true(mailbox_is_recent(b, 4));
	assert_int_equal(mailbox_refresh(a, true, &notify, &seen_a, &error), 0);
	assert_int_equal(seen_a.exists, 4);
	assert_false(mailbox_is_recent(a, 4));
	assert_int_equal(mailbox_seq_of_uid(a, 3, NULL), 3);
	uint32_t next;
	assert_int_equal(mailbox_seq_of_uid(a, 9, &next), 0);
	assert_int_equal(next, 5);
	mailbox_close(&a);
	mailbox_close(&b);
	/* A reopened store keeps the UIDs. */
	uint32_t validity;
	assert_int_equal(mailbox_open(store, "INBOX", true, &a, &error), 0);
	validity = mailbox_uidvalidity(a);
	mailbox_close(&a);
	mail_store_close(&store);
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	assert_int_equal(mailbox_open(store, "INBOX", true, &a, &error), 0);
	assert_int_equal(mailbox_uidvalidity(a), validity);
	assert_int_equal(mailbox_count(a), 4);
	assert_int_equal(mailbox_get(a, 4)->uid, 4);
	mailbox_close(&a);
	mail_store_close(&store);
}

/* Views that are up to date share one array; a view that changes or
 * holds back an expunge gets its own, and shares again once current. */
static void test_shared_views(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	for (int i = 0; i < 3; i++)
		deliver(root, MESSAGE);
	struct mailbox *a, *b, *c;
	assert_int_equal(mailbox_open(store, "INBOX", false, &a, &error), 0);
	assert_int_equal(mailbox_open(store, "INBOX", false, &b, &error), 0);
	assert_int_equal(mailbox_open(store, "INBOX", true, &c, &error), 0);
	assert_non_null(a->shared);
	assert_ptr_equal(a->shared, b->shared);
	assert_ptr_equal(b->shared, c->shared);
	/* a's \Recent is a's alone, though the array is shared */
	assert_true(mailbox_is_recent(a, 1));
	assert_false(mailbox_is_recent(b, 1));
	change_one(a, 2, MAILBOX_FLAGS_ADD, MAIL_DELETED, 0);
	assert_null(a->shared);
	assert_false(mailbox_get(b, 2)->flags & MAIL_DELETED); /* b not told yet */
	struct seen seen = {0};
	assert_int_equal(mailbox_refresh(b, true, &notify, &seen, &error), 0);
	assert_true(mailbox_get(b, 2)->flags & MAIL_DELETED);
	assert_int_equal(mailbox_refresh(a, true, &notify, &seen, &error), 0);
	assert_non_null(a->shared);
	assert_ptr_equal(a->shared, b->shared);
	/* c may not hear of the expunge yet: an array of its own */
	assert_int_equal(mailbox_expunge(a, NULL, 0, &notify, &seen, &error), 0);
	assert_int_equal(mailbox_refresh(c, false, &notify, &seen, &error), 0);
	assert_null(c->shared);
	assert_int_equal(mailbox_count(c), 3);
	assert_int_equal(mailbox_refresh(c, true, &notify, &seen, &error), 0);
	assert_int_equal(mailbox_count(c), 2);
	assert_int_equal(mailbox_refresh(a, true, &notify, &seen, &error), 0);
	assert_int_equal(mailbox_refresh(b, true, &notify, &seen, &error), 0);
	assert_non_null(c->shared);
	assert_ptr_equal(a->shared, c->shared);
	assert_ptr_equal(b->shared, c->shared);
	mailbox_close(&a);
	mailbox_close(&b);
	mailbox_close(&c);
	mail_store_close(&store);
}

/* No statement of the store's is left on a row between operations: its
 * read transaction would pin the connection to an old index. */
static void assert_no_open_reads(struct mail_store *store)
{
	sqlite3 *db = mail_store_db(store);
	for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st;
	     st = sqlite3_next_stmt(db, st))
		if (sqlite3_stmt_busy(st))
			fail_msg("left on a row: %s", sqlite3_sql(st));
	assert_true(sqlite3_get_autocommit(db));
}

/* A folder selected again (a client reconnecting) takes the snapshot the
 * last view left, unless anything changed since: another process's
 * flag change, a delivery. */
static void test_spare_snapshot(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store, *other;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	assert_int_equal(mail_store_open(root, &other, &error), 0);
	for (int i = 0; i < 3; i++)
		deliver(root, MESSAGE);
	struct mailbox *a;
	assert_int_equal(mailbox_open(store, "INBOX", false, &a, &error), 0);
	const struct mailbox_snapshot *left = a->shared;
	assert_non_null(left);
	mailbox_close(&a);
	assert_int_equal(mailbox_open(store, "INBOX", false, &a, &error), 0);
	assert_ptr_equal(a->shared, left);
	assert_int_equal(mailbox_count(a), 3);
	assert_int_equal(mailbox_recent_count(a), 0); /* the first view had it */
	mailbox_close(&a);
	/* Another process flags message 1: a fresh load sees it. */
	struct mailbox *o;
	assert_int_equal(mailbox_open(other, "INBOX", false, &o, &error), 0);
	change_one(o, 1, MAILBOX_FLAGS_ADD, MAIL_FLAGGED, 0);
	mailbox_close(&o);
	assert_no_open_reads(other);
	assert_no_open_reads(store);
	assert_int_equal(mailbox_open(store, "INBOX", false, &a, &error), 0);
	assert_true(mailbox_get(a, 1)->flags & MAIL_FLAGGED);
	mailbox_close(&a);
	/* A delivery: four messages. */
	deliver(root, MESSAGE);
	assert_int_equal(mailbox_open(store, "INBOX", false, &a, &error), 0);
	assert_int_equal(mailbox_count(a), 4);
	assert_int_equal(mailbox_recent_count(a), 1);
	mailbox_close(&a);
	mail_store_close(&other);
	mail_store_close(&store);
}

/* The store cache: a user's sessions share one store; it stays open a
 * while after the last one, and one whose index was replaced meanwhile
 * (a restored Maildir) is opened again. */
static void test_store_cache(void **state)
{
	(void)state;
	char home[300];
	snprintf(home, sizeof(home), "%s/home%d", base, ++counter);
	assert_int_equal(mkdir(home, 0700), 0);
	struct mail_store_cache *cache = mail_store_cache_new(home, "host", 1);
	const char *error;
	struct mail_store *a = mail_store_cache_get(cache, "u@example.org", &error);
	struct mail_store *b = mail_store_cache_get(cache, "u@example.org", &error);
	assert_non_null(a);
	assert_ptr_equal(a, b);
	struct mail_store *kept = a;
	mail_store_cache_put(cache, &a);
	mail_store_cache_put(cache, &b);
	assert_null(a);
	/* Still open: SQLite removes the WAL when its last connection closes. */
	struct buf wal = BUF_INIT;
	buf_appendf(&wal, "%s/petrel-index.db-wal", mail_store_root(kept));
	assert_int_equal(access(wal.data, F_OK), 0);
	a = mail_store_cache_get(cache, "u@example.org", &error);
	assert_ptr_equal(a, kept);
	assert_false(mail_store_replaced(a));
	mail_store_cache_put(cache, &a);
	/* The index removed (to be rebuilt from the files): a new store. */
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/petrel-index.db", mail_store_root(kept));
	assert_int_equal(unlink(path.data), 0);
	assert_true(mail_store_replaced(kept));
	a = mail_store_cache_get(cache, "u@example.org", &error);
	assert_non_null(a);
	assert_false(mail_store_replaced(a));
	assert_int_equal(access(path.data, F_OK), 0);
	mail_store_cache_put(cache, &a);
	assert_int_equal(access(wal.data, F_OK), 0);
	/* Unused for its linger (1 s here): closed. */
	usleep(1100000);
	mail_store_cache_expire(cache);
	assert_int_equal(access(wal.data, F_OK), -1);
	mail_store_cache_free(&cache);
	buf_free(&wal);
	buf_free(&path);
}

static void test_flags_and_expunge(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	deliver(root, MESSAGE);
	deliver(root, MESSAGE);
	struct mailbox *a, *b;
	assert_int_equal(mailbox_open(store, "INBOX", false, &a, &error), 0);
	assert_int_equal(mailbox_open(store, "INBOX", false, &b, &error), 0);
	uint64_t modseq = mailbox_highestmodseq(a);
	unsigned junk;
	assert_int_equal(mailbox_keyword(a, "$Junk", true, &junk, &error), 1);
	uint32_t seqs[] = {1};
	struct mailbox_flags_change change = {.op = MAILBOX_FLAGS_ADD,
	                                      .flags = MAIL_SEEN | MAIL_FLAGGED,
	                                      .keywords = 1ull << junk};
	assert_int_equal(
	    mailbox_change_flags(a, seqs, 1, &change, NULL, NULL, NULL, &error), 0);
	assert_int_equal(mailbox_get(a, 1)->flags & MAIL_FLAGS_STORED,
	                 MAIL_SEEN | MAIL_FLAGGED);
	assert_true(mailbox_get(a, 1)->modseq > modseq);
	/* The file name carries them: F, S and the keyword's letter. */
	char name[300];
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/cur", root);
	DIR *d = opendir(path.data);
	struct dirent *e;
	int flagged = 0;
	while ((e = readdir(d)) != NULL)
		flagged += strstr(e->d_name, ":2,FSa") != NULL;
	closedir(d);
	assert_int_equal(flagged, 1);
	buf_reset(&path);
	buf_appendf(&path, "%s/dovecot-keywords", root);
	char *text;
	size_t len;
	assert_int_equal(fs_read_file(path.data, &text, &len, &error), 0);
	assert_string_equal(text, "0 $Junk\n");
	free(text);
	/* b hears of it, and of the new keyword. */
	struct seen seen = {0};
	assert_int_equal(mailbox_refresh(b, true, &notify, &seen, &error), 0);
	assert_int_equal(seen.flag_changes, 1);
	assert_int_equal(seen.flags[0], 1);
	assert_int_equal(seen.keyword_changes, 1);
	assert_int_equal(mailbox_get(b, 1)->keywords, 1ull << junk);
	/* CONDSTORE: UNCHANGEDSINCE below the message's modseq refuses. */
	change = (struct mailbox_flags_change){
	    .op = MAILBOX_FLAGS_ADD, .flags = MAIL_DELETED, .unchanged_since = modseq};
	assert_int_equal(
	    mailbox_change_flags(b, seqs, 1, &change, NULL, on_exists, &seen, &error), 0);
	assert_int_equal(seen.exists, 1); /* refused(seq 1) */
	assert_false(mailbox_get(b, 1)->flags & MAIL_DELETED);
	change.unchanged_since = 0;
	uint32_t both[] = {1, 2};
	assert_int_equal(
	    mailbox_change_flags(b, both, 2, &change, NULL, NULL, NULL, &error), 0);
	/* a, while a FETCH runs, may not shrink: the expunge waits. */
	assert_int_equal(mailbox_expunge(b, NULL, 0, &notify, &seen, &error), 0);
	assert_int_equal(mailbox_count(b), 0);
	assert_int_equal(count_entries(root, "cur"), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(mailbox_refresh(a, false, &notify, &seen, &error), 0);
	assert_int_equal(seen.expunges, 0);
	assert_int_equal(mailbox_count(a), 2);
	assert_true(mailbox_get(a, 1)->expunged);
	assert_int_equal(mailbox_refresh(a, true, &notify, &seen, &error), 0);
	assert_int_equal(seen.expunges, 2);
	assert_int_equal(seen.expunged[0], 2); /* highest first */
	assert_int_equal(seen.expunged[1], 1);
	assert_int_equal(mailbox_count(a), 0);
	/* A read-only view changes nothing. */
	struct mailbox *ro;
	deliver(root, MESSAGE);
	assert_int_equal(mailbox_open(store, "INBOX", true, &ro, &error), 0);
	assert_int_equal(mailbox_recent_count(ro), 0);
	assert_int_equal(
	    mailbox_change_flags(ro, seqs, 1, &change, NULL, NULL, NULL, &error), -1);
	assert_int_equal(errno, EROFS);
	mailbox_close(&ro);
	(void)name;
	buf_free(&path);
	mailbox_close(&a);
	mailbox_close(&b);
	assert_no_open_reads(store);
	mail_store_close(&store);
}

/* Another program renames and deletes files: the files are the truth. */
/* UIDs follow delivery time, which Maildir names carry as "sec.M<usec>"
 * without leading zeros: M100000 came after M99999 though it sorts
 * before it as text. */
static void test_uids_in_delivery_order(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	const char *names[] = {"1700000000.M100000P7Q2.host",
	                       "1700000000.M99999P7Q1.host", "1699999999.M5P7Q9.host"};
	const char *expected[] = {"1699999999.M5P7Q9", "1700000000.M99999P7Q1",
	                          "1700000000.M100000P7Q2"};
	for (int i = 0; i < 3; i++) {
		struct buf path = BUF_INIT;
		buf_appendf(&path, "%s/new/%s", root, names[i]);
		write_file(path.data, MESSAGE);
		buf_free(&path);
	}
	struct mailbox *mb;
	assert_int_equal(mailbox_open(store, "INBOX", false, &mb, &error), 0);
	assert_int_equal(mailbox_count(mb), 3);
	uint32_t uids[3];
	for (uint32_t seq = 1; seq <= 3; seq++)
		uids[seq - 1] = mailbox_get(mb, seq)->uid;
	struct mailbox_cursor *c = mailbox_cursor_open(mb, uids, 3, MAILBOX_WANT_SIZE);
	struct mailbox_record rec;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mailbox_cursor_next(c, &rec, &error), 1);
		assert_int_equal(rec.uid, (uint32_t)i + 1);
		const char *file = strrchr(rec.path, '/') + 1;
		assert_int_equal(strncmp(file, expected[i], strlen(expected[i])), 0);
	}
	mailbox_cursor_close(&c);
	mailbox_close(&mb);
	mail_store_close(&store);
}

static void test_external_changes(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	deliver(root, MESSAGE);
	deliver(root, MESSAGE);
	struct mailbox *a;
	assert_int_equal(mailbox_open(store, "INBOX", false, &a, &error), 0);
	char name[300];
	struct buf cur = BUF_INIT, from = BUF_INIT, to = BUF_INIT;
	buf_appendf(&cur, "%s/cur", root);
	char names[2][300];
	assert_int_equal(list_files(root, "cur", names, 2, NULL), 2);
	/* Mark one seen (as mutt would), delete the other. */
	const char *seen_name = strcmp(names[0], names[1]) < 0 ? names[0] : names[1];
	const char *gone = seen_name == names[0] ? names[1] : names[0];
	buf_appendf(&from, "%s/%s", cur.data, seen_name);
	snprintf(name, sizeof(name), "%.*sS", (int)strlen(seen_name), seen_name);
	buf_appendf(&to, "%s/%s", cur.data, name);
	assert_int_equal(rename(from.data, to.data), 0);
	buf_reset(&from);
	buf_appendf(&from, "%s/%s", cur.data, gone);
	assert_int_equal(unlink(from.data), 0);
	struct seen seen = {0};
	assert_int_equal(mailbox_refresh(a, true, &notify, &seen, &error), 0);
	assert_int_equal(seen.expunges, 1);
	assert_int_equal(mailbox_count(a), 1);
	assert_int_equal(seen.flag_changes, 1);
	assert_true(mailbox_get(a, 1)->flags & MAIL_SEEN);
	mailbox_close(&a);
	buf_free(&cur);
	buf_free(&from);
	buf_free(&to);
	mail_store_close(&store);
}

/* A directory mtime as it is now. */
static struct timespec dir_mtime(const char *root, const char *sub)
{
	struct buf path = BUF_INIT;
	struct stat st;
	buf_appendf(&path, "%s/%s", root, sub);
	assert_int_equal(stat(path.data, &st), 0);
	buf_free(&path);
	return st.st_mtim;
}

/* Another program's change in the clock tick of this process's own
 * (simulated: the directory's mtime put back): a command's refresh may
 * miss it for a second after the last real scan, never longer, and an
 * inotify wake's rescan sees it at once. */
static void test_own_change_memo(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	for (int i = 0; i < 3; i++)
		deliver(root, MESSAGE);
	struct mailbox *a;
	assert_int_equal(mailbox_open(store, "INBOX", false, &a, &error), 0);
	assert_int_equal(mailbox_count(a), 3);
	change_one(a, 1, MAILBOX_FLAGS_ADD, MAIL_SEEN, 0);
	/* Another program deletes message 3 "in the same tick". */
	struct timespec times[2] = {{0, UTIME_OMIT}, dir_mtime(root, "cur")};
	char names[3][300];
	assert_int_equal(list_files(root, "cur", names, 3, NULL), 3);
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/cur", root);
	const char *last = names[0];
	for (int i = 1; i < 3; i++)
		if (strcmp(names[i], last) > 0)
			last = names[i];
	buf_appendf(&path, "/%s", last);
	assert_int_equal(unlink(path.data), 0);
	buf_reset(&path);
	buf_appendf(&path, "%s/cur", root);
	assert_int_equal(utimensat(AT_FDCWD, path.data, times, 0), 0);
	struct seen seen = {0};
	assert_int_equal(mailbox_refresh(a, true, &notify, &seen, &error), 0);
	assert_int_equal(seen.expunges, 0); /* not yet: the memo */
	assert_int_equal(mailbox_rescan(a, true, &notify, &seen, &error), 0);
	assert_int_equal(seen.expunges, 1);
	assert_int_equal(mailbox_count(a), 2);
	/* Again, and this process keeps changing the folder: its own changes
	 * do not stretch the memo past a second after its last scan. */
	times[1] = dir_mtime(root, "cur");
	assert_int_equal(list_files(root, "cur", names, 3, ":2,S"), 1);
	buf_appendf(&path, "/%s", names[0]);
	assert_int_equal(unlink(path.data), 0);
	buf_reset(&path);
	buf_appendf(&path, "%s/cur", root);
	assert_int_equal(utimensat(AT_FDCWD, path.data, times, 0), 0);
	memset(&seen, 0, sizeof(seen));
	for (int i = 0; i < 6; i++) {
		change_one(a, 1, i % 2 ? MAILBOX_FLAGS_REMOVE : MAILBOX_FLAGS_ADD,
		           MAIL_FLAGGED, 0);
		assert_int_equal(mailbox_refresh(a, true, &notify, &seen, &error), 0);
		if (seen.expunges)
			break;
		usleep(250000);
	}
	assert_int_equal(seen.expunges, 1);
	assert_int_equal(mailbox_count(a), 1);
	buf_free(&path);
	mailbox_close(&a);
	mail_store_close(&store);
}

static void test_append_and_cache(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	struct mail_append *ap;
	assert_int_equal(mail_append_begin(store, "Drafts", strlen(MESSAGE), &ap, &error),
	                 0);
	/* In two pieces, as literals arrive. */
	assert_int_equal(mail_append_write(ap, MESSAGE, 10, &error), 0);
	assert_int_equal(
	    mail_append_write(ap, MESSAGE + 10, strlen(MESSAGE) - 10, &error), 0);
	/* The octets synced first (as imapd does on a thread), then the rest. */
	assert_int_equal(mail_append_sync(ap), 0);
	const char *keywords[] = {"$Forwarded", "Work"};
	uint32_t uidvalidity, uid;
	assert_int_equal(mail_append_finish(&ap, MAIL_DRAFT | MAIL_SEEN, keywords, 2,
	                                    1700000000, &uidvalidity, &uid, &error),
	                 0);
	assert_null(ap);
	assert_int_equal(uid, 1);
	struct buf dir = BUF_INIT;
	buf_appendf(&dir, "%s/.Drafts", root);
	char name[300];
	only_file(dir.data, "cur", name, sizeof(name));
	assert_non_null(strstr(name, ":2,DSab"));
	assert_int_equal(count_entries(dir.data, "tmp"), 0);
	struct mailbox *mb;
	assert_int_equal(mailbox_open(store, "Drafts", false, &mb, &error), 0);
	assert_int_equal(mailbox_uidvalidity(mb), uidvalidity);
	assert_int_equal(mailbox_count(mb), 1);
	assert_int_equal(mailbox_get(mb, 1)->flags & MAIL_FLAGS_STORED,
	                 MAIL_DRAFT | MAIL_SEEN);
	assert_int_equal(mailbox_get(mb, 1)->keywords, 3);
	assert_string_equal(mailbox_keywords(mb)->names[1], "Work");
	uint32_t uids[] = {1};
	unsigned want = MAILBOX_WANT_SIZE | MAILBOX_WANT_DATE | MAILBOX_WANT_ENVELOPE |
	                MAILBOX_WANT_BODYSTRUCTURE;
	for (int pass = 0; pass < 2; pass++) {
		struct mailbox_cursor *c = mailbox_cursor_open(mb, uids, 1, want);
		struct mailbox_record rec;
		assert_int_equal(mailbox_cursor_next(c, &rec, &error), 1);
		assert_false(rec.expunged);
		assert_int_equal(rec.size, strlen(MESSAGE));
		assert_int_equal(rec.internaldate, 1700000000);
		assert_non_null(rec.envelope);
		assert_non_null(strstr(rec.envelope, "\"hello\""));
		assert_non_null(
		    strstr(rec.envelope, "((\"Alice\" NIL \"alice\" \"example.org\"))"));
		assert_non_null(rec.bodystructure);
		assert_true(strncmp(rec.bodystructure, "(\"text\" \"plain\"", 15) == 0);
		assert_int_equal(mailbox_cursor_next(c, &rec, &error), 0);
		mailbox_cursor_close(&c);
		if (pass == 0) {
			/* The second pass reads the cache: the file may go. */
			struct buf file = BUF_INIT;
			buf_appendf(&file, "%s/cur/%s", dir.data, name);
			assert_int_equal(chmod(file.data, 0), 0);
			buf_free(&file);
		}
	}
	/* Over quota: refused before a byte is written. */
	mail_store_set_quota(store, 100);
	assert_int_equal(mail_append_begin(store, "INBOX", 200, &ap, &error), -1);
	assert_int_equal(errno, EDQUOT);
	assert_int_equal(mail_append_begin(store, "Nowhere", 10, &ap, &error), -1);
	assert_int_equal(errno, ENOENT);
	mailbox_close(&mb);
	buf_free(&dir);
	assert_no_open_reads(store);
	mail_store_close(&store);
}

static void test_copy_and_move(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	for (int i = 0; i < 3; i++)
		deliver(root, MESSAGE);
	struct mailbox *inbox, *archive;
	assert_int_equal(mailbox_open(store, "INBOX", false, &inbox, &error), 0);
	unsigned work;
	assert_int_equal(mailbox_keyword(inbox, "Work", true, &work, &error), 1);
	change_one(inbox, 1, MAILBOX_FLAGS_ADD, MAIL_FLAGGED, 1ull << work);
	/* COPY 1:2 to Archive, which has a keyword numbered 0 already. */
	assert_int_equal(mailbox_open(store, "Archive", false, &archive, &error), 0);
	unsigned other;
	assert_int_equal(mailbox_keyword(archive, "Other", true, &other, &error), 1);
	assert_int_equal(other, 0);
	uint32_t seqs[] = {1, 2};
	struct mailbox_copy_result result;
	assert_int_equal(mailbox_copy(inbox, seqs, 2, "Archive", false, &result, &error),
	                 0);
	assert_int_equal(result.count, 2);
	assert_int_equal(result.source_uids[0], 1);
	assert_int_equal(result.dest_uids[0], 1);
	assert_int_equal(result.dest_uids[1], 2);
	assert_int_equal(result.uidvalidity, mailbox_uidvalidity(archive));
	mailbox_copy_result_clear(&result);
	assert_int_equal(mailbox_count(inbox), 3);
	struct seen seen = {0};
	assert_int_equal(mailbox_refresh(archive, true, &notify, &seen, &error), 0);
	assert_int_equal(mailbox_count(archive), 2);
	assert_true(mailbox_get(archive, 1)->flags & MAIL_FLAGGED);
	assert_string_equal(mailbox_keywords(archive)->names[1], "Work");
	assert_int_equal(mailbox_get(archive, 1)->keywords, 1ull << 1);
	/* MOVE 3 to Trash: gone from INBOX, once announced. */
	uint32_t third[] = {3};
	assert_int_equal(mailbox_copy(inbox, third, 1, "Trash", true, &result, &error),
	                 0);
	assert_int_equal(result.count, 1);
	assert_int_equal(result.dest_uids[0], 1);
	mailbox_copy_result_clear(&result);
	assert_true(mailbox_get(inbox, 3)->expunged);
	memset(&seen, 0, sizeof(seen));
	mailbox_announce_expunged(inbox, &notify, &seen);
	assert_int_equal(seen.expunges, 1);
	assert_int_equal(mailbox_count(inbox), 2);
	struct buf trash = BUF_INIT;
	buf_appendf(&trash, "%s/.Trash", root);
	assert_int_equal(count_entries(trash.data, "cur"), 1);
	assert_int_equal(count_entries(root, "cur"), 2);
	/* MOVE within the folder: a new UID, the old one expunged. */
	uint32_t first[] = {1};
	assert_int_equal(mailbox_copy(inbox, first, 1, "INBOX", true, &result, &error),
	                 0);
	assert_int_equal(result.dest_uids[0], 4);
	mailbox_copy_result_clear(&result);
	mailbox_announce_expunged(inbox, &notify, &seen);
	assert_int_equal(count_entries(root, "cur"), 2);
	assert_int_equal(mailbox_refresh(inbox, true, &notify, &seen, &error), 0);
	assert_int_equal(mailbox_count(inbox), 2);
	assert_int_equal(mailbox_get(inbox, 2)->uid, 4);
	assert_true(mailbox_get(inbox, 2)->flags & MAIL_FLAGGED);
	/* No such folder: TRYCREATE. */
	assert_int_equal(mailbox_copy(inbox, first, 1, "Nowhere", false, &result, &error),
	                 -1);
	assert_int_equal(errno, ENOENT);
	buf_free(&trash);
	mailbox_close(&inbox);
	mailbox_close(&archive);
	assert_no_open_reads(store);
	mail_store_close(&store);
}

static void test_folders(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	assert_int_equal(
	    mail_store_create(store, "Work.2026.Q4", MAIL_SPECIAL_NONE, &error), 0);
	assert_int_equal(mail_store_create(store, "Work", MAIL_SPECIAL_NONE, &error), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(
	    mail_store_create(store, "Überweisungen", MAIL_SPECIAL_NONE, &error), 0);
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/.&ANw-berweisungen", root);
	assert_int_equal(access(path.data, F_OK), 0);
	const char *bad[] = {"..",    "a..b", "tmp", "a.new", "/etc",
	                     "~root", "a/b",  "a%",  "",      ".hidden"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(
		    mail_store_create(store, bad[i], MAIL_SPECIAL_NONE, &error), -1);
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(mail_store_delete(store, "INBOX", &error), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(mail_store_delete(store, "Nothing", &error), -1);
	struct mail_folder *folders;
	size_t count;
	assert_int_equal(mail_store_list(store, &folders, &count, &error), 0);
	bool work_children = false, q4 = false;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(folders[i].name, "Work") == 0)
			work_children = folders[i].has_children && folders[i].exists;
		q4 |= strcmp(folders[i].name, "Work.2026.Q4") == 0 &&
		      !folders[i].has_children;
	}
	assert_true(work_children);
	assert_true(q4);
	mail_folder_list_free(folders, count);
	/* RENAME moves what is below; UIDVALIDITY stays. */
	struct mailbox *mb;
	assert_int_equal(mailbox_open(store, "Work.2026", false, &mb, &error), 0);
	uint32_t validity = mailbox_uidvalidity(mb);
	mailbox_close(&mb);
	assert_int_equal(mail_store_rename(store, "Work", "Jobs.Old", &error), 0);
	assert_int_equal(mailbox_open(store, "Jobs.Old.2026", false, &mb, &error), 0);
	assert_int_equal(mailbox_uidvalidity(mb), validity);
	mailbox_close(&mb);
	assert_int_equal(mailbox_open(store, "Jobs.Old.2026.Q4", false, &mb, &error), 0);
	mailbox_close(&mb);
	assert_int_equal(mailbox_open(store, "Work.2026", false, &mb, &error), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(mail_store_rename(store, "Jobs", "Jobs.Below", &error), -1);
	assert_int_equal(mail_store_rename(store, "Jobs", "Sent", &error), -1);
	assert_int_equal(errno, EEXIST);
	/* RENAME INBOX: its messages move, INBOX stays (empty). */
	deliver(root, MESSAGE);
	assert_int_equal(mail_store_rename(store, "INBOX", "Old-Inbox", &error), 0);
	assert_int_equal(mailbox_open(store, "Old-Inbox", false, &mb, &error), 0);
	assert_int_equal(mailbox_count(mb), 1);
	mailbox_close(&mb);
	assert_int_equal(mailbox_open(store, "INBOX", false, &mb, &error), 0);
	assert_int_equal(mailbox_count(mb), 0);
	mailbox_close(&mb);
	/* DELETE, then CREATE again: a new UIDVALIDITY. */
	assert_int_equal(mailbox_open(store, "Old-Inbox", false, &mb, &error), 0);
	validity = mailbox_uidvalidity(mb);
	mailbox_close(&mb);
	assert_int_equal(mail_store_delete(store, "Old-Inbox", &error), 0);
	assert_int_equal(mail_store_create(store, "Old-Inbox", MAIL_SPECIAL_NONE, &error),
	                 0);
	assert_int_equal(mailbox_open(store, "Old-Inbox", false, &mb, &error), 0);
	assert_true(mailbox_uidvalidity(mb) > validity);
	assert_int_equal(mailbox_count(mb), 0);
	mailbox_close(&mb);
	/* Subscriptions survive a rename. */
	assert_int_equal(mail_store_subscribe(store, "Jobs.Old", true, &error), 0);
	assert_int_equal(mail_store_rename(store, "Jobs.Old", "Jobs.Older", &error), 0);
	assert_int_equal(mail_store_list(store, &folders, &count, &error), 0);
	bool subscribed = false;
	for (size_t i = 0; i < count; i++)
		subscribed |=
		    strcmp(folders[i].name, "Jobs.Older") == 0 && folders[i].subscribed;
	assert_true(subscribed);
	mail_folder_list_free(folders, count);
	buf_free(&path);
	assert_no_open_reads(store);
	mail_store_close(&store);
}

static void test_quota(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	deliver(root, MESSAGE);
	deliver(root, MESSAGE);
	uint64_t bytes, count;
	assert_int_equal(mail_quota_usage(root, 1000, &bytes, &count, &error), 0);
	assert_int_equal(bytes, 2 * strlen(MESSAGE));
	assert_int_equal(count, 2);
	/* Changes are appended; the sum is the usage. */
	mail_quota_add(root, 100, 1);
	assert_int_equal(mail_quota_usage(root, 1000, &bytes, &count, &error), 0);
	assert_int_equal(bytes, 2 * strlen(MESSAGE) + 100);
	assert_int_equal(mail_quota_check(root, 1000, 900, &error), 1);
	assert_int_equal(mail_quota_check(root, 1000, 10, &error), 0);
	assert_int_equal(mail_quota_check(root, 0, 1u << 30, &error), 0);
	/* An expunge gives the space back. */
	struct mailbox *mb;
	assert_int_equal(mailbox_open(store, "INBOX", false, &mb, &error), 0);
	change_one(mb, 1, MAILBOX_FLAGS_ADD, MAIL_DELETED, 0);
	assert_int_equal(mailbox_expunge(mb, NULL, 0, NULL, NULL, &error), 0);
	assert_int_equal(mail_quota_usage(root, 1000, &bytes, &count, &error), 0);
	assert_int_equal(bytes, strlen(MESSAGE) + 100);
	/* Another limit: counted again from the files. */
	assert_int_equal(mail_quota_usage(root, 2000, &bytes, &count, &error), 0);
	assert_int_equal(bytes, strlen(MESSAGE));
	assert_int_equal(count, 1);
	mailbox_close(&mb);
	assert_no_open_reads(store);
	mail_store_close(&store);
}

/* A file written with bare LFs (Dovecot, procmail) reads as CRLF. */
static void test_bare_lf_file(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/cur/1700000000.M1P1.host:2,S", root);
	write_file(path.data, "Subject: lf\n\nline one\nline two\r\n");
	struct message_file f;
	assert_int_equal(message_file_open(&f, path.data, 0, &error), 0);
	assert_int_equal(f.size, 35);
	assert_true(f.converted);
	char out[64];
	assert_int_equal(message_file_read(&f, 0, out, sizeof(out)), 35);
	assert_memory_equal(out, "Subject: lf\r\n\r\nline one\r\nline two\r\n", 35);
	/* Partial reads anywhere, backwards too, and between a CR given
	 * for a bare LF and the LF itself. */
	assert_int_equal(message_file_read(&f, 23, out, 2), 2);
	assert_memory_equal(out, "\r\n", 2);
	assert_int_equal(message_file_read(&f, 11, out, 1), 1);
	assert_memory_equal(out, "\r", 1);
	assert_int_equal(message_file_read(&f, 12, out, 3), 3);
	assert_memory_equal(out, "\n\r\n", 3);
	message_file_close(&f);
	struct mailbox *mb;
	assert_int_equal(mailbox_open(store, "INBOX", false, &mb, &error), 0);
	assert_int_equal(mailbox_count(mb), 1);
	assert_true(mailbox_get(mb, 1)->flags & MAIL_SEEN);
	uint32_t uids[] = {1};
	struct mailbox_cursor *c = mailbox_cursor_open(
	    mb, uids, 1, MAILBOX_WANT_SIZE | MAILBOX_WANT_BODYSTRUCTURE);
	struct mailbox_record rec;
	assert_int_equal(mailbox_cursor_next(c, &rec, &error), 1);
	assert_int_equal(rec.size, 35);
	/* text/plain, 20 octets and 2 lines of body, counted with CRLF */
	assert_non_null(strstr(rec.bodystructure, " 20 2 "));
	mailbox_cursor_close(&c);
	mailbox_close(&mb);
	buf_free(&path);
	mail_store_close(&store);
}

/* A Maildir Dovecot wrote: its UIDs, UIDVALIDITY and keywords stay. */
static void test_dovecot_migration(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	const char *subdirs[] = {"cur", "new", "tmp"};
	for (int i = 0; i < 3; i++) {
		struct buf p = BUF_INIT;
		buf_appendf(&p, "%s/%s", root, subdirs[i]);
		assert_int_equal(fs_mkdir_p(p.data, 0700, &error), 0);
		buf_free(&p);
	}
	struct buf p = BUF_INIT;
	buf_appendf(&p, "%s/cur/1276528487.M364837P9451.host,S=20,W=21:2,Sb", root);
	write_file(p.data, "Subject: a\n\nbody\n");
	buf_reset(&p);
	buf_appendf(&p, "%s/cur/1276528488.M1P9451.host,S=20:2,", root);
	write_file(p.data, "Subject: b\n\nbody\n");
	buf_reset(&p);
	buf_appendf(&p, "%s/new/1276528499.M2P9451.host", root);
	write_file(p.data, "Subject: c\n\nbody\n");
	buf_reset(&p);
	buf_appendf(&p, "%s/dovecot-uidlist", root);
	write_file(p.data, "3 V1276528483 N45 G0f6b3a2f\n"
	                   "17 W21 :1276528487.M364837P9451.host,S=20,W=21\n"
	                   "44 :1276528488.M1P9451.host,S=20\n");
	buf_reset(&p);
	buf_appendf(&p, "%s/dovecot-keywords", root);
	write_file(p.data, "0 $Junk\n1 NonJunk\n");
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	struct mailbox *mb;
	assert_int_equal(mailbox_open(store, "INBOX", false, &mb, &error), 0);
	assert_int_equal(mailbox_uidvalidity(mb), 1276528483);
	assert_int_equal(mailbox_count(mb), 3);
	assert_int_equal(mailbox_get(mb, 1)->uid, 17);
	assert_int_equal(mailbox_get(mb, 2)->uid, 44);
	assert_int_equal(mailbox_get(mb, 3)->uid, 45); /* new: the next one */
	assert_int_equal(mailbox_uidnext(mb), 46);
	assert_true(mailbox_get(mb, 1)->flags & MAIL_SEEN);
	assert_int_equal(mailbox_get(mb, 1)->keywords, 1ull << 1);
	assert_string_equal(mailbox_keywords(mb)->names[1], "NonJunk");
	mailbox_close(&mb);
	/* Used up: renamed, so a lost index cannot hand its UIDs out again. */
	buf_reset(&p);
	buf_appendf(&p, "%s/dovecot-uidlist.petrel-migrated", root);
	assert_int_equal(access(p.data, F_OK), 0);
	buf_free(&p);
	mail_store_close(&store);
}

/* A corrupt index is moved aside and rebuilt from the files. */
static void test_corrupt_index(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	deliver(root, MESSAGE);
	struct mailbox *mb;
	assert_int_equal(mailbox_open(store, "INBOX", false, &mb, &error), 0);
	uint32_t validity = mailbox_uidvalidity(mb);
	mailbox_close(&mb);
	mail_store_close(&store);
	struct buf p = BUF_INIT;
	buf_appendf(&p, "%s/" MAIL_STORE_INDEX, root);
	write_file(p.data, "this is not an SQLite database, not at all............."
	                   "...............................................");
	buf_reset(&p);
	buf_appendf(&p, "%s/" MAIL_STORE_INDEX "-wal", root);
	unlink(p.data);
	if (mail_store_open(root, &store, &error) < 0)
		fail_msg("%s", error);
	assert_int_equal(mailbox_open(store, "INBOX", false, &mb, &error), 0);
	assert_int_equal(mailbox_count(mb), 1);
	assert_true(mailbox_uidvalidity(mb) != validity);
	mailbox_close(&mb);
	/* Sent keeps its special use (by name). */
	struct mail_folder *folders;
	size_t count;
	assert_int_equal(mail_store_list(store, &folders, &count, &error), 0);
	bool sent = false;
	for (size_t i = 0; i < count; i++)
		sent |= strcmp(folders[i].name, "Sent") == 0 &&
		        folders[i].special_use == MAIL_SPECIAL_SENT;
	assert_true(sent);
	mail_folder_list_free(folders, count);
	buf_reset(&p);
	buf_appendf(&p, "%s/" MAIL_STORE_INDEX ".corrupt", root);
	assert_int_equal(access(p.data, F_OK), 0);
	buf_free(&p);
	mail_store_close(&store);
}

/* An index of version 1 (no header cache) is brought up to date. */
static void test_index_upgrade(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	assert_int_equal(
	    mail_store_exec(store,
	                    "ALTER TABLE cache DROP COLUMN headers;"
	                    "UPDATE meta SET value = '1' WHERE key = 'version';",
	                    &error),
	    0);
	mail_store_close(&store);
	deliver(root, MESSAGE);
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	struct mailbox *mb;
	assert_int_equal(mailbox_open(store, "INBOX", false, &mb, &error), 0);
	uint32_t uids[] = {1};
	struct mailbox_cursor *c = mailbox_cursor_open(mb, uids, 1, MAILBOX_WANT_HEADERS);
	struct mailbox_record rec;
	assert_int_equal(mailbox_cursor_next(c, &rec, &error), 1);
	assert_non_null(strstr(rec.headers, "Subject: hello\r\n"));
	assert_null(strstr(rec.headers, "body"));
	mailbox_cursor_close(&c);
	mailbox_close(&mb);
	mail_store_close(&store);
}

/* Two processes find the same 300 new files at once: every file gets
 * exactly one UID, and no UID goes to two files. */
static void test_concurrent_sync(void **state)
{
	(void)state;
	const char *root = new_root(), *error;
	struct mail_store *store;
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	mail_store_close(&store);
	for (int i = 0; i < 300; i++)
		deliver(root, MESSAGE);
	pid_t pids[2];
	for (int k = 0; k < 2; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			struct mail_store *s;
			struct mailbox *mb;
			int ok = mail_store_open(root, &s, &error) == 0 &&
			         mailbox_open(s, "INBOX", false, &mb, &error) == 0 &&
			         mailbox_count(mb) == 300;
			_exit(ok ? 0 : 1);
		}
	}
	for (int k = 0; k < 2; k++) {
		int status;
		assert_int_equal(waitpid(pids[k], &status, 0), pids[k]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(mail_store_open(root, &store, &error), 0);
	struct mailbox *mb;
	assert_int_equal(mailbox_open(store, "INBOX", false, &mb, &error), 0);
	assert_int_equal(mailbox_count(mb), 300);
	assert_int_equal(mailbox_get(mb, 300)->uid, 300);
	assert_int_equal(mailbox_uidnext(mb), 301);
	assert_int_equal(count_entries(root, "cur"), 300);
	mailbox_close(&mb);
	mail_store_close(&store);
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/petrel-test-mailbox-XXXXXX");
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char command[600];
	snprintf(command, sizeof(command), "chmod -R u+rwx '%s'; rm -rf '%s'", base,
	         base);
	return system(command) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_store),
	    cmocka_unit_test(test_uids_and_recent),
	    cmocka_unit_test(test_shared_views),
	    cmocka_unit_test(test_spare_snapshot),
	    cmocka_unit_test(test_store_cache),
	    cmocka_unit_test(test_flags_and_expunge),
	    cmocka_unit_test(test_external_changes),
	    cmocka_unit_test(test_own_change_memo),
	    cmocka_unit_test(test_append_and_cache),
	    cmocka_unit_test(test_copy_and_move),
	    cmocka_unit_test(test_folders),
	    cmocka_unit_test(test_quota),
	    cmocka_unit_test(test_bare_lf_file),
	    cmocka_unit_test(test_dovecot_migration),
	    cmocka_unit_test(test_uids_in_delivery_order),
	    cmocka_unit_test(test_corrupt_index),
	    cmocka_unit_test(test_index_upgrade),
	    cmocka_unit_test(test_concurrent_sync),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
