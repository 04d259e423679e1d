/*
 * queue_id.c — queue ID generation (see queue_id.h).
 */
#include "message/queue_id.h"

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/pid.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void queue_id_gen_init(struct queue_id_gen *gen, uint32_t generator)
{
	gen->generator = generator & 0x1ffffff;
	gen->last_usec = 0;
}

static void encode(uint64_t value, char *out, int digits)
{
	for (int i = digits - 1; i >= 0; i--) {
		out[i] = alphabet[value & 31];
		value >>= 5;
	}
}

void queue_id_next(struct queue_id_gen *gen, uint64_t now_usec, char *out)
{
	/* Several IDs in one microsecond, or a clock stepping back: move
	 * forward from the last one so IDs stay unique and ordered. */
	if (now_usec <= gen->last_usec)
		now_usec = gen->last_usec + 1;
	gen->last_usec = now_usec;
	encode(now_usec, out, 11);
	encode(gen->generator, out + 11, 5);
	out[QUEUE_ID_LEN] = '\0';
}

uint64_t queue_id_usec(const char *id)
{
	uint64_t value = 0;
	for (int i = 0; i < 11; i++) {
		const char *digit = strchr(alphabet, id[i]);
		value = value << 5 | (uint64_t)(digit && *digit ? digit - alphabet : 0);
	}
	return value;
}

bool queue_id_valid(const char *s, size_t len)
{
	if (len != QUEUE_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0' || strchr(alphabet, s[i]) == NULL)
			return false;
	}
	return true;
}

/* The process's own generator: threads share it, and a forked child,
 * whose pid differs, starts its own. */
static pthread_mutex_t process_lock = PTHREAD_MUTEX_INITIALIZER;
static struct queue_id_gen process_gen;
static pid_t process_pid;

void queue_id_new(char *out)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&process_lock);
	pid_t pid = pid_current();
	if (process_pid != pid) {
		queue_id_gen_init(&process_gen, (uint32_t)pid);
		process_pid = pid;
	}
	queue_id_next(&process_gen,
	              (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000, out);
	pthread_mutex_unlock(&process_lock);
}
