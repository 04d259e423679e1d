/*
 * master.c — process supervision (see master.h).
 *
 *   master ── queue (one: the spool has one scheduler)
 *          └─ worker × N (SMTP sessions; each accepts on the shared sockets)
 *
 * Children die with the master (PR_SET_PDEATHSIG): a killed master never
 * leaves a second queue process running against the same spool.
 * Reload (SIGHUP) starts workers with the new configuration and lets the
 * old ones finish their sessions; the queue process is replaced only
 * after the old one has exited, for the same reason.
 */
#include "master/master.h"
#include "master/master_control.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth_server.h"
#include "auth/credential_cache.h"
#include "auth/lookup_cache.h"
#include "auth/password.h"
#include "auth/penalty.h"
#include "auth/userdb_setup.h"
#include "lib/buf.h"
#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/xalloc.h"
#include "ipc/ipc.h"
#include "lib/privilege.h"
#include "net/listener.h"
#include "net/tls.h"
#include "queue/queue.h"
#include "queue/spool.h"
#include "master/services.h"
#include "service/ip_count.h"
#include "service/worker.h"

#define MAX_CHILDREN          300
#define STOP_DEADLINE_SECONDS 30
/* Login failure slots (about 40 octets each), shared by all workers. */
#define PENALTY_SLOTS 65536

enum child_kind { CHILD_WORKER, CHILD_QUEUE, CHILD_AUTH };

static const char *const child_kind_names[] = {"worker", "queue", "auth"};

struct child {
	pid_t pid;
	enum child_kind kind;
	unsigned generation;
	time_t started; /* CLOCK_MONOTONIC seconds */
	unsigned round; /* the (re)start round that spawned it */
	int ip_region;  /* a worker's region of the per-IP counts, or -1 */
};

/* A child that fails sooner than this after its start failed at start:
 * restarts back off (1, 2, 4, 8 s), and after START_FAILURES_MAX such
 * failures in a row the master gives up rather than keep listeners open
 * with nobody behind them. */
#define FAST_FAILURE_SECONDS 5
#define START_FAILURES_MAX   5

struct master {
	struct config *config;
	const char *config_path;
	const char *home_override;
	struct event_base *base;
	SSL_CTX *tls;
	int *listen_fds; /* one per config->listen entry */
	int notify_fds[2];
	uid_t uid;
	gid_t gid;
	struct child children[MAX_CHILDREN];
	unsigned generation;
	bool stopping;
	bool queue_wanted;       /* start a queue when the old one has gone */
	unsigned start_failures; /* rounds in a row whose children died at start */
	unsigned round;          /* incremented by every restart round */
	unsigned failed_round;   /* the last round counted in start_failures */
	bool respawn_pending;
	int exit_status;
	struct penalty_table *penalty;         /* login failures, shared with workers */
	struct ip_count_table *ip_counts;      /* connections per IP, shared too */
	struct metrics_store *metrics;         /* counters of every process */
	struct credential_cache *credentials;  /* verified logins, shared */
	struct userdb_version *userdb_version; /* lookup_cache.h */
	struct master_control *control;        /* run/master.sock */
	time_t start_time;                     /* wall clock, for status */
};

static unsigned worker_count(const struct config *config)
{
	if (config->workers)
		return config->workers;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 0 ? (unsigned)cores : 1;
}

/* Sized at start for the workers of this configuration and those of a
 * reload retiring beside them: each worker's region holds as many
 * addresses as its busiest listener takes connections. */
static struct ip_count_table *create_ip_counts(const struct config *c,
                                               const char **error_r)
{
	unsigned per_worker = 16;
	for (size_t i = 0; i < c->listen_count; i++)
		if (c->listen[i].limits.connections > per_worker)
			per_worker = c->listen[i].limits.connections;
	if (per_worker > 65536)
		per_worker = 65536;
	return ip_count_create(2 * worker_count(c) + 2, per_worker, error_r);
}

/* The user database belongs to root when we are root (only the auth
 * process opens it), else to whoever runs petrel. */
