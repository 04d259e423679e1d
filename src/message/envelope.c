/*
 * envelope.c — spool file format (see envelope.h).
 */
#include "message/envelope.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define SPOOL_MAGIC_V1   "PETREL-SPOOL 1\n"
#define SPOOL_MAGIC_V2   "PETREL-SPOOL 2\n"
#define SPOOL_FOOTER_TAG "PETREL-END "

struct envelope_rcpt *envelope_add_rcpt(struct envelope *env, const char *address)
{
	env->rcpts = xrealloc(env->rcpts, (env->rcpt_count + 1) * sizeof(*env->rcpts));
	struct envelope_rcpt *r = &env->rcpts[env->rcpt_count++];
	memset(r, 0, sizeof(*r));
	r->address = xstrdup(address);
	return r;
}

void envelope_clear(struct envelope *env)
{
	free(env->sender);
	free(env->helo);
	free(env->client);
	free(env->tls);
	free(env->body);
	free(env->envid);
	free(env->ret);
	free(env->parent);
	free(env->auth_user);
	free(env->cert_subject);
	free(env->cert_issuer);
	free(env->cert_sha256);
	free(env->cert_san);
	free(env->cert_not_after);
	for (size_t i = 0; i < env->rcpt_count; i++) {
		free(env->rcpts[i].address);
		free(env->rcpts[i].orcpt);
		free(env->rcpts[i].original);
	}
	free(env->rcpts);
	memset(env, 0, sizeof(*env));
}

static void put_record(struct buf *out, char tag, const char *value, size_t len)
{
	buf_appendf(out, "%c %zu:", tag, len);
	buf_append(out, value, len);
	buf_append_char(out, '\n');
}

static void put_string(struct buf *out, char tag, const char *value)
{
	if (value)
		put_record(out, tag, value, strlen(value));
}

static void put_records(const struct envelope *env, struct buf *out)
{
	char number[32];
	put_string(out, 'I', env->id);
	snprintf(number, sizeof(number), "%" PRId64, env->arrival);
	put_string(out, 'T', number);
	put_string(out, 'S', env->sender ? env->sender : "");
	put_string(out, 'H', env->helo);
	put_string(out, 'C', env->client);
	put_string(out, 'L', env->tls);
	put_string(out, 'B', env->body);
	if (env->smtputf8)
		put_string(out, 'U', "1");
	put_string(out, 'E', env->envid);
	put_string(out, 'X', env->ret);
	put_string(out, 'P', env->parent);
	put_string(out, 'A', env->auth_user);
	put_string(out, 'K', env->cert_subject);
	put_string(out, 'J', env->cert_issuer);
	put_string(out, 'F', env->cert_sha256);
	put_string(out, 'Z', env->cert_san);
	put_string(out, 'V', env->cert_not_after);
	for (size_t i = 0; i < env->rcpt_count; i++) {
		put_string(out, 'R', env->rcpts[i].address);
		if (env->rcpts[i].notify) {
			snprintf(number, sizeof(number), "%u", env->rcpts[i].notify);
			put_string(out, 'N', number);
		}
		put_string(out, 'O', env->rcpts[i].orcpt);
		put_string(out, 'Q', env->rcpts[i].original);
	}
}

void envelope_spool_begin(struct buf *out)
{
	buf_append_str(out, SPOOL_MAGIC_V2);
}

void envelope_spool_end(const struct envelope *env, const char *header, size_t header_len,
                        uint64_t body_offset, uint64_t content_len, struct buf *out)
{
	char number[32];
	put_records(env, out);
	put_record(out, 'W', header, header_len);
	snprintf(number, sizeof(number), "%" PRIu64, body_offset);
	put_string(out, 'G', number);
	buf_appendf(out, "%s%020" PRIu64 "\n", SPOOL_FOOTER_TAG,
	            (uint64_t)SPOOL_MAGIC_LEN + content_len);
}

