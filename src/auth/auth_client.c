/*
 * auth_client.c — see auth_client.h.
 */
#include "auth/auth_client.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "auth/lookup_cache.h"
#include "ipc/wire.h"
#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"

/* A login may wait behind others for argon2id: generous, but bounded. */
#define ANSWER_SECONDS 60
/* At start the auth process may not listen yet: try for this long. */
#define CONNECT_MS 3000

struct auth_client {
	int fd;
	char path[108];
	struct buf out, in;
};

static pthread_key_t client_key;
static pthread_once_t client_once = PTHREAD_ONCE_INIT;
/* Every thread's lookups share one cache: the process's configuration
 * does not change (a reload replaces the process). */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lookup_cache *cache;
static bool cache_made;

static void client_free(void *arg)
{
	struct auth_client *c = arg;
	if (c->fd >= 0)
		close(c->fd);
	buf_free(&c->out);
	buf_free(&c->in);
	free(c);
}

static void make_key(void)
{
	pthread_key_create(&client_key, client_free);
}

void auth_socket_path(const struct config *config, struct buf *out)
{
	buf_appendf(out, "%s/run/auth.sock", config->home);
}

struct auth_client *auth_client_for_thread(const struct config *config)
{
	pthread_once(&client_once, make_key);
	struct auth_client *c = pthread_getspecific(client_key);
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		c->fd = -1;
		struct buf path = BUF_INIT;
		auth_socket_path(config, &path);
		snprintf(c->path, sizeof(c->path), "%s", buf_cstr(&path));
		buf_free(&path);
		pthread_setspecific(client_key, c);
		pthread_mutex_lock(&cache_lock);
		if (!cache_made)
			cache = lookup_cache_new(config);
		cache_made = true;
		pthread_mutex_unlock(&cache_lock);
	}
	return c;
}

static int connect_socket(struct auth_client *c, const char **error_r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	memcpy(sun.sun_path, c->path, strlen(c->path) + 1);
	for (int waited = 0;; waited += 50) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			*error_r = error_errno("auth socket");
			return -1;
		}
		struct timeval tv = {ANSWER_SECONDS, 0};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			c->fd = fd;
			return 0;
		}
		int e = errno;
		close(fd);
		if ((e != ENOENT && e != ECONNREFUSED) || waited >= CONNECT_MS) {
			errno = e;
			*error_r = error_fmt("auth process unavailable: %s: %s", c->path,
			                     strerror(e));
			return -1;
		}
		struct timespec pause = {0, 50 * 1000000};
		nanosleep(&pause, NULL);
	}
}

static void disconnect(struct auth_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int read_exactly(int fd, struct buf *in, size_t len)
{
	while (in->len < len) {
		char chunk[16384];
		size_t want =
		    len - in->len < sizeof(chunk) ? len - in->len : sizeof(chunk);
		ssize_t n = read(fd, chunk, want);
		if (n == 0)
			errno = ECONNRESET;
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		buf_append(in, chunk, (size_t)n);
	}
	return 0;
}

/* One request and its answer; a broken connection is made again once
 * when retry allows (lookups: asking twice is harmless). */
static int call(struct auth_client *c, const struct auth_request *request,
                struct auth_response *response, bool retry, const char **error_r)
{
	if (lookup_cache_get(cache, request, response))
		return 0;
	uint64_t version = lookup_cache_version(cache);
	if (auth_request_encode(request, &c->out) < 0) {
		*error_r = "request too large for the auth process";
		return -1;
	}
	for (int attempt = 0; attempt < (retry ? 2 : 1); attempt++) {
		if (c->fd < 0 && connect_socket(c, error_r) < 0)
			return -1;
		buf_reset(&c->in);
		size_t len;
		if (fs_write_all(c->fd, c->out.data, c->out.len) == 0 &&
		    read_exactly(c->fd, &c->in, WIRE_HEADER) == 0 &&
		    (len = wire_frame_length((const unsigned char *)c->in.data)) != 0 &&
		    read_exactly(c->fd, &c->in, len) == 0) {
			if (auth_response_decode(request->type, c->in.data, c->in.len,
			                         response) == 0) {
				lookup_cache_put(cache, request, version, response);
				return 0;
			}
			errno = EPROTO;
		}
		*error_r =
		    error_fmt("auth process: %s", errno ? strerror(errno) : "bad answer");
		disconnect(c);
	}
	return -1;
}

int auth_client_local_rcpt(struct auth_client *c, const char *address, char **user_r,
                           uint64_t *quota_r, const char **error_r)
{
	*user_r = NULL;
	*quota_r = 0;
	struct auth_request req = {.type = AUTH_LOCAL_RCPT};
	snprintf(req.name, sizeof(req.name), "%s", address);
	struct auth_response resp;
	if (call(c, &req, &resp, true, error_r) < 0)
		return -1;
	int r = resp.result;
	if (r < 0)
		*error_r = error_fmt("%s", resp.error);
	else if (r > 0 && resp.user[0]) {
		*user_r = xstrdup(resp.user);
		*quota_r = resp.quota;
	}
	auth_response_clear(&resp);
	return r;
}

struct auth_exchange *auth_exchange_new(unsigned mechanism, const char *client_ip,
                                        const struct client_cert *cert)
{
	struct auth_exchange *x = xcalloc(1, sizeof(*x));
	/* Unique among the exchanges of every client: random. */
	if (RAND_bytes((unsigned char *)&x->id, sizeof(x->id)) != 1)
		x->id = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^
		        (uint64_t)(uintptr_t)x;
	x->mechanism = mechanism;
	snprintf(x->client_ip, sizeof(x->client_ip), "%s", client_ip);
	if (cert)
		x->cert = *cert;
	return x;
}

void auth_exchange_free(struct auth_exchange **x)
{
	x_free(x);
}

void auth_exchange_request(const struct auth_exchange *x, const char *response,
                           size_t len, struct auth_request *req)
{
	*req = (struct auth_request){
	    .type = AUTH_SASL_STEP,
	    .conversation = x->id,
	    .first = !x->begun,
	    .mechanism = x->mechanism,
	    .cert = x->cert,
	    .has_response = response != NULL,
	    .response = response,
	    .response_len = len,
	};
	snprintf(req->client_ip, sizeof(req->client_ip), "%s", x->client_ip);
}

enum sasl_result auth_exchange_answer(struct auth_exchange *x,
                                      const struct auth_response *resp, const char *error,
                                      struct buf *challenge)
{
	buf_reset(challenge);
	if (resp == NULL) {
		snprintf(x->reason, sizeof(x->reason), "%s", error);
		return SASL_TEMPFAIL;
	}
	x->begun = true;
	snprintf(x->login, sizeof(x->login), "%s", resp->login);
	snprintf(x->identity, sizeof(x->identity), "%s", resp->identity);
	/* Why a step failed: the mechanism's reason, or what kept the auth
	 * process from running it. */
	snprintf(x->reason, sizeof(x->reason), "%.*s", (int)sizeof(x->reason) - 1,
	         resp->reason[0] ? resp->reason : resp->error);
	x->rehashed = resp->rehashed;
	x->quota = resp->quota;
	x->cached = resp->cached;
	buf_append(challenge, resp->challenge.data, resp->challenge.len);
	return resp->result >= SASL_CHALLENGE && resp->result <= SASL_TEMPFAIL
	           ? (enum sasl_result)resp->result
	           : SASL_TEMPFAIL;
}
