/*
 * imap_bodystructure.h — BODY and BODYSTRUCTURE (RFC 9051 7.5.2) of a
 * message from its MIME structure (proto/mime.h).
 *
 * Pure: the structure says where everything is; the few octets it does
 * not keep (the header of a message/rfc822 part, for its ENVELOPE) are
 * asked for through read, which may come from a file. The writing
 * recurses no deeper than the MIME structure nests (MIME_DEPTH_MAX).
 */
#ifndef PETREL_IMAP_BODYSTRUCTURE_H
#define PETREL_IMAP_BODYSTRUCTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/imap_write.h"
#include "proto/mime.h"

/* Fills buf with len octets of the message at offset; returns how many
 * it could (fewer at the end). */
typedef size_t imap_read_fn(void *ctx, uint64_t offset, char *buf, size_t len);

/* extended: BODYSTRUCTURE (with the extension data); else BODY. */
void imap_write_bodystructure(const struct imap_writer *w, const struct mime_parser *mime,
                              bool extended, imap_read_fn *read, void *ctx);

#endif