/* Reads "<tag> <len>:" at data[*pos]; returns 0 with the value span. */
static int get_record(const char *data, size_t len, size_t *pos, char *tag_r,
                      const char **value_r, size_t *value_len_r)
{
	size_t p = *pos;
	if (len - p < 4 || data[p + 1] != ' ')
		return -1;
	*tag_r = data[p];
	p += 2;
	size_t value_len = 0, digits = 0;
	while (p < len && data[p] >= '0' && data[p] <= '9') {
		if (++digits > 15)
			return -1;
		value_len = value_len * 10 + (size_t)(data[p++] - '0');
	}
	if (digits == 0 || p >= len || data[p] != ':')
		return -1;
	p++;
	*value_r = data + p;
	*value_len_r = value_len;
	if (*tag_r == 'M') {
		/* The message: "M <len>:\n" then exactly len octets. */
		if (p >= len || data[p] != '\n' || len - p - 1 != value_len)
			return -1;
		*value_r = data + p + 1;
		*pos = len;
		return 0;
	}
	if (value_len > len - p || len - p - value_len < 1 || data[p + value_len] != '\n')
		return -1;
	*pos = p + value_len + 1;
	return 0;
}

/* Where a v2 file's message is, from its W and G records. */
struct layout_records {
	const char *header;
	size_t header_len;
	bool have_offset;
	uint64_t body_offset;
};

/*
 * Parses records from data[pos..len) into env. v1: up to and including
 * the M record, whose value is returned in *message_r; v2: every record
 * to the end, W and G into *layout.
 */
static int parse_records(const char *data, size_t len, size_t pos, bool v1,
                         struct envelope *env, struct layout_records *layout,
                         const char **message_r, size_t *message_len_r,
                         const char **error_r)
{
	while (pos < len) {
		char tag;
		const char *value;
		size_t value_len;
		if (get_record(data, len, &pos, &tag, &value, &value_len) < 0 ||
		    (tag == 'M' && !v1)) {
			*error_r = "truncated or malformed spool record";
			return -1;
		}
		char **field = NULL;
		switch (tag) {
		case 'M':
			*message_r = value;
			*message_len_r = value_len;
			return 0;
		case 'W':
			layout->header = value;
			layout->header_len = value_len;
			continue;
		case 'G': {
			uint64_t offset = 0;
			for (size_t k = 0; k < value_len; k++) {
				if (value[k] < '0' || value[k] > '9' || k >= 18) {
					*error_r = "bad body offset";
					return -1;
				}
				offset = offset * 10 + (uint64_t)(value[k] - '0');
			}
			if (value_len == 0) {
				*error_r = "bad body offset";
				return -1;
			}
			layout->body_offset = offset;
			layout->have_offset = true;
			continue;
		}
		case 'I':
			if (!queue_id_valid(value, value_len)) {
				*error_r = "bad queue id in spool file";
				return -1;
			}
			memcpy(env->id, value, value_len);
			env->id[value_len] = '\0';
			continue;
		case 'T': {
			char number[24];
			if (value_len == 0 || value_len >= sizeof(number)) {
				*error_r = "bad arrival time";
				return -1;
			}
			memcpy(number, value, value_len);
			number[value_len] = '\0';
			env->arrival = strtoll(number, NULL, 10);
			continue;
		}
		case 'R': {
			char *address = xstrndup(value, value_len);
			envelope_add_rcpt(env, address);
			free(address);
			continue;
		}
		case 'N':
			if (env->rcpt_count == 0 || value_len == 0 || value_len > 2) {
				*error_r = "misplaced or bad NOTIFY record";
				return -1;
			}
			unsigned notify = 0;
			for (size_t k = 0; k < value_len; k++) {
				if (value[k] < '0' || value[k] > '9') {
					*error_r = "bad NOTIFY record";
					return -1;
				}
				notify = notify * 10 + (unsigned)(value[k] - '0');
			}
			env->rcpts[env->rcpt_count - 1].notify = notify & 15;
			continue;
		case 'O':
			if (env->rcpt_count == 0) {
				*error_r = "misplaced ORCPT record";
				return -1;
			}
			field = &env->rcpts[env->rcpt_count - 1].orcpt;
			break;
		case 'Q':
			if (env->rcpt_count == 0) {
				*error_r = "misplaced original recipient record";
				return -1;
			}
			field = &env->rcpts[env->rcpt_count - 1].original;
			break;
		case 'E':
			field = &env->envid;
			break;
		case 'X':
			field = &env->ret;
			break;
		case 'P':
			field = &env->parent;
			break;
		case 'A':
			field = &env->auth_user;
			break;
		case 'K':
			field = &env->cert_subject;
			break;
		case 'J':
			field = &env->cert_issuer;
			break;
		case 'F':
			field = &env->cert_sha256;
			break;
		case 'Z':
			field = &env->cert_san;
			break;
		case 'V':
			field = &env->cert_not_after;
			break;
		case 'U':
			env->smtputf8 = true;
			continue;
		case 'S':
			field = &env->sender;
			break;
		case 'H':
			field = &env->helo;
			break;
		case 'C':
			field = &env->client;
			break;
		case 'L':
			field = &env->tls;
			break;
		case 'B':
			field = &env->body;
			break;
		default:
			/* Unknown records from a newer version are skipped. */
			continue;
		}
		free(*field);
		*field = xstrndup(value, value_len);
	}
	if (v1) {
		*error_r = "spool file has no message";
		return -1;
	}
	return 0;
}

