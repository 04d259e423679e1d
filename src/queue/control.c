/*
 * control.c — the control socket (see control.h). File work (reading
 * spool files, appending to journals, removing a message) runs on the
 * queue's threads; the schedule is changed on the loop through hooks.
 */
#include "queue/control.h"

#include <dirent.h>
#include <errno.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "auth/credential_cache.h"
#include "auth/lookup_cache.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/xalloc.h"
#include "message/envelope.h"
#include "net/conn.h"
#include "net/listener.h"
#include "queue/msg_status.h"
#include "queue/spool_read.h"

#define REQUEST_MAX     512
#define REQUEST_SECONDS 10

struct control {
	struct event_base *base;
	struct workpool *pool;
	struct spool *spool;
	struct control_hooks hooks;
	struct evconnlistener *listener;
	char *path;
};

enum op {
	OP_LIST,
	OP_SHOW,
	OP_RETRY,
	OP_HOLD,
	OP_RELEASE,
	OP_DELETE,
	OP_BOUNCE,
	OP_STATS
};

struct request {
	struct work work;
	struct control *control;
	struct conn *conn;
	bool working; /* in the pool: the connection ending must wait */
	bool gone;    /* ... and it did */
	enum op op;
	char id[QUEUE_ID_LEN + 1];
	int result; /* 0 ok, -1 error (first line of out says why) */
	struct buf out;
};

