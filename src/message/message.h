/*
 * message.h — a message as the end-of-data stage sees it: its envelope,
 * its header section as fields that hooks may read, add, change or
 * delete, and its size. The body stays on disk.
 *
 * The header section delivered is: the fields hooks added (in the order
 * added, each before the earlier ones, as a trace header goes on top),
 * then the fields received, each byte for byte unless a hook changed or
 * deleted it. Names and values given by hooks are checked: a name is
 * printable ASCII without ':', a value has no NUL and no line break that
 * is not folding, so no hook can forge a second field.
 */
#ifndef PETREL_MESSAGE_H
#define PETREL_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "message/envelope.h"
#include "message/message_source.h"

struct message_field {
	char *name;
	char *value; /* after the colon, folding kept, without the line end */
	char *raw;   /* the field as received with its line end; NULL once
	              * changed (then name and value are written) */
	size_t raw_len;
	bool deleted;
};

struct message {
	const struct envelope *env;
	uint64_t size;                /* octets as received */
	struct message_field *fields; /* as received */
	size_t field_count;
	struct message_field *added; /* by hooks; the last added goes first */
	size_t added_count;
	/* The octets received, read-only; its fd is the message's own (closed
	 * by message_clear) or -1 with the body in memory (tests). */
	struct message_source received;
	bool owns_fd; /* received.fd is the message's (zeroed: it has none) */
};

/* Reads the received header section (found by proto/rfc5322.c). */
void message_init(struct message *m, const struct envelope *env, const char *section,
                  size_t len, uint64_t size);
void message_clear(struct message *m);

/* Where the received octets are: the header section given to
 * message_init, then body_len octets of fd from body_offset. The message
 * takes fd (closed by message_clear). */
void message_set_body(struct message *m, int fd, uint64_t body_offset, uint64_t body_len);

/* The value of the first field named name (any case), or NULL. */
const char *message_header(const struct message *m, const char *name);

/* Adds a field on top. 0, or -1 with *error_r for a bad name or value. */
int message_add_header(struct message *m, const char *name, const char *value,
                       const char **error_r);
/* Changes the first field named name; 1 changed, 0 none such, -1 bad. */
int message_set_header(struct message *m, const char *name, const char *value,
                       const char **error_r);
/* Deletes every field named name; returns how many. */
size_t message_delete_header(struct message *m, const char *name);

/* Appends the header section to deliver (without the empty line). */
void message_write_header(const struct message *m, struct buf *out);

#endif
