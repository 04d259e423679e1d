/*
 * message_file.h — a message file read as IMAP sees it: with CRLF line
 * ends. Files petrel writes have them already (SMTP and IMAP deliver
 * CRLF); Maildirs written by Dovecot or procmail hold bare LFs, which are
 * turned into CRLF while reading, so that sizes, offsets and partial
 * fetches mean the same whoever wrote the file.
 *
 * And what FETCH asks for most, computed in one pass: the size with
 * CRLF, the ENVELOPE, and BODY and BODYSTRUCTURE from the MIME structure
 * (proto/mime.h), for the index to cache.
 */
#ifndef PETREL_MESSAGE_FILE_H
#define PETREL_MESSAGE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"

struct message_file {
	int fd;
	uint64_t file_size;
	uint64_t size;  /* with CRLF line ends; 0 until known */
	bool converted; /* the file has bare LFs */
	int64_t mtime;  /* seconds: the internal date of a Maildir message */
	/* where sequential reading of a converted file stands */
	uint64_t file_pos, out_pos;
	bool pending_lf; /* a CR was given for a bare LF whose LF is owed */
	bool last_cr;
};

/* Opens path; size is the known CRLF size (0 if unknown: measured now,
 * reading the file once). -1 with *error_r and errno. */
int message_file_open(struct message_file *f, const char *path, uint64_t size,
                      const char **error_r);
void message_file_close(struct message_file *f);

/* Up to len octets at offset (CRLF space) into buf; returns how many
 * (fewer only at the end), -1 on a read error. A converted file reads
 * fastest forwards. */
ssize_t message_file_read(struct message_file *f, uint64_t offset, char *buf, size_t len);

/* Octets of the header section, its blank line included (the whole
 * message when it has none). */
int message_file_header_size(struct message_file *f, uint64_t *len_r,
                             const char **error_r);

enum {
	MESSAGE_PARSE_ENVELOPE = 1 << 0,
	MESSAGE_PARSE_BODY = 1 << 1,          /* BODY (no extension data) */
	MESSAGE_PARSE_BODYSTRUCTURE = 1 << 2, /* BODYSTRUCTURE */
	MESSAGE_PARSE_HEADERS = 1 << 3,       /* the fields SORT and THREAD read */
};

struct message_parsed {
	struct buf envelope, body, bodystructure; /* IMAP text, as FETCH sends it */
	struct buf headers; /* Date, Subject, From, To, Cc, Message-ID, References,
	                       In-Reply-To: the fields as they are, one after another */
};

/* Computes what fields asks for (appending to out's buffers). */
int message_file_parse(struct message_file *f, unsigned fields,
                       struct message_parsed *out, const char **error_r);
void message_parsed_free(struct message_parsed *p);

#endif
