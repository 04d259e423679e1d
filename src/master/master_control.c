/*
 * master_control.c — the master's pid file and control socket (see
 * master_control.h).
 */
#include "master/master_control.h"

#include <errno.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/conn.h"
#include "net/listener.h"

#define REQUEST_MAX     64
#define REQUEST_SECONDS 10

struct request {
	struct master_control *control;
	struct request *prev, *next;
	int fd;
	struct conn *conn;
	struct buf out;
	bool stop_after; /* `stop`: once the answer is out */
};

struct master_control {
	struct event_base *base;
	struct evconnlistener *listener;
	struct master_control_hooks hooks;
	char *path;
	/* Open requests: a child forked meanwhile (a reload, a respawn)
	 * closes its copies, or the client would wait for an end of file
	 * that only comes when that child exits. */
	struct request *requests;
};

static char *home_path(const char *home, const char *name)
{
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/%s", home, name);
	return path.data;
}

/* The pid in the file, or 0 when there is none or it is not a number. */
static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return pid > 0 ? (pid_t)pid : 0;
}

int master_pid_file_create(const char *home, const char **error_r)
{
	char *path = home_path(home, MASTER_PID_FILE);
	pid_t other = read_pid(path);
	if (other > 0 && other != getpid() && (kill(other, 0) == 0 || errno == EPERM)) {
		*error_r = error_fmt("petrel is already running on %s (pid %ld, %s)",
		                     home, (long)other, path);
		free(path);
		return -1;
	}
	/* Written aside and renamed: a reader never sees half a number. */
	char *tmp = home_path(home, MASTER_PID_FILE ".tmp");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	char text[24];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	int r = fd >= 0 && write(fd, text, (size_t)n) == n ? 0 : -1;
	if (fd >= 0)
		close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -1;
	if (r < 0) {
		*error_r = error_errno(path);
		unlink(tmp);
	}
	free(tmp);
	free(path);
	return r;
}

void master_pid_file_remove(const char *home)
{
	char *path = home_path(home, MASTER_PID_FILE);
	if (read_pid(path) == getpid())
		unlink(path);
	free(path);
}

static void request_free(struct request *req)
{
	struct master_control *c = req->control;
	if (req->prev)
		req->prev->next = req->next;
	else
		c->requests = req->next;
	if (req->next)
		req->next->prev = req->prev;
	conn_free(&req->conn);
	buf_free(&req->out);
	free(req);
}

static void on_input(struct conn *conn, void *arg)
{
	struct request *req = arg;
	const struct master_control_hooks *h = &req->control->hooks;
	char *line;
	size_t len;
	int r = conn_read_line(conn, REQUEST_MAX + 2, &line, &len);
	if (r == 0)
		return;
	conn_pause(conn); /* one request per connection */
	const char *error = NULL;
	if (r < 0) {
		buf_append_str(&req->out, "error: request too long\n");
	} else if (len == 6 && memcmp(line, "status", 6) == 0) {
		buf_append_str(&req->out, "ok\n");
		h->status(h->master, &req->out);
	} else if (len == 6 && memcmp(line, "reload", 6) == 0) {
		log_msg(L_INFO, "event=control op=reload");
		if (h->reload(h->master, &error) == 0)
			buf_append_str(&req->out, "ok\nreloaded\n");
		else
			buf_appendf(&req->out,
			            "error: reload refused, the running configuration "
			            "stays: %s\n",
			            error);
	} else if (len == 4 && memcmp(line, "stop", 4) == 0) {
		log_msg(L_INFO, "event=control op=stop");
		buf_append_str(&req->out, "ok\nstopping\n");
		req->stop_after = true;
	} else {
		buf_append_str(&req->out, "error: expected status, reload or stop\n");
	}
	conn_write(conn, req->out.data, req->out.len);
	conn_close_after_flush(conn);
}

static void on_end(struct conn *conn, void *arg, enum conn_end why)
{
	(void)conn;
	(void)why;
	struct request *req = arg;
	struct master_control *c = req->control;
	bool stop = req->stop_after;
	request_free(req);
	if (stop)
		c->hooks.stop(c->hooks.master);
}

static const struct conn_handlers request_handlers = {
    .input = on_input,
    .end = on_end,
};

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd,
                      struct sockaddr *addr, int len, void *arg)
{
	(void)listener;
	struct master_control *c = arg;
	struct request *req = xcalloc(1, sizeof(*req));
	req->control = c;
	req->fd = fd;
	req->next = c->requests;
	if (c->requests)
		c->requests->prev = req;
	c->requests = req;
	struct conn_settings settings = {
	    .idle_seconds = REQUEST_SECONDS,
	    .input_max = 4 * REQUEST_MAX,
	};
	req->conn = conn_accept(c->base, fd, addr, (socklen_t)len, NULL, &settings,
	                        &request_handlers, req);
}

struct master_control *master_control_start(struct event_base *base, const char *home,
                                            const struct master_control_hooks *hooks,
                                            const char **error_r)
{
	struct master_control *c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->hooks = *hooks;
	c->path = home_path(home, MASTER_SOCKET);
	/* one left by a previous run goes: the pid file said none runs */
	c->listener = listener_unix_private(base, c->path, 4, on_accept, c, error_r);
	if (c->listener == NULL) {
		free(c->path);
		free(c);
		return NULL;
	}
	return c;
}

static void control_free(struct master_control **control, bool remove_file)
{
	struct master_control *c = *control;
	if (c == NULL)
		return;
	evconnlistener_free(c->listener);
	if (remove_file)
		unlink(c->path);
	free(c->path);
	x_free(control);
}

void master_control_stop(struct master_control **control)
{
	control_free(control, true);
}

void master_control_forget(struct master_control **control)
{
	/* The requests' memory stays behind with the master's loop, which
	 * this process never runs; only the descriptors matter. */
	for (struct request *req = *control ? (*control)->requests : NULL; req;
	     req = req->next)
		close(req->fd);
	if (*control)
		(*control)->requests = NULL;
	control_free(control, false);
}
