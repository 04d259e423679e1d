/*
 * message_source.c — reading a queued message in pieces (see
 * message_source.h).
 */
#include "message/message_source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xalloc.h"

uint64_t message_source_size(const struct message_source *m)
{
	return m->header_len + m->body_len;
}

ssize_t message_source_read(const struct message_source *m, uint64_t pos, char *out,
                            size_t len)
{
	size_t done = 0;
	if (pos < m->header_len) {
		size_t n = m->header_len - (size_t)pos;
		if (n > len)
			n = len;
		memcpy(out, m->header + pos, n);
		done += n;
		pos += n;
	}
	uint64_t body_pos = pos - m->header_len;
	while (done < len && body_pos < m->body_len) {
		size_t n = len - done;
		if (n > m->body_len - body_pos)
			n = (size_t)(m->body_len - body_pos);
		if (m->fd < 0) {
			memcpy(out + done, m->body + body_pos, n);
		} else {
			ssize_t r = pread(m->fd, out + done, n,
			                  (off_t)(m->body_offset + body_pos));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -1;
			if (r == 0) {
				errno =
				    EIO; /* the file is shorter than its envelope says */
				return -1;
			}
			n = (size_t)r;
		}
		done += n;
		body_pos += n;
	}
	return (ssize_t)done;
}

int message_source_has_8bit(const struct message_source *m, bool *result_r)
{
	enum { PIECE = 64 * 1024 };
	char *piece = xmalloc(PIECE);
	uint64_t pos = 0;
	*result_r = false;
	for (;;) {
		ssize_t n = message_source_read(m, pos, piece, PIECE);
		if (n < 0) {
			free(piece);
			return -1;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if ((unsigned char)piece[i] & 0x80) {
				*result_r = true;
				free(piece);
				return 0;
			}
		}
		pos += (uint64_t)n;
	}
	free(piece);
	return 0;
}