static void format_time(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Appends one message's description; -1 if it is not in the queue. */
static int describe(const struct spool *spool, const char *id, bool detail,
                    struct buf *out)
{
	struct buf path = BUF_INIT;
	const char *error;
	spool_path(&path, spool->queue_dir, id, "");
	struct spool_entry entry;
	int r = spool_entry_read(path.data, &entry, &error);
	buf_free(&path);
	if (r < 0) {
		if (errno != EINVAL)
			return -1;
		buf_appendf(out, "%s  (unreadable: %s)\n", id, error);
		return 0;
	}
	const struct envelope env = entry.env;
	uint64_t message_len = entry.message_size;
	struct msg_status st;
	msg_status_init(&st, env.rcpt_count);
	spool_path(&path, spool->queue_dir, id, ".status");
	msg_status_load(&st, path.data, &error);
	buf_free(&path);
	char when[32], next[32];
	format_time(env.arrival, when, sizeof(when));
	buf_appendf(out, "%s  %8llu  %s  <%s>%s\n", id, (unsigned long long)message_len,
	            when, env.sender, st.held ? "  (held)" : "");
	if (detail) {
		buf_appendf(out, "  attempts: %u\n", st.attempts);
		if (st.next_attempt) {
			format_time(st.next_attempt, next, sizeof(next));
			buf_appendf(out, "  next attempt: %s\n", next);
		}
		if (env.client)
			buf_appendf(out, "  received from: %s (%s)\n", env.client,
			            env.helo ? env.helo : "");
		if (env.envid)
			buf_appendf(out, "  envelope id: %s\n", env.envid);
		if (env.parent)
			buf_appendf(out, "  notification about: %s\n", env.parent);
	}
	for (size_t i = 0; i < env.rcpt_count; i++) {
		const struct rcpt_status *rs = &st.rcpt[i];
		const char *state = rs->state == RCPT_DELIVERED ? "delivered"
		                    : rs->state == RCPT_FAILED  ? "failed"
		                    : rs->temp_failed           ? "deferred"
		                                                : "pending";
		if (!detail && rs->state == RCPT_DELIVERED)
			continue;
		buf_appendf(out, "    <%s>  %s", env.rcpts[i].address, state);
		if (rs->dsn[0])
			buf_appendf(out, "  %s", rs->dsn);
		if (rs->diagnostic)
			buf_appendf(out, "  %s", rs->diagnostic);
		buf_append_char(out, '\n');
	}
	msg_status_clear(&st);
	spool_entry_clear(&entry);
	return 0;
}

static int compare_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void do_list(struct request *req)
{
	DIR *dir = opendir(req->control->spool->queue_dir);
	char(*ids)[QUEUE_ID_LEN + 1] = NULL;
	size_t count = 0, cap = 0;
	struct dirent *d;
	while (dir && (d = readdir(dir)) != NULL) {
		if (!queue_id_valid(d->d_name, strlen(d->d_name)))
			continue;
		xgrow((void **)&ids, &cap, count + 1, sizeof(*ids));
		memcpy(ids[count++], d->d_name, QUEUE_ID_LEN + 1);
	}
	if (dir)
		closedir(dir);
	if (count)
		qsort(ids, count, sizeof(*ids), compare_ids);
	buf_append_str(&req->out, "ok\n");
	if (count)
		buf_appendf(&req->out, "%-16s  %8s  %-19s  %s\n", "QUEUE ID", "SIZE",
		            "ARRIVAL", "SENDER, RECIPIENTS NOT YET DELIVERED");
	size_t shown = 0;
	for (size_t i = 0; i < count; i++)
		shown += describe(req->control->spool, ids[i], false, &req->out) == 0;
	buf_appendf(&req->out, "-- %zu message%s in the queue\n", shown,
	            shown == 1 ? "" : "s");
	free(ids);
}

static bool exists(const struct spool *spool, const char *id)
{
	struct buf path = BUF_INIT;
	spool_path(&path, spool->queue_dir, id, "");
	bool found = access(path.data, F_OK) == 0;
	buf_free(&path);
	return found;
}

static int append(struct request *req, size_t rcpt_count, const struct buf *records)
{
	struct buf path = BUF_INIT;
	struct msg_status st;
	msg_status_init(&st, rcpt_count);
	spool_path(&path, req->control->spool->queue_dir, req->id, ".status");
	const char *error;
	int r = msg_status_append(&st, path.data, records, &error);
	if (r < 0)
		buf_appendf(&req->out, "error: %s\n", error);
	msg_status_clear(&st);
	buf_free(&path);
	return r;
}

/* Every recipient still pending fails: the next attempt bounces them. */
static int mark_returned(struct request *req)
{
	struct buf path = BUF_INIT, records = BUF_INIT;
	const char *error;
	spool_path(&path, req->control->spool->queue_dir, req->id, "");
	struct spool_entry entry;
	int r = spool_entry_read(path.data, &entry, &error);
	if (r < 0) {
		buf_appendf(&req->out, "error: %s\n", error);
		goto out;
	}
	const struct envelope env = entry.env;
	struct msg_status st;
	msg_status_init(&st, env.rcpt_count);
	spool_path(&path, req->control->spool->queue_dir, req->id, ".status");
	msg_status_load(&st, path.data, &error);
	for (size_t i = 0; i < env.rcpt_count; i++)
		if (st.rcpt[i].state == RCPT_PENDING)
			status_record_failure(&records, i, true, "5.0.0", NULL,
			                      "x-petrel; returned to the sender by the "
			                      "postmaster");
	r = append(req, env.rcpt_count, &records);
	msg_status_clear(&st);
	spool_entry_clear(&entry);
out:
	buf_free(&path);
	buf_free(&records);
	return r;
}

static void request_run(struct work *work)
{
	struct request *req = (struct request *)work;
	struct spool *spool = req->control->spool;
	if (req->op == OP_LIST) {
		do_list(req);
		return;
	}
	if (!exists(spool, req->id)) {
		buf_appendf(&req->out, "error: no message %s in the queue\n", req->id);
		req->result = -1;
		return;
	}
	struct buf records = BUF_INIT, path = BUF_INIT;
	switch (req->op) {
	case OP_SHOW:
		buf_append_str(&req->out, "ok\n");
		describe(spool, req->id, true, &req->out);
		break;
	case OP_HOLD:
	case OP_RELEASE:
		status_record_hold(&records, req->op == OP_HOLD);
		req->result = append(req, 0, &records);
		if (req->result == 0)
			buf_appendf(&req->out, "ok\n%s %s\n", req->id,
			            req->op == OP_HOLD ? "held" : "released");
		break;
	case OP_DELETE:
		spool_retire(spool, req->id);
		spool_path(&path, spool->queue_dir, req->id, ".status");
		unlink(path.data);
		log_msg(L_WARN, "event=deleted id=%s by=operator", req->id);
		buf_appendf(&req->out, "ok\n%s deleted\n", req->id);
		break;
	case OP_BOUNCE:
		req->result = mark_returned(req);
		if (req->result == 0) {
			log_msg(L_WARN, "event=returned id=%s by=operator", req->id);
			buf_appendf(&req->out, "ok\n%s returned to its sender\n",
			            req->id);
		}
		break;
	default:
		break;
	}
	buf_free(&records);
	buf_free(&path);
}

static void request_free(struct request *req)
{
	conn_free(&req->conn);
	buf_free(&req->out);
	free(req);
}

static void respond(struct request *req)
{
	conn_write(req->conn, req->out.data, req->out.len);
	conn_close_after_flush(req->conn);
}

static void request_done(struct work *work)
{
	struct request *req = (struct request *)work;
	const struct control_hooks *h = &req->control->hooks;
	req->working = false;
	if (req->gone) {
		request_free(req);
		return;
	}
	if (req->result == 0) {
		switch (req->op) {
		case OP_HOLD:
			h->set_held(h->queue, req->id, true);
			break;
		case OP_RELEASE:
			h->set_held(h->queue, req->id, false);
			h->attempt_now(h->queue, req->id);
			break;
		case OP_DELETE:
			h->forget(h->queue, req->id);
			break;
		case OP_BOUNCE:
			h->attempt_now(h->queue, req->id);
			break;
		default:
			break;
		}
	}
	respond(req);
}

static const char *const op_names[] = {"list",    "show",   "retry",  "hold",
                                       "release", "delete", "bounce", "stats"};

/* Parses "verb [ID]"; -1 with an error reply. */
static int parse_request(struct request *req, const char *line)
{
	char verb[16] = "", id[64] = "", extra[8] = "";
	int n = sscanf(line, "%15s %63s %7s", verb, id, extra);
	size_t i;
	for (i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (strcasecmp(verb, op_names[i]) == 0)
			break;
	if (n < 1 || i == sizeof(op_names) / sizeof(op_names[0]) || n > 2) {
		buf_append_str(&req->out,
		               "error: expected list, show ID, retry [ID], hold ID, "
		               "release ID, delete ID, bounce ID or stats\n");
		return -1;
	}
	req->op = (enum op)i;
	bool needs_id = req->op != OP_LIST && req->op != OP_RETRY && req->op != OP_STATS;
	if ((needs_id && n < 2) ||
	    ((req->op == OP_LIST || req->op == OP_STATS) && n > 1)) {
		buf_appendf(&req->out, "error: %s %s\n", op_names[i],
		            needs_id ? "needs a queue ID" : "takes no argument");
		return -1;
	}
	if (n == 2) {
		if (!queue_id_valid(id, strlen(id))) {
			buf_appendf(&req->out, "error: '%.20s' is not a queue ID\n", id);
			return -1;
		}
		memcpy(req->id, id, QUEUE_ID_LEN + 1);
	}
	return 0;
}

static void on_input(struct conn *conn, void *arg)
{
	struct request *req = arg;
	char *line;
	size_t len;
	int r = conn_read_line(conn, REQUEST_MAX + 2, &line, &len);
	if (r == 0)
		return;
	conn_pause(conn); /* one request per connection */
	if (r < 0) {
		buf_append_str(&req->out, "error: request too long\n");
		respond(req);
		return;
	}
	static const char changed[] = "userdb-changed";
	if (r > 0 && strncasecmp(line, changed, sizeof(changed) - 1) == 0 &&
	    (line[sizeof(changed) - 1] == '\0' || line[sizeof(changed) - 1] == ' ')) {
		/* `petrel user|alias|domain ...` wrote: remembered lookups are
		 * stale, and so are the logins of the user named, if any (an
		 * old password, or a deleted or disabled user). */
		const char *name = line + sizeof(changed) - 1;
		name += *name == ' ';
		userdb_version_advance();
		unsigned n =
		    *name ? credential_cache_flush(credential_cache_current(), name) : 0;
		log_msg(L_INFO, "event=userdb-changed user=%s credentials_flushed=%u",
		        LOG_Q(name), n);
		buf_appendf(&req->out, "ok\n%u\n", n);
		respond(req);
		return;
	}
	r = parse_request(req, line);
	const struct control_hooks *h = &req->control->hooks;
	if (r == 0 && req->op == OP_RETRY) {
		h->attempt_now(h->queue, req->id[0] ? req->id : NULL);
		buf_appendf(&req->out, "ok\n%s scheduled for delivery now\n",
		            req->id[0] ? req->id : "every deferred message");
		r = 1;
	}
	if (r == 0 && req->op == OP_STATS) {
		/* The shared counters of every process, as /metrics has them. */
		buf_append_str(&req->out, "ok\n");
		if (metrics_current())
			metrics_render(metrics_current(), &req->out);
		respond(req);
		return;
	}
	if (r == 0 && (req->op == OP_DELETE || req->op == OP_BOUNCE) &&
	    h->is_active(h->queue, req->id)) {
		buf_appendf(&req->out,
		            "error: %s is being delivered; try again shortly\n", req->id);
		r = -1;
	}
	if (r != 0) {
		respond(req);
		return;
	}
	/* Looking is routine (debug); changing a message is worth a line. */
	bool looks = req->op == OP_LIST || req->op == OP_SHOW || req->op == OP_STATS;
	log_msg(looks ? L_DEBUG : L_INFO, "event=control op=%s id=%s", op_names[req->op],
	        req->id[0] ? req->id : "-");
	req->working = true;
	workpool_submit(req->control->pool, &req->work);
}

static void on_end(struct conn *conn, void *arg, enum conn_end why)
{
	(void)conn;
	(void)why;
	struct request *req = arg;
	if (req->working)
		req->gone = true; /* freed when the work comes back */
	else
		request_free(req);
}

static const struct conn_handlers request_handlers = {
    .input = on_input,
    .end = on_end,
};

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd,
                      struct sockaddr *addr, int len, void *arg)
{
	(void)listener;
	struct control *c = arg;
	struct request *req = xcalloc(1, sizeof(*req));
	req->control = c;
	req->work.run = request_run;
	req->work.done = request_done;
	struct conn_settings settings = {
	    .idle_seconds = REQUEST_SECONDS,
	    .input_max = 4 * REQUEST_MAX,
	};
	req->conn = conn_accept(c->base, fd, addr, (socklen_t)len, NULL, &settings,
	                        &request_handlers, req);
}

struct control *control_start(struct event_base *base, struct workpool *pool,
                              struct spool *spool, const struct control_hooks *hooks,
                              const char **error_r)
{
	struct control *c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->pool = pool;
	c->spool = spool;
	c->hooks = *hooks;
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/../%s", spool->queue_dir, CONTROL_SOCKET);
	c->path = path.data;
	c->listener = listener_unix_private(base, c->path, 16, on_accept, c, error_r);
	if (c->listener == NULL) {
		free(c->path);
		free(c);
		return NULL;
	}
	return c;
}

void control_stop(struct control **control)
{
	struct control *c = *control;
	if (c == NULL)
		return;
	evconnlistener_free(c->listener);
	unlink(c->path);
	free(c->path);
	x_free(control);
}