static unsigned db_owner(unsigned unprivileged)
{
	return geteuid() == 0 ? 0 : unprivileged;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The state directories, owned by the unprivileged user. */
static int prepare_home(struct master *m, const char **error_r)
{
	const struct config *c = m->config;
	struct spool spool;
	if (fs_mkdir_p(c->home, 0755, error_r) < 0 ||
	    spool_open(&spool, c->home, error_r) < 0)
		return -1;
	struct buf path = BUF_INIT;
	/* run/: the auth process's socket, in a directory no worker can
	 * write, so that none can put another socket in its place. */
	buf_appendf(&path, "%s/run", c->home);
	int r = fs_mkdir_p(path.data, 0755, error_r);
	if (r == 0)
		r = privilege_chown(path.data, db_owner(m->uid), db_owner(m->gid),
		                    error_r);
	buf_reset(&path);
	buf_appendf(&path, "%s/mail", c->home);
	if (r == 0)
		r = fs_mkdir_p(path.data, 0700, error_r);
	const char *owned[] = {path.data, spool.tmp_dir, spool.queue_dir, spool.free_dir,
	                       NULL};
	for (int i = 0; r == 0 && owned[i]; i++)
		r = privilege_chown(owned[i], m->uid, m->gid, error_r);
	buf_reset(&path);
	buf_appendf(&path, "%s/spool", c->home);
	if (r == 0)
		r = privilege_chown(path.data, m->uid, m->gid, error_r);
	/* Not acknowledged, so not ours to keep: a crash mid-write. */
	/* Everything the queue and the workers will open, checked now as
	 * their account: a home they cannot reach would otherwise make them
	 * die at start, over and over, behind listeners that stay open. */
	buf_reset(&path);
	buf_appendf(&path, "%s/mail", c->home);
	const char *needed[] = {spool.tmp_dir, spool.queue_dir, spool.free_dir, path.data,
	                        NULL};
	const char *why;
	if (r == 0 && privilege_check_access(needed, R_OK | W_OK | X_OK, m->uid, m->gid,
	                                     &why) < 0) {
		*error_r =
		    error_fmt("the state directory %s is not usable by user %s "
		              "(uid %d): %s",
		              c->home, geteuid() == 0 ? c->run_as : "running petrel",
		              (int)m->uid, why);
		r = -1;
	}
	if (r == 0)
		spool_discard_partial(&spool);
	spool_close(&spool);
	buf_free(&path);
	return r;
}

static int bind_listeners(const struct config *c, const struct config *old,
                          const int *old_fds, int **fds_r, const char **error_r)
{
	int *fds = xcalloc(c->listen_count ? c->listen_count : 1, sizeof(*fds));
	for (size_t i = 0; i < c->listen_count; i++) {
		fds[i] = -1;
		for (size_t j = 0; old && j < old->listen_count; j++)
			if (old_fds[j] >= 0 &&
			    strcmp(old->listen[j].address, c->listen[i].address) == 0)
				fds[i] = dup(old_fds[j]);
		if (fds[i] < 0)
			fds[i] = listener_bind(&c->listen[i], c->home, error_r);
		if (fds[i] < 0) {
			for (size_t k = 0; k < i; k++)
				close(fds[k]);
			free(fds);
			return -1;
		}
		log_msg(L_INFO, "event=listening protocol=%s address=%s tls=%s",
		        listen_protocol_name(c->listen[i].protocol), c->listen[i].address,
		        tls_mode_name(c->listen[i].tls));
	}
	*fds_r = fds;
	return 0;
}

static void close_listeners(int *fds, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

static int run_worker(struct master *m, int ip_region, const char **error_r)
{
	const struct config *c = m->config;
	const struct service **services = xcalloc(c->listen_count + 1, sizeof(*services));
	for (size_t i = 0; i < c->listen_count; i++)
		services[i] = service_for(c->listen[i].protocol);
	struct worker_setup setup = {
	    .config = c,
	    .tls = m->tls,
	    .listen_fds = m->listen_fds,
	    .services = services,
	    .queue_notify_fd = m->notify_fds[0],
	    .ip_counts = m->ip_counts,
	    .ip_region = ip_region,
	};
	int r = worker_run(&setup, error_r);
	free(services);
	return r;
}

static void child_main(struct master *m, enum child_kind kind, int ip_region,
                       const sigset_t *mask)
{
	pid_t master_pid = getppid();
	/* The master's loop and signal handlers are not the child's. The
	 * epoll instance is shared across fork: reinit first, or freeing
	 * the base would unregister the master's own events. */
	event_reinit(m->base);
	master_control_forget(&m->control);
	event_base_free(m->base);
	/* Signals were blocked across the fork: one arriving before this
	 * point would have run the master's handler, inherited, and been
	 * lost (a SIGTERM just after a spawn left a worker running). Now
	 * the defaults apply until the child's own loop takes over; a reload
	 * must not kill it meanwhile. */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	sigprocmask(SIG_SETMASK, mask, NULL);
	const char *error;
	/* The auth process keeps root: the user database is root's, so that
	 * the unprivileged processes facing the network cannot open it. */
	if (kind != CHILD_AUTH && privilege_drop(m->uid, m->gid, &error) < 0)
		log_msg(L_FATAL, "event=privilege-drop-failed error=%s", LOG_Q(error));
	/* Only now: changing credentials clears the death signal, and a child
	 * that outlives a killed master would keep the ports (and a queue the
	 * spool). A master that died before this point is caught by getppid. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != master_pid)
		_exit(1);
	int r;
	if (kind == CHILD_AUTH) {
		log_set_process("auth");
		close(m->notify_fds[0]);
		close(m->notify_fds[1]);
		close_listeners(m->listen_fds, m->config->listen_count);
		SSL_CTX_free(m->tls);
		m->tls = NULL;
		r = auth_server_run(m->config, &error);
	} else if (kind == CHILD_QUEUE) {
		log_set_process("queue");
		config_forget_secrets(m->config, true);
		close(m->notify_fds[0]);
		close_listeners(m->listen_fds, m->config->listen_count);
		r = queue_run(m->config, m->notify_fds[1], &error);
	} else {
		log_set_process("worker"); /* it hosts every protocol, not SMTP alone */
		config_forget_secrets(m->config, false);
		close(m->notify_fds[1]);
		r = run_worker(m, ip_region, &error);
	}
	if (r < 0)
		log_msg(L_ERROR, "event=child-failed error=%s", LOG_Q(error));
	_exit(r < 0 ? 1 : 0);
}

static time_t monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static struct child *free_slot(struct master *m)
{
	for (size_t i = 0; i < MAX_CHILDREN; i++)
		if (m->children[i].pid == 0)
			return &m->children[i];
	return NULL;
}

static void spawn(struct master *m, enum child_kind kind)
{
	struct child *slot = free_slot(m);
	if (slot == NULL) {
		log_msg(L_ERROR, "event=spawn-failed reason=\"too many children\"");
		return;
	}
	sigset_t block, mask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	int ip_region = kind == CHILD_WORKER ? ip_count_claim_region(m->ip_counts) : -1;
	if (kind == CHILD_WORKER && ip_region < 0)
		log_msg(L_WARN,
		        "event=ip-counts-full reason=\"too many workers at once: this "
		        "one does not count connections per IP\"");
	sigprocmask(SIG_BLOCK, &block, &mask);
	pid_t pid = fork();
	if (pid == 0)
		child_main(m, kind, ip_region, &mask);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	if (pid < 0) {
		log_msg(L_ERROR, "event=fork-failed error=%s", LOG_Q(strerror(errno)));
		ip_count_release_region(m->ip_counts, ip_region);
		return;
	}
	*slot = (struct child){pid,      kind,     m->generation, monotonic_seconds(),
	                       m->round, ip_region};
	log_msg(L_INFO, "event=spawned kind=%s child=%d", child_kind_names[kind],
	        (int)pid);
}

static unsigned live_children(const struct master *m, int kind)
{
	unsigned n = 0;
	for (size_t i = 0; i < MAX_CHILDREN; i++)
		if (m->children[i].pid && (kind < 0 || (int)m->children[i].kind == kind))
			n++;
	return n;
}

static void signal_children(struct master *m, int sig, int kind, bool old_only)
{
	for (size_t i = 0; i < MAX_CHILDREN; i++) {
		struct child *c = &m->children[i];
		if (c->pid == 0 || (kind >= 0 && (int)c->kind != kind))
			continue;
		if (old_only && c->generation == m->generation)
			continue;
		kill(c->pid, sig);
	}
}

static void respawn_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	struct master *m = arg;
	(void)what;
	m->respawn_pending = false;
	if (m->stopping)
		return;
	m->round++;
	/* Top up to the configured numbers. */
	if (live_children(m, CHILD_AUTH) == 0)
		spawn(m, CHILD_AUTH);
	if (live_children(m, CHILD_QUEUE) == 0)
		spawn(m, CHILD_QUEUE);
	unsigned current = 0;
	for (size_t i = 0; i < MAX_CHILDREN; i++)
		if (m->children[i].pid && m->children[i].kind == CHILD_WORKER &&
		    m->children[i].generation == m->generation)
			current++;
	for (unsigned n = current; n < worker_count(m->config); n++)
		spawn(m, CHILD_WORKER);
}

