/*
 * userdb_watch.c — see userdb_watch.h.
 */
#include "auth/userdb_watch.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "auth/lookup_cache.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define WATCHED                                                                          \
	(IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |               \
	 IN_DELETE_SELF | IN_MOVE_SELF)

struct userdb_watch {
	int fd;
	struct event *event;
	char *name; /* the database's file name */
};

/* Whether event e on file name in the directory can mean new data: a
 * commit writes the -wal (or, without WAL, the -journal and the database),
 * a checkpoint the database; the database itself may be replaced. Not
 * -shm, which readers map, nor a -wal being created, which SQLite does
 * when it opens the database. */
static bool is_change(const struct userdb_watch *w, const struct inotify_event *e)
{
	size_t n = strlen(w->name);
	if (e->len == 0 || strncmp(e->name, w->name, n) != 0)
		return false;
	const char *suffix = e->name + n;
	if (suffix[0] == '\0')
		return true;
	return (e->mask & IN_MODIFY) &&
	       (strcmp(suffix, "-wal") == 0 || strcmp(suffix, "-journal") == 0);
}

static void on_change(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct userdb_watch *w = arg;
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	ssize_t n;
	while ((n = read(fd, events, sizeof(events))) > 0) {
		for (char *p = events; p < events + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			if ((e->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF)) ||
			    is_change(w, e))
				changed = true;
			p += sizeof(*e) + e->len;
		}
	}
	if (changed)
		userdb_version_advance();
}

struct userdb_watch *userdb_watch_start(struct event_base *base,
                                        const struct config *config)
{
	if (config->auth.backend != AUTH_BACKEND_SQLITE)
		return NULL;
	struct userdb_watch *w = xcalloc(1, sizeof(*w));
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", config->auth.dsn);
	char *slash = strrchr(dir, '/');
	w->name = xstrdup(slash ? slash + 1 : dir);
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0'; /* "/users.sqlite": "/" */
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0 || inotify_add_watch(w->fd, dir, WATCHED) < 0) {
		log_msg(L_WARN, "event=userdb-watch-failed directory=%s error=%s note=%s",
		        LOG_Q(dir), LOG_Q(strerror(errno)),
		        LOG_Q("changes made outside petrel's commands are seen within "
		              "a minute, not at once"));
		if (w->fd >= 0)
			close(w->fd);
		free(w->name);
		free(w);
		return NULL;
	}
	w->event = event_new(base, w->fd, EV_READ | EV_PERSIST, on_change, w);
	event_add(w->event, NULL);
	return w;
}

void userdb_watch_stop(struct userdb_watch **watch)
{
	struct userdb_watch *w = *watch;
	if (w == NULL)
		return;
	event_free(w->event);
	close(w->fd);
	free(w->name);
	x_free(watch);
}
