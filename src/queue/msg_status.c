/*
 * msg_status.c — the per-recipient journal (see msg_status.h).
 */
#include "queue/msg_status.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"

void msg_status_init(struct msg_status *status, size_t rcpt_count)
{
	memset(status, 0, sizeof(*status));
	status->rcpt_count = rcpt_count;
	status->rcpt = xcalloc(rcpt_count ? rcpt_count : 1, sizeof(*status->rcpt));
}

void msg_status_clear(struct msg_status *status)
{
	for (size_t i = 0; i < status->rcpt_count; i++) {
		free(status->rcpt[i].remote);
		free(status->rcpt[i].diagnostic);
	}
	free(status->rcpt);
	for (size_t i = 0; i < status->intent_count; i++)
		free(status->intents[i].rcpts);
	free(status->intents);
	memset(status, 0, sizeof(*status));
}

static unsigned kind_bit(enum dsn_kind kind)
{
	return kind == DSN_FAILURE ? 1u : kind == DSN_DELAY ? 2u : 4u;
}

bool msg_status_notified(const struct msg_status *status, size_t rcpt, enum dsn_kind kind)
{
	return rcpt < status->rcpt_count &&
	       (status->rcpt[rcpt].notified & kind_bit(kind)) != 0;
}

/* A cursor over one record line. */
struct cursor {
	const char *p, *end;
	bool bad;
};

static void expect_space(struct cursor *c)
{
	if (c->p < c->end && *c->p == ' ')
		c->p++;
	else
		c->bad = true;
}

static uint64_t get_number(struct cursor *c)
{
	uint64_t value = 0;
	int digits = 0;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && digits < 19) {
		value = value * 10 + (uint64_t)(*c->p++ - '0');
		digits++;
	}
	if (digits == 0)
		c->bad = true;
	return value;
}

/* A word up to the next space or the line end. */
static size_t get_word(struct cursor *c, const char **word_r)
{
	*word_r = c->p;
	while (c->p < c->end && *c->p != ' ')
		c->p++;
	if (c->p == *word_r)
		c->bad = true;
	return (size_t)(c->p - *word_r);
}

/* "<n>:<octets>" */
static char *get_string(struct cursor *c)
{
	uint64_t n = get_number(c);
	if (c->bad || c->p >= c->end || *c->p != ':' ||
	    n > (uint64_t)(c->end - c->p - 1)) {
		c->bad = true;
		return NULL;
	}
	c->p++;
	char *s = xstrndup(c->p, (size_t)n);
	c->p += n;
	return s;
}

static void apply_failure(struct msg_status *st, struct cursor *c, bool permanent)
{
	expect_space(c);
	uint64_t i = get_number(c);
	expect_space(c);
	const char *dsn;
	size_t dsn_len = get_word(c, &dsn);
	expect_space(c);
	char *remote = c->bad ? NULL : get_string(c);
	expect_space(c);
	char *diagnostic = c->bad ? NULL : get_string(c);
	if (c->bad || c->p != c->end || i >= st->rcpt_count || dsn_len >= 16) {
		free(remote);
		free(diagnostic);
		return;
	}
	struct rcpt_status *r = &st->rcpt[i];
	if (r->state != RCPT_PENDING) {
		free(remote);
		free(diagnostic);
		return; /* a final state is final */
	}
	memcpy(r->dsn, dsn, dsn_len);
	r->dsn[dsn_len] = '\0';
	free(r->remote);
	free(r->diagnostic);
	r->remote = remote[0] ? remote : (free(remote), NULL);
	r->diagnostic = diagnostic;
	if (permanent)
		r->state = RCPT_FAILED;
	else
		r->temp_failed = true;
}

static void apply_intent(struct msg_status *st, struct cursor *c)
{
	expect_space(c);
	if (c->p >= c->end)
		return;
	char kind = *c->p++;
	if (kind != DSN_FAILURE && kind != DSN_DELAY && kind != DSN_SUCCESS)
		return;
	expect_space(c);
	const char *id;
	size_t id_len = get_word(c, &id);
	expect_space(c);
	if (c->bad || !queue_id_valid(id, id_len))
		return;
	struct dsn_intent in = {.kind = (enum dsn_kind)kind};
	memcpy(in.id, id, id_len);
	size_t cap = 0;
	while (!c->bad) {
		uint64_t i = get_number(c);
		if (!c->bad && i < st->rcpt_count) {
			xgrow((void **)&in.rcpts, &cap, in.count + 1, sizeof(*in.rcpts));
			in.rcpts[in.count++] = (size_t)i;
		}
		if (c->p < c->end && *c->p == ',')
			c->p++;
		else
			break;
	}
	if (c->bad || c->p != c->end) {
		free(in.rcpts);
		return;
	}
	for (size_t k = 0; k < in.count; k++)
		st->rcpt[in.rcpts[k]].notified |= kind_bit(in.kind);
	st->intents =
	    xrealloc(st->intents, (st->intent_count + 1) * sizeof(*st->intents));
	st->intents[st->intent_count++] = in;
}

