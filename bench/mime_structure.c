/*
 * mime_structure.c — the program behind bench/mime: the MIME structure of
 * every message of a corpus (what BODYSTRUCTURE and BODY[section] need),
 * found by petrel's streaming parser (src/proto/mime.c) and by GMime 3,
 * in one process, from the same octets in memory, so that only the
 * parsers differ.
 *
 *   mime-structure ROUNDS FILE...
 *
 * Prints one line per parser, "parser messages parts seconds", and
 * exits 1 when the two disagree on a message's part count (a parser that
 * skipped work must not pass for a fast one). Built without GMime (its
 * -dev package missing when meson configured), only petrel's line.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/mime.h"

#ifdef HAVE_GMIME
#include <gmime/gmime.h>
#endif

/* What the store feeds the parser at a time (a read buffer's worth). */
#define FEED_CHUNK 65536

struct message {
	char *data;
	size_t len;
	size_t parts; /* petrel's count, checked against GMime's */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(const char *path, struct message *m)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return -1;
	}
	m->len = (size_t)st.st_size;
	m->data = malloc(m->len + 1);
	size_t got = 0;
	while (m->data && got < m->len) {
		ssize_t r = read(fd, m->data + got, m->len - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (m->data == NULL || got != m->len) {
		fprintf(stderr, "%s: short read\n", path);
		return -1;
	}
	return 0;
}

static size_t petrel_parts(const struct message *m)
{
	struct mime_parser *p = mime_parser_new();
	for (size_t off = 0; off < m->len; off += FEED_CHUNK)
		mime_parser_feed(p, m->data + off,
		                 m->len - off < FEED_CHUNK ? m->len - off : FEED_CHUNK);
	mime_parser_finish(p);
	size_t parts = mime_part_count(p);
	mime_parser_free(&p);
	return parts;
}

#ifdef HAVE_GMIME
/* g_mime_message_foreach visits the top part and, through multiparts,
 * every part below it; an attached message's parts are counted by petrel
 * too, so they are visited here as well. */
static void count_part(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	(void)parent;
	size_t *parts = data;
	(*parts)++;
	if (GMIME_IS_MESSAGE_PART(part)) {
		GMimeMessage *inner =
		    g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
		if (inner)
			g_mime_message_foreach(inner, count_part, parts);
	}
}

static size_t gmime_parts(const struct message *m)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(m->data, m->len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	size_t parts = 0;
	if (message) {
		g_mime_message_foreach(message, count_part, &parts);
		g_object_unref(message);
	}
	return parts;
}
#endif

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: mime-structure ROUNDS FILE...\n");
		return 2;
	}
	int rounds = atoi(argv[1]);
	size_t count = (size_t)argc - 2;
	struct message *messages = calloc(count, sizeof(*messages));
	for (size_t i = 0; i < count; i++)
		if (messages == NULL || load(argv[i + 2], &messages[i]) < 0)
			return 2;

	size_t total = 0;
	double start = now();
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < count; i++) {
			messages[i].parts = petrel_parts(&messages[i]);
			total += messages[i].parts;
		}
	printf("petrel %zu %zu %.6f\n", count * (size_t)rounds, total, now() - start);
	int status = 0;
#ifdef HAVE_GMIME
	g_mime_init();
	total = 0;
	start = now();
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < count; i++) {
			size_t parts = gmime_parts(&messages[i]);
			total += parts;
			if (r == 0 && parts != messages[i].parts) {
				fprintf(stderr, "%s: petrel %zu parts, GMime %zu\n",
				        argv[i + 2], messages[i].parts, parts);
				status = 1;
			}
		}
	printf("gmime %zu %zu %.6f\n", count * (size_t)rounds, total, now() - start);
	g_mime_shutdown();
#endif
	for (size_t i = 0; i < count; i++)
		free(messages[i].data);
	free(messages);
	return status;
}