static void begin_stop(struct master *m);

/* Stopping: the auth process goes last, once the workers and the queue
 * (its clients, finishing what is in flight) have gone. */
static void stop_auth_when_alone(struct master *m)
{
	if (live_children(m, -1) == live_children(m, CHILD_AUTH))
		signal_children(m, SIGTERM, CHILD_AUTH, false);
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	struct master *m = arg;
	int status;
	pid_t pid;
	bool restart = false;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < MAX_CHILDREN; i++) {
			struct child *c = &m->children[i];
			if (c->pid != pid)
				continue;
			bool current = c->generation == m->generation;
			bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
			/* Rounds, not children: a queue and a worker failing for
			 * the same reason are one failed start. */
			if (!clean &&
			    monotonic_seconds() - c->started < FAST_FAILURE_SECONDS) {
				if (c->round != m->failed_round || m->start_failures == 0)
					m->start_failures++;
				m->failed_round = c->round;
			} else {
				m->start_failures = 0;
			}
			log_msg(clean ? L_INFO : L_ERROR,
			        "event=child-exit kind=%s child=%d status=%d%s",
			        child_kind_names[c->kind], (int)pid,
			        WIFEXITED(status) ? WEXITSTATUS(status)
			                          : 128 + WTERMSIG(status),
			        current && !m->stopping && !clean ? " restart=yes" : "");
			/* Whatever a dead worker still counted is given back:
			 * a crash must not leave its clients locked out. */
			unsigned returned =
			    ip_count_release_region(m->ip_counts, c->ip_region);
			if (returned)
				log_msg(
				    L_INFO,
				    "event=ip-counts-returned child=%d connections=%u",
				    (int)pid, returned);
			if (c->kind == CHILD_QUEUE && m->queue_wanted) {
				m->queue_wanted = false;
				restart = true;
			} else if (current && !m->stopping) {
				restart = true;
			}
			c->pid = 0;
		}
	}
	if (m->stopping && live_children(m, -1) == 0) {
		event_base_loopbreak(m->base);
		return;
	}
	if (m->stopping)
		stop_auth_when_alone(m);
	if (restart && m->start_failures >= START_FAILURES_MAX) {
		log_msg(L_ERROR,
		        "event=giving-up reason=\"children keep failing at start\" "
		        "failures=%u",
		        m->start_failures);
		m->exit_status = 1;
		begin_stop(m);
		return;
	}
	if (restart && !m->respawn_pending) {
		/* A child that dies at once must not make us fork in a loop. */
		m->respawn_pending = true;
		unsigned shift = m->start_failures > 1 ? m->start_failures - 1 : 0;
		struct timeval delay = {1 << (shift < 5 ? shift : 5), 0};
		event_base_once(m->base, -1, EV_TIMEOUT, respawn_later, m, &delay);
	}
}