static void apply_line(struct msg_status *st, const char *line, size_t len)
{
	if (len < 1)
		return;
	struct cursor c = {line + 1, line + len, false};
	switch (line[0]) {
	case 'D': {
		expect_space(&c);
		uint64_t i = get_number(&c);
		if (!c.bad && c.p == c.end && i < st->rcpt_count)
			st->rcpt[i].state = RCPT_DELIVERED;
		break;
	}
	case 'F':
	case 'T':
		apply_failure(st, &c, line[0] == 'F');
		break;
	case 'R': {
		expect_space(&c);
		uint64_t attempts = get_number(&c);
		expect_space(&c);
		uint64_t next = get_number(&c);
		if (!c.bad && c.p == c.end) {
			st->attempts = (unsigned)attempts;
			st->next_attempt = (int64_t)next;
		}
		break;
	}
	case 'H':
		if (len == 3 && line[1] == ' ' && (line[2] == '0' || line[2] == '1'))
			st->held = line[2] == '1';
		break;
	case 'N':
		apply_intent(st, &c);
		break;
	case 'C': {
		expect_space(&c);
		const char *id;
		size_t id_len = get_word(&c, &id);
		for (size_t k = 0; !c.bad && k < st->intent_count; k++)
			if (strlen(st->intents[k].id) == id_len &&
			    memcmp(st->intents[k].id, id, id_len) == 0)
				st->intents[k].committed = true;
		break;
	}
	default:
		break; /* a record of a newer version */
	}
}

void msg_status_apply(struct msg_status *status, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	while (p < end) {
		/* put_string() keeps newlines out of strings: one per record. */
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break; /* torn last record */
		apply_line(status, p, (size_t)(nl - p));
		p = nl + 1;
	}
}

static void put_string(struct buf *out, const char *s)
{
	/* Newlines (and other controls) never reach the journal. */
	size_t len = s ? strlen(s) : 0;
	buf_appendf(out, "%zu:", len);
	for (size_t i = 0; i < len; i++)
		buf_append_char(out, (unsigned char)s[i] < 0x20 ? ' ' : s[i]);
}

void status_record_delivered(struct buf *out, size_t rcpt)
{
	buf_appendf(out, "D %zu\n", rcpt);
}

void status_record_failure(struct buf *out, size_t rcpt, bool permanent, const char *dsn,
                           const char *remote, const char *diagnostic)
{
	buf_appendf(out, "%c %zu %s ", permanent ? 'F' : 'T', rcpt,
	            dsn && dsn[0] ? dsn : (permanent ? "5.0.0" : "4.0.0"));
	put_string(out, remote);
	buf_append_char(out, ' ');
	put_string(out, diagnostic);
	buf_append_char(out, '\n');
}

void status_record_retry(struct buf *out, unsigned attempts, int64_t next_attempt)
{
	buf_appendf(out, "R %u %" PRId64 "\n", attempts, next_attempt);
}

void status_record_hold(struct buf *out, bool held)
{
	buf_appendf(out, "H %d\n", held ? 1 : 0);
}

void status_record_intent(struct buf *out, enum dsn_kind kind, const char *dsn_id,
                          const size_t *rcpts, size_t count)
{
	buf_appendf(out, "N %c %s ", (char)kind, dsn_id);
	for (size_t i = 0; i < count; i++)
		buf_appendf(out, "%s%zu", i ? "," : "", rcpts[i]);
	buf_append_char(out, '\n');
}

void status_record_commit(struct buf *out, const char *dsn_id)
{
	buf_appendf(out, "C %s\n", dsn_id);
}

int msg_status_load(struct msg_status *status, const char *path, const char **error_r)
{
	char *data;
	size_t len;
	if (fs_read_file(path, &data, &len, error_r) < 0)
		return errno == ENOENT ? 0 : -1;
	msg_status_apply(status, data, len);
	free(data);
	return 0;
}

int msg_status_append(struct msg_status *status, const char *path,
                      const struct buf *records, const char **error_r)
{
	if (records->len == 0)
		return 0;
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = error_errno(path);
		return -1;
	}
	/* A record torn by a crash must not swallow the next one. */
	char last = '\n';
	off_t size = lseek(fd, 0, SEEK_END);
	if (size > 0 && pread(fd, &last, 1, size - 1) != 1)
		last = '\n';
	int r = last == '\n' ? 0 : fs_write_all(fd, "\n", 1);
	/* One write: concurrent appenders (a DSN's delivery adding C to
	 * its parent) cannot interleave inside a record. */
	if (r == 0)
		r = fs_write_all(fd, records->data, records->len);
	if (r == 0)
		r = fdatasync(fd);
	if (r < 0)
		*error_r = error_errno(path);
	close(fd);
	if (r == 0)
		msg_status_apply(status, records->data, records->len);
	return r;
}
