/*
 * auth_server.c — the auth process (see auth_server.h).
 *
 * One connection per client thread; a request is read whole (its frame
 * length checked first), decoded by auth_proto.c, answered, and the answer
 * written back before the next request is read. SASL steps (password
 * hashing) and anything asking PostgreSQL run on a thread; lookups in the
 * SQLite database are answered on the loop: in WAL mode a reader never
 * waits for a writer, and a thread hand-off would cost more than the
 * lookup (it made each delivery 0.3 ms dearer). Anything
 * malformed closes that connection and is logged; the process serves on.
 */
#include "auth/auth_server.h"

#include <errno.h>
#include <event2/listener.h>
#include <openssl/crypto.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth_client.h"
#include "auth/auth_proto.h"
#include "auth/sasl.h"
#include "auth/userdb.h"
#include "auth/userdb_watch.h"
#include "ipc/wire.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/workpool.h"
#include "lib/xalloc.h"
#include "net/conn.h"

#define CONVERSATIONS_MAX  10000
#define CONVERSATION_IDLE  600 /* seconds: a client that never came back */
#define CONVERSATION_TABLE 4096
#define SWEEP_SECONDS      60

struct conversation {
	uint64_t id;
	struct sasl_server *sasl;
	time_t last;
	bool busy; /* a step runs on a thread */
	struct conversation *next;
};

struct auth_server {
	const struct config *config;
	struct event_base *base;
	struct workpool *pool;
	struct evconnlistener *listener;
	struct auth_conn *conns;
	pthread_mutex_t lock; /* the conversations */
	struct conversation *table[CONVERSATION_TABLE];
	unsigned conversation_count;
	struct event *sweep;
	bool stopping;
};

struct auth_conn {
	struct work work; /* first: the pool hands it back */
	struct auth_server *server;
	struct auth_conn *prev, *next;
	struct conn *conn;
	struct buf frame;
	struct auth_request request;
	struct buf answer;
	bool working;
	bool gone; /* ended while working: freed when the work is back */
};

/* --- SASL conversations --------------------------------------------------- */

static struct conversation **slot_of(struct auth_server *s, uint64_t id)
{
	struct conversation **slot = &s->table[id % CONVERSATION_TABLE];
	while (*slot && (*slot)->id != id)
		slot = &(*slot)->next;
	return slot;
}

/* Takes the conversation for a step (creating it on the first), or NULL
 * with *why. */
static struct conversation *take(struct auth_server *s, const struct auth_request *r,
                                 const char **why)
{
	pthread_mutex_lock(&s->lock);
	struct conversation **slot = slot_of(s, r->conversation);
	struct conversation *c = *slot;
	if (r->first && c) {
		c = NULL;
		*why = "conversation exists";
	} else if (r->first) {
		struct sasl_server *sasl =
		    s->conversation_count >= CONVERSATIONS_MAX
		        ? NULL
		        : sasl_server_new(s->config, r->mechanism, s->config->hostname,
		                          r->client_ip, &r->cert);
		if (sasl) {
			c = xcalloc(1, sizeof(*c));
			c->id = r->conversation;
			c->sasl = sasl;
			*slot = c;
			s->conversation_count++;
		} else {
			*why = s->conversation_count >= CONVERSATIONS_MAX
			           ? "too many logins in progress"
			           : "mechanism not available";
		}
	} else if (c == NULL || c->busy) {
		c = NULL;
		*why = "no such exchange (the auth process may have restarted)";
	}
	if (c)
		c->busy = true;
	pthread_mutex_unlock(&s->lock);
	return c;
}

static void forget_locked(struct auth_server *s, uint64_t id)
{
	struct conversation **slot = slot_of(s, id);
	struct conversation *c = *slot;
	if (c == NULL)
		return;
	*slot = c->next;
	sasl_server_free(&c->sasl);
	free(c);
	s->conversation_count--;
}

/* A step is over: the conversation goes on (a challenge) or ends. */
static void give_back(struct auth_server *s, struct conversation *c, bool over)
{
	pthread_mutex_lock(&s->lock);
	if (over) {
		forget_locked(s, c->id);
	} else {
		c->busy = false;
		c->last = time(NULL);
	}
	pthread_mutex_unlock(&s->lock);
}