static void stop_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct master *m = arg;
	log_msg(L_WARN, "event=stop-deadline children=%u", live_children(m, -1));
	signal_children(m, SIGKILL, -1, false);
}

static void on_sigterm(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct master *m = arg;
	if (m->stopping)
		return;
	log_msg(L_INFO, "event=stopping signal=%d children=%u", (int)sig,
	        live_children(m, -1));
	begin_stop(m);
}

/* Stops accepting at once, then asks every child to finish. */
static void begin_stop(struct master *m)
{
	m->stopping = true;
	close_listeners(m->listen_fds, m->config->listen_count);
	m->listen_fds = NULL;
	signal_children(m, SIGTERM, CHILD_WORKER, false);
	signal_children(m, SIGTERM, CHILD_QUEUE, false);
	stop_auth_when_alone(m);
	struct timeval deadline = {STOP_DEADLINE_SECONDS, 0};
	event_base_once(m->base, -1, EV_TIMEOUT, stop_deadline, m, &deadline);
	if (live_children(m, -1) == 0)
		event_base_loopbreak(m->base);
}

/* Loads the configuration again and hands it to fresh children; the
 * running one stays when anything in the new one fails. */
static int reload(struct master *m, const char **error_r)
{
	if (m->stopping) {
		*error_r = "petrel is stopping";
		return -1;
	}
	struct config *fresh = config_load(m->config_path, m->home_override, error_r);
	if (fresh == NULL) {
		log_msg(L_ERROR, "event=reload-failed error=%s", LOG_Q(*error_r));
		return -1;
	}
	int *fds;
	SSL_CTX *tls = tls_server_context(fresh, error_r);
	int prepared =
	    tls ? userdb_prepare(fresh, db_owner(m->uid), db_owner(m->gid), true, error_r)
	        : -1;
	/* The configuration's users, domains and aliases may have changed. */
	userdb_version_advance();
	if (prepared < 0 ||
	    bind_listeners(fresh, m->config, m->listen_fds, &fds, error_r) < 0) {
		log_msg(L_ERROR, "event=reload-failed error=%s", LOG_Q(*error_r));
		SSL_CTX_free(tls);
		config_free(&fresh);
		return -1;
	}
	log_msg(L_INFO, "event=reloaded config=%s", LOG_Q(fresh->source));
	close_listeners(m->listen_fds, m->config->listen_count);
	config_free(&m->config);
	SSL_CTX_free(m->tls);
	m->config = fresh;
	m->tls = tls;
	m->listen_fds = fds;
	log_init("master", fresh->log.level, fresh->log.syslog);
	m->generation++;
	/* Old workers stop accepting and serve their sessions to the end
	 * (SIGHUP: retire); new ones start now. The queue is replaced once
	 * the old one has exited (on_sigchld). */
	signal_children(m, SIGHUP, CHILD_WORKER, true);
	/* A new auth process with the new settings; the old one finishes
	 * what it was asked and goes (it leaves the new one's socket). */
	signal_children(m, SIGTERM, CHILD_AUTH, true);
	spawn(m, CHILD_AUTH);
	if (live_children(m, CHILD_QUEUE) > 0) {
		m->queue_wanted = true;
		signal_children(m, SIGTERM, CHILD_QUEUE, true);
	}
	for (unsigned n = 0; n < worker_count(m->config); n++)
		spawn(m, CHILD_WORKER);
	return 0;
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	const char *error;
	reload(arg, &error); /* a failure is logged */
}

