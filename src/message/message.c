/*
 * message.c — the message of the end-of-data stage (see message.h).
 */
#include "message/message.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "proto/rfc5322.h"

void message_init(struct message *m, const struct envelope *env, const char *section,
                  size_t len, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	m->env = env;
	m->size = size;
	m->received =
	    (struct message_source){.header = section, .header_len = len, .fd = -1};
	size_t pos = 0, cap = 0;
	struct rfc5322_field f;
	while (rfc5322_next_field(section, len, &pos, &f) == 1) {
		xgrow((void **)&m->fields, &cap, m->field_count + 1, sizeof(*m->fields));
		struct message_field *field = &m->fields[m->field_count++];
		field->name = xstrndup(f.name, f.name_len);
		field->value = xstrndup(f.value, f.value_len);
		field->raw = xmalloc(f.raw_len + 1);
		memcpy(field->raw, f.raw, f.raw_len);
		field->raw_len = f.raw_len;
		field->deleted = false;
	}
}

static void field_clear(struct message_field *f)
{
	free(f->name);
	free(f->value);
	free(f->raw);
}

void message_clear(struct message *m)
{
	for (size_t i = 0; i < m->field_count; i++)
		field_clear(&m->fields[i]);
	for (size_t i = 0; i < m->added_count; i++)
		field_clear(&m->added[i]);
	free(m->fields);
	free(m->added);
	if (m->owns_fd)
		close(m->received.fd);
	memset(m, 0, sizeof(*m));
}

void message_set_body(struct message *m, int fd, uint64_t body_offset, uint64_t body_len)
{
	if (m->owns_fd)
		close(m->received.fd);
	m->owns_fd = fd >= 0;
	m->received.fd = fd;
	m->received.body_offset = body_offset;
	m->received.body_len = body_len;
}

const char *message_header(const struct message *m, const char *name)
{
	for (size_t i = m->added_count; i-- > 0;)
		if (strcasecmp(m->added[i].name, name) == 0)
			return m->added[i].value;
	for (size_t i = 0; i < m->field_count; i++)
		if (!m->fields[i].deleted && strcasecmp(m->fields[i].name, name) == 0)
			return m->fields[i].value;
	return NULL;
}

/* A value may fold (CRLF followed by a space or a tab) but never end a
 * line otherwise, and has no NUL: it cannot become a second field. */
static bool value_valid(const char *value)
{
	for (const char *p = value; *p; p++) {
		if (*p == '\r') {
			if (p[1] != '\n' || (p[2] != ' ' && p[2] != '\t'))
				return false;
			p++;
		} else if (*p == '\n') {
			return false;
		}
	}
	return true;
}

static int check(const char *name, const char *value, const char **error_r)
{
	if (!rfc5322_name_valid(name, strlen(name))) {
		*error_r = "bad header field name";
		return -1;
	}
	if (!value_valid(value)) {
		*error_r = "bad header field value (a line break that is not folding)";
		return -1;
	}
	return 0;
}

int message_add_header(struct message *m, const char *name, const char *value,
                       const char **error_r)
{
	if (check(name, value, error_r) < 0)
		return -1;
	m->added = xrealloc(m->added, (m->added_count + 1) * sizeof(*m->added));
	struct message_field *f = &m->added[m->added_count++];
	f->name = xstrdup(name);
	/* The usual "Name: value" shape. */
	struct buf v = BUF_INIT;
	buf_appendf(&v, " %s", value);
	f->value = v.data;
	f->raw = NULL;
	f->raw_len = 0;
	f->deleted = false;
	return 0;
}

int message_set_header(struct message *m, const char *name, const char *value,
                       const char **error_r)
{
	if (check(name, value, error_r) < 0)
		return -1;
	for (size_t i = 0; i < m->field_count; i++) {
		struct message_field *f = &m->fields[i];
		if (f->deleted || strcasecmp(f->name, name) != 0)
			continue;
		free(f->value);
		struct buf v = BUF_INIT;
		buf_appendf(&v, " %s", value);
		f->value = v.data;
		x_free(&f->raw);
		return 1;
	}
	return 0;
}

size_t message_delete_header(struct message *m, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < m->field_count; i++) {
		if (!m->fields[i].deleted && strcasecmp(m->fields[i].name, name) == 0) {
			m->fields[i].deleted = true;
			n++;
		}
	}
	return n;
}

static void write_field(const struct message_field *f, struct buf *out)
{
	if (f->raw) {
		buf_append(out, f->raw, f->raw_len); /* byte for byte */
		return;
	}
	buf_appendf(out, "%s:%s\r\n", f->name, f->value);
}

void message_write_header(const struct message *m, struct buf *out)
{
	for (size_t i = m->added_count; i-- > 0;)
		write_field(&m->added[i], out);
	for (size_t i = 0; i < m->field_count; i++)
		if (!m->fields[i].deleted)
			write_field(&m->fields[i], out);
}
