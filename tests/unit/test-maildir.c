/*
 * test-maildir.c — Maildir delivery: layout, unique names, content, and
 * concurrent first deliveries into a Maildir that does not exist yet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "mailbox/maildir.h"

#define THREADS    16
#define PER_THREAD 20

static char base[256];

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A message held in memory (as version 1 spool files are read). */
static struct message_source in_memory(const char *body, size_t len)
{
	struct message_source m = {.fd = -1, .body = body, .body_len = len};
	return m;
}

static void *deliver_many(void *arg)
{
	const char *dir = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		char name[256];
		const char *error;
		struct message_source m = in_memory("body\r\n", 6);
		if (maildir_deliver(dir, "host/with:odd", "X: 1\r\n", 6, &m, name,
		                    &error) < 0)
			return (void *)1;
	}
	return NULL;
}

static void test_concurrent_first_delivery(void **state)
{
	(void)state;
	struct buf dir = BUF_INIT;
	buf_appendf(&dir, "%s/mail/example.test/user", base);
	pthread_t threads[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&threads[i], NULL, deliver_many, dir.data);
	int failures = 0;
	for (int i = 0; i < THREADS; i++) {
		void *result;
		pthread_join(threads[i], &result);
		failures += result != NULL;
	}
	assert_int_equal(failures, 0);
	struct buf sub = BUF_INIT;
	buf_appendf(&sub, "%s/new", dir.data);
	assert_int_equal(count_entries(sub.data), THREADS * PER_THREAD);
	buf_reset(&sub);
	buf_appendf(&sub, "%s/tmp", dir.data);
	assert_int_equal(count_entries(sub.data), 0);
	buf_reset(&sub);
	buf_appendf(&sub, "%s/cur", dir.data);
	assert_int_equal(count_entries(sub.data), 0);
	buf_free(&sub);
	buf_free(&dir);
}

/* A Maildir cut short: tmp/ exists, new/ and cur/ do not. */
static void test_partial_maildir(void **state)
{
	(void)state;
	struct buf dir = BUF_INIT, sub = BUF_INIT;
	buf_appendf(&dir, "%s/partial", base);
	buf_appendf(&sub, "%s/tmp", dir.data);
	const char *error;
	assert_int_equal(fs_mkdir_p(sub.data, 0700, &error), 0);
	char name[256];
	struct message_source m = in_memory("x\r\n", 3);
	assert_int_equal(maildir_deliver(dir.data, "h", "", 0, &m, name, &error), 0);
	buf_reset(&sub);
	buf_appendf(&sub, "%s/new", dir.data);
	assert_int_equal(count_entries(sub.data), 1);
	buf_free(&dir);
	buf_free(&sub);
}

static void test_content_and_name(void **state)
{
	(void)state;
	struct buf dir = BUF_INIT, path = BUF_INIT;
	buf_appendf(&dir, "%s/single", base);
	char name[256];
	const char *error;
	struct message_source m = in_memory("text\r\n", 6);
	assert_int_equal(
	    maildir_deliver(dir.data, "mx/a:b", "H: v\r\n", 6, &m, name, &error), 0);
	/* '/' and ':' in the host name are escaped; the size is in the name. */
	assert_non_null(strstr(name, "mx\\057a\\072b,S=12,W=12"));
	buf_appendf(&path, "%s/new/%s", dir.data, name);
	char *data;
	size_t len;
	assert_int_equal(fs_read_file(path.data, &data, &len, &error), 0);
	assert_int_equal(len, 12);
	assert_memory_equal(data, "H: v\r\ntext\r\n", 12);
	free(data);
	buf_free(&dir);
	buf_free(&path);
}

/* From a spool file: the header section in memory, then a body range of
 * the file, larger than one piece of the copy. */
static void test_from_a_file(void **state)
{
	(void)state;
	struct buf dir = BUF_INIT, path = BUF_INIT, file = BUF_INIT;
	buf_appendf(&dir, "%s/streamed", base);
	buf_appendf(&file, "%s/spoolfile", base);
	int fd = open(file.data, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	static char body[300 * 1024 + 7];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)('a' + i % 26);
	assert_int_equal(write(fd, "JUNK", 4), 4); /* before the body: not delivered */
	assert_int_equal(write(fd, body, sizeof(body)), (ssize_t)sizeof(body));
	assert_int_equal(write(fd, "TRAILER", 7), 7); /* after it: neither */
	struct message_source m = {.header = "Received: x\r\n",
	                           .header_len = 13,
	                           .fd = fd,
	                           .body_offset = 4,
	                           .body_len = sizeof(body)};
	char name[256];
	const char *error;
	assert_int_equal(maildir_deliver(dir.data, "h", "R: 1\r\n", 6, &m, name, &error),
	                 0);
	close(fd);
	buf_appendf(&path, "%s/new/%s", dir.data, name);
	char *data;
	size_t len;
	assert_int_equal(fs_read_file(path.data, &data, &len, &error), 0);
	assert_int_equal(len, 6 + 13 + sizeof(body));
	assert_memory_equal(data, "R: 1\r\nReceived: x\r\n", 19);
	assert_memory_equal(data + 19, body, sizeof(body));
	free(data);
	/* A file shorter than its envelope says: an error, nothing delivered. */
	fd = open(file.data, O_RDWR);
	assert_int_equal(ftruncate(fd, 1000), 0);
	m.fd = fd;
	assert_int_equal(maildir_deliver(dir.data, "h", "", 0, &m, name, &error), -1);
	close(fd);
	buf_free(&dir);
	buf_free(&path);
	buf_free(&file);
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/petrel-test-maildir-XXXXXX");
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char command[300];
	snprintf(command, sizeof(command), "rm -rf '%s'", base);
	return system(command) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_concurrent_first_delivery),
	    cmocka_unit_test(test_partial_maildir),
	    cmocka_unit_test(test_content_and_name),
	    cmocka_unit_test(test_from_a_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