/* --- the control socket (master_control.h) -------------------------------- */

static void control_status(void *arg, struct buf *out)
{
	struct master *m = arg;
	const struct config *c = m->config;
	long up = (long)(time(NULL) - m->start_time);
	char since[32];
	struct tm tm;
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ",
	         gmtime_r(&m->start_time, &tm));
	buf_appendf(out,
	            "pid: %ld\nversion: %s\nuptime: %ldd %ldh %ldm %lds (since %s)\n",
	            (long)getpid(), PETREL_VERSION, up / 86400, up / 3600 % 24,
	            up / 60 % 60, up % 60, since);
	buf_appendf(out, "config: %s\nhome: %s\nhostname: %s\n", c->source, c->home,
	            c->hostname);
	buf_appendf(out, "processes: workers %u, queue %u, auth %u%s\n",
	            live_children(m, CHILD_WORKER), live_children(m, CHILD_QUEUE),
	            live_children(m, CHILD_AUTH), m->stopping ? " (stopping)" : "");
	for (size_t i = 0; i < c->listen_count; i++)
		buf_appendf(out, "listener: %s %s tls=%s\n",
		            listen_protocol_name(c->listen[i].protocol),
		            c->listen[i].address, tls_mode_name(c->listen[i].tls));
	buf_appendf(out, "queue: %lld messages, oldest %llds\n",
	            (long long)metrics_value(METRIC_QUEUE_MESSAGES, ""),
	            (long long)metrics_value(METRIC_QUEUE_OLDEST, ""));
}