static void sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct auth_server *s = arg;
	time_t old = time(NULL) - CONVERSATION_IDLE;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < CONVERSATION_TABLE; i++)
		for (struct conversation *c = s->table[i], *next; c; c = next) {
			next = c->next;
			if (!c->busy && c->last < old)
				forget_locked(s, c->id);
		}
	pthread_mutex_unlock(&s->lock);
}

/* --- requests, on a thread -------------------------------------------------- */

/* A user's storage quota (0: none, or no such user): what the protocols
 * enforce at RCPT, at delivery and at APPEND. */
static uint64_t user_quota(struct userdb *db, const char *address)
{
	struct user_record user;
	const char *error;
	if (db == NULL || userdb_user_get(db, address, &user, &error) <= 0)
		return 0;
	uint64_t quota = user.quota;
	user_record_free(&user);
	return quota;
}

static void sasl_step(struct auth_server *s, struct userdb *db,
                      const struct auth_request *r, struct auth_response *out)
{
	const char *why = NULL;
	struct conversation *c = take(s, r, &why);
	if (c == NULL) {
		out->result = SASL_TEMPFAIL;
		snprintf(out->error, sizeof(out->error), "%s", why);
		return;
	}
	enum sasl_result result =
	    sasl_server_step(c->sasl, db, r->has_response ? r->response : NULL,
	                     r->response_len, &out->challenge);
	out->result = (int32_t)result;
	snprintf(out->login, sizeof(out->login), "%s", sasl_server_login(c->sasl));
	snprintf(out->identity, sizeof(out->identity), "%s",
	         sasl_server_identity(c->sasl));
	snprintf(out->reason, sizeof(out->reason), "%s", sasl_server_reason(c->sasl));
	out->rehashed = sasl_server_rehashed(c->sasl);
	out->cached = sasl_server_cached(c->sasl);
	if (result == SASL_SUCCESS)
		out->quota = user_quota(db, out->identity);
	give_back(s, c, result != SASL_CHALLENGE);
}

static void answer(struct auth_server *s, struct userdb *db, const struct auth_request *r,
                   struct auth_response *out, const char *db_error)
{
	const char *error = NULL;
	if (db == NULL && r->type != AUTH_SASL_END) {
		out->result = r->type == AUTH_SASL_STEP ? SASL_TEMPFAIL : -1;
		snprintf(out->error, sizeof(out->error), "%s",
		         db_error ? db_error : "user database unavailable");
		return;
	}
	char *user = NULL;
	switch (r->type) {
	case AUTH_LOCAL_RCPT: {
		const char *at = strrchr(r->name, '@');
		out->result = userdb_domain_is_local(db, at ? at + 1 : "", &error);
		if (out->result > 0 &&
		    userdb_mailbox_owner(db, r->name, &user, &error) < 0)
			out->result = -1;
		if (user) {
			snprintf(out->user, sizeof(out->user), "%s", user);
			out->quota = user_quota(db, user);
		}
		free(user);
		break;
	}
	case AUTH_EXPAND:
		out->result = userdb_expand(db, r->name, &out->expansion, &error);
		if (out->result > 0) {
			out->expansion.quotas =
			    xcalloc(out->expansion.count + 1, sizeof(uint64_t));
			for (size_t i = 0; i < out->expansion.count; i++)
				out->expansion.quotas[i] =
				    user_quota(db, out->expansion.addresses[i]);
		}
		if (out->result == 0 && out->expansion.missing)
			log_msg(L_WARN, "event=alias-target-missing rcpt=%s target=%s",
			        LOG_Q(r->name), LOG_Q(out->expansion.missing));
		break;
	case AUTH_SENDER:
		out->result = userdb_may_send_as(db, r->name, r->other, &error);
		break;
	case AUTH_SASL_STEP:
		sasl_step(s, db, r, out);
		return;
	case AUTH_SASL_END:
		pthread_mutex_lock(&s->lock);
		struct conversation *c = *slot_of(s, r->conversation);
		if (c && !c->busy)
			forget_locked(s, r->conversation);
		pthread_mutex_unlock(&s->lock);
		out->result = 0;
		return;
	}
	if (out->result < 0)
		snprintf(out->error, sizeof(out->error), "%s",
		         error ? error : "database error");
}