static int check_complete(const struct envelope *env, const char **error_r)
{
	if (env->id[0] == '\0' || env->sender == NULL || env->rcpt_count == 0) {
		*error_r = "spool file lacks id, sender or recipients";
		return -1;
	}
	return 0;
}

int envelope_trailer_offset(const char *footer, uint64_t file_size, uint64_t *offset_r)
{
	size_t tag = strlen(SPOOL_FOOTER_TAG);
	if (file_size < SPOOL_MAGIC_LEN + SPOOL_FOOTER_LEN ||
	    memcmp(footer, SPOOL_FOOTER_TAG, tag) != 0 ||
	    footer[SPOOL_FOOTER_LEN - 1] != '\n')
		return -1;
	uint64_t offset = 0;
	for (size_t i = tag; i < SPOOL_FOOTER_LEN - 1; i++) {
		if (footer[i] < '0' || footer[i] > '9')
			return -1;
		offset = offset * 10 + (uint64_t)(footer[i] - '0');
	}
	if (offset < SPOOL_MAGIC_LEN || offset > file_size - SPOOL_FOOTER_LEN)
		return -1;
	*offset_r = offset;
	return 0;
}

int envelope_parse_trailer(const char *data, size_t len, uint64_t trailer_offset,
                           struct envelope *env, struct spool_layout *layout,
                           const char **error_r)
{
	memset(env, 0, sizeof(*env));
	struct layout_records records = {0};
	if (parse_records(data, len, 0, false, env, &records, NULL, NULL, error_r) < 0 ||
	    check_complete(env, error_r) < 0)
		goto fail;
	uint64_t content_len = trailer_offset - SPOOL_MAGIC_LEN;
	if (!records.have_offset || records.body_offset > content_len) {
		*error_r = "spool file lacks a valid body offset";
		goto fail;
	}
	layout->header = records.header ? records.header : "";
	layout->header_len = records.header_len;
	layout->body_offset = SPOOL_MAGIC_LEN + records.body_offset;
	layout->body_len = content_len - records.body_offset;
	return 0;
fail:
	envelope_clear(env);
	return -1;
}

int envelope_parse(const char *data, size_t len, struct envelope *env,
                   struct spool_layout *layout, const char **error_r)
{
	memset(env, 0, sizeof(*env));
	if (len >= SPOOL_MAGIC_LEN &&
	    memcmp(data, SPOOL_MAGIC_V2, SPOOL_MAGIC_LEN) == 0) {
		uint64_t offset;
		if (len < SPOOL_FOOTER_LEN ||
		    envelope_trailer_offset(data + len - SPOOL_FOOTER_LEN, len, &offset) <
		        0) {
			*error_r = "spool file without a valid end (cut short?)";
			return -1;
		}
		return envelope_parse_trailer(data + offset,
		                              len - SPOOL_FOOTER_LEN - offset, offset,
		                              env, layout, error_r);
	}
	if (len < SPOOL_MAGIC_LEN || memcmp(data, SPOOL_MAGIC_V1, SPOOL_MAGIC_LEN) != 0) {
		*error_r = "not a petrel spool file";
		return -1;
	}
	/* Written by a petrel from before streaming: the message follows the
	 * records, and is delivered as it is. */
	const char *message = NULL;
	size_t message_len = 0;
	struct layout_records unused = {0};
	if (parse_records(data, len, SPOOL_MAGIC_LEN, true, env, &unused, &message,
	                  &message_len, error_r) < 0 ||
	    check_complete(env, error_r) < 0) {
		envelope_clear(env);
		return -1;
	}
	layout->header = "";
	layout->header_len = 0;
	layout->body_offset = (uint64_t)(message - data);
	layout->body_len = message_len;
	return 0;
}