static int control_reload(void *arg, const char **error_r)
{
	return reload(arg, error_r);
}

static void control_stop(void *arg)
{
	struct master *m = arg;
	if (m->stopping)
		return;
	log_msg(L_INFO, "event=stopping by=control children=%u", live_children(m, -1));
	begin_stop(m);
}

int master_run(struct config *config, const char *config_path, const char *home_override)
{
	struct master m = {
	    .config = config, .config_path = config_path, .home_override = home_override};
	const char *error;
	log_init("master", config->log.level, config->log.syslog);
	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);
	if (privilege_lookup(config->run_as, &m.uid, &m.gid, &error) < 0 ||
	    prepare_home(&m, &error) < 0 ||
	    master_pid_file_create(config->home, &error) < 0 ||
	    password_init(&error) < 0 ||
	    userdb_prepare(config, db_owner(m.uid), db_owner(m.gid), true, &error) < 0 ||
	    (m.penalty = penalty_table_create(PENALTY_SLOTS, &error)) == NULL ||
	    (m.ip_counts = create_ip_counts(config, &error)) == NULL ||
	    (m.metrics = metrics_create(&error)) == NULL ||
	    (config->auth.cache_size > 0 &&
	     (m.credentials = credential_cache_create(config->auth.cache_size, &error)) ==
	         NULL) ||
	    (m.userdb_version = userdb_version_create(&error)) == NULL ||
	    (m.tls = tls_server_context(config, &error)) == NULL ||
	    bind_listeners(config, NULL, NULL, &m.listen_fds, &error) < 0 ||
	    ipc_socketpair(m.notify_fds) < 0) {
		log_msg(L_ERROR, "event=start-failed error=%s", LOG_Q(error));
		master_pid_file_remove(config->home);
		config_free(&m.config);
		return 1;
	}
	penalty_table_set_current(m.penalty); /* workers inherit it */
	credential_cache_set_current(m.credentials);
	userdb_version_set_current(m.userdb_version);
	metrics_set(METRIC_START_TIME, "", (int64_t)time(NULL));
	log_msg(L_INFO, "event=start config=%s home=%s hostname=%s workers=%u",
	        LOG_Q(config->source), LOG_Q(config->home), LOG_Q(config->hostname),
	        worker_count(config));
	m.base = event_base_new();
	m.start_time = time(NULL);
	const struct master_control_hooks control_hooks = {&m, control_status,
	                                                   control_reload, control_stop};
	m.control = master_control_start(m.base, config->home, &control_hooks, &error);
	if (m.control == NULL) /* petrel stop and reload still work by signal */
		log_msg(L_ERROR, "event=control-socket-failed error=%s", LOG_Q(error));
	struct event *signals[] = {
	    evsignal_new(m.base, SIGTERM, on_sigterm, &m),
	    evsignal_new(m.base, SIGINT, on_sigterm, &m),
	    evsignal_new(m.base, SIGHUP, on_sighup, &m),
	    evsignal_new(m.base, SIGCHLD, on_sigchld, &m),
	};
	for (size_t i = 0; i < 4; i++)
		event_add(signals[i], NULL);
	spawn(&m, CHILD_AUTH);
	spawn(&m, CHILD_QUEUE);
	for (unsigned n = 0; n < worker_count(config); n++)
		spawn(&m, CHILD_WORKER);

	event_base_dispatch(m.base);

	log_msg(L_INFO, "event=stopped");
	master_control_stop(&m.control);
	master_pid_file_remove(m.config->home);
	for (size_t i = 0; i < 4; i++)
		event_free(signals[i]);
	event_base_free(m.base);
	if (m.listen_fds)
		close_listeners(m.listen_fds, m.config->listen_count);
	close(m.notify_fds[0]);
	close(m.notify_fds[1]);
	SSL_CTX_free(m.tls);
	penalty_table_destroy(&m.penalty);
	ip_count_destroy(&m.ip_counts);
	metrics_destroy(&m.metrics);
	credential_cache_destroy(&m.credentials);
	userdb_version_destroy(&m.userdb_version);
	config_free(&m.config);
	return m.exit_status;
}