static void request_run(struct work *work)
{
	struct auth_conn *ac = (struct auth_conn *)work;
	const char *error = NULL;
	struct userdb *db = userdb_for_thread(ac->server->config, &error);
	struct auth_response response;
	memset(&response, 0, sizeof(response));
	answer(ac->server, db, &ac->request, &response, error);
	if (auth_response_encode(ac->request.type, &response, &ac->answer) < 0) {
		/* An expansion too large for a frame: say so rather than cut. */
		auth_response_clear(&response);
		memset(&response, 0, sizeof(response));
		response.result = -1;
		snprintf(response.error, sizeof(response.error), "answer too large");
		auth_response_encode(ac->request.type, &response, &ac->answer);
	}
	auth_response_clear(&response);
	/* The frame held a SASL response (a password, perhaps). */
	OPENSSL_cleanse(ac->frame.data, ac->frame.len);
}

/* --- connections, on the loop ------------------------------------------------ */

static void conn_gone(struct auth_conn *ac)
{
	struct auth_server *s = ac->server;
	if (ac->prev)
		ac->prev->next = ac->next;
	else
		s->conns = ac->next;
	if (ac->next)
		ac->next->prev = ac->prev;
	conn_free(&ac->conn);
	buf_free(&ac->frame);
	buf_free(&ac->answer);
	free(ac);
}

static void answer_back(struct auth_conn *ac)
{
	conn_write(ac->conn, ac->answer.data, ac->answer.len);
	buf_reset(&ac->frame);
}

static void request_done(struct work *work)
{
	struct auth_conn *ac = (struct auth_conn *)work;
	ac->working = false;
	if (ac->gone) {
		conn_gone(ac);
		return;
	}
	answer_back(ac);
	conn_resume(ac->conn);
}

static bool answered_on_loop(const struct auth_server *s, const struct auth_request *r)
{
	return r->type != AUTH_SASL_STEP &&
	       s->config->auth.backend != AUTH_BACKEND_POSTGRES;
}

static void refuse(struct auth_conn *ac, const char *why)
{
	log_msg(L_WARN, "event=auth-bad-request error=%s", LOG_Q(why));
	conn_close_after_flush(ac->conn);
}

/* Reads the next request into ac->request: 1 one is there, 0 not yet,
 * -1 malformed (the connection is closing). */
static int take_request(struct auth_conn *ac)
{
	struct conn *c = ac->conn;
	unsigned char head[WIRE_HEADER];
	if (conn_input_length(c) < WIRE_HEADER)
		return 0;
	conn_input_copy(c, head, sizeof(head));
	size_t len = wire_frame_length(head);
	if (len == 0) {
		refuse(ac, "bad frame length");
		return -1;
	}
	if (conn_input_length(c) < len)
		return 0;
	buf_reset(&ac->frame);
	buf_reserve(&ac->frame, len);
	ac->frame.len = conn_read(c, ac->frame.data, len);
	if (ac->frame.len != len ||
	    auth_request_decode(ac->frame.data, ac->frame.len, &ac->request) < 0) {
		OPENSSL_cleanse(ac->frame.data, ac->frame.len);
		refuse(ac, "malformed request");
		return -1;
	}
	return 1;
}

static void on_input(struct conn *c, void *arg)
{
	struct auth_conn *ac = arg;
	while (!ac->working && take_request(ac) > 0) {
		ac->work.run = request_run;
		ac->work.done = request_done;
		if (answered_on_loop(ac->server, &ac->request)) {
			request_run(&ac->work);
			answer_back(ac);
			continue;
		}
		ac->working = true;
		conn_pause(c);
		workpool_submit(ac->server->pool, &ac->work);
	}
}

static void on_end(struct conn *c, void *arg, enum conn_end why)
{
	(void)c;
	(void)why;
	struct auth_conn *ac = arg;
	if (ac->working)
		ac->gone = true;
	else
		conn_gone(ac);
}

static const struct conn_handlers handlers = {.input = on_input, .end = on_end};

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd,
                      struct sockaddr *addr, int len, void *arg)
{
	(void)listener;
	struct auth_server *s = arg;
	struct auth_conn *ac = xcalloc(1, sizeof(*ac));
	ac->server = s;
	struct conn_settings settings = {
	    .input_max = WIRE_MESSAGE_MAX + 4096,
	    .output_high_water = 2 * WIRE_MESSAGE_MAX,
	};
	ac->conn = conn_accept(s->base, fd, addr, (socklen_t)len, NULL, &settings,
	                       &handlers, ac);
	ac->next = s->conns;
	if (s->conns)
		s->conns->prev = ac;
	s->conns = ac;
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct auth_server *s = arg;
	if (s->stopping)
		return;
	/* Clients are the workers and the queue: they stop first (the
	 * master stops us last); what is in flight still finishes. */
	s->stopping = true;
	evconnlistener_disable(s->listener);
	event_base_loopexit(s->base, NULL);
}

static int listen_socket(const char *path, ino_t *inode_r, const char **error_r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = error_fmt("auth socket path too long: %s", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	mode_t old = umask(0);
	/* Anyone who can reach the directory may ask: the workers' account.
	 * The directory is root's, so no worker can replace the socket. */
	int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	struct stat st;
	if (r < 0 || chmod(path, 0666) < 0 || listen(fd, 128) < 0 ||
	    stat(path, &st) < 0) {
		*error_r = error_errno(path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*inode_r = st.st_ino;
	return fd;
}

int auth_server_run(const struct config *config, const char **error_r)
{
	struct auth_server s = {.config = config};
	pthread_mutex_init(&s.lock, NULL);
	evthread_use_pthreads();
	s.base = event_base_new();
	struct buf path = BUF_INIT;
	auth_socket_path(config, &path);
	ino_t inode;
	int fd = listen_socket(buf_cstr(&path), &inode, error_r);
	if (fd < 0) {
		buf_free(&path);
		event_base_free(s.base);
		return -1;
	}
	/* Each worker asks from its auth threads, the queue from its delivery
	 * threads; argon2id is what takes time, so a thread per core. */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = config->auth.threads > (unsigned)(cores > 0 ? cores : 1)
	                       ? config->auth.threads
	                       : (unsigned)(cores > 0 ? cores : 1);
	s.pool = workpool_create(s.base, threads);
	s.listener =
	    evconnlistener_new(s.base, on_accept, &s, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	struct timeval every = {SWEEP_SECONDS, 0};
	s.sweep = event_new(s.base, -1, EV_PERSIST, sweep, &s);
	event_add(s.sweep, &every);
	struct event *term = evsignal_new(s.base, SIGTERM, on_sigterm, &s);
	struct event *intr = evsignal_new(s.base, SIGINT, on_sigterm, &s);
	event_add(term, NULL);
	event_add(intr, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct userdb_watch *watch = userdb_watch_start(s.base, config);
	log_msg(L_INFO, "event=auth-listening socket=%s threads=%u",
	        LOG_Q(buf_cstr(&path)), threads);

	event_base_dispatch(s.base);

	userdb_watch_stop(&watch);
	workpool_destroy(&s.pool); /* runs the done() of work in flight */
	while (s.conns)
		conn_gone(s.conns);
	evconnlistener_free(s.listener);
	/* After a reload the new auth process listens there: its socket
	 * stays. */
	struct stat st;
	if (stat(buf_cstr(&path), &st) == 0 && st.st_ino == inode)
		unlink(buf_cstr(&path));
	buf_free(&path);
	for (size_t i = 0; i < CONVERSATION_TABLE; i++)
		while (s.table[i])
			forget_locked(&s, s.table[i]->id);
	event_free(s.sweep);
	event_free(term);
	event_free(intr);
	event_base_free(s.base);
	pthread_mutex_destroy(&s.lock);
	return 0;
}
