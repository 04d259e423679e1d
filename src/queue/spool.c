/*
 * spool.c — spool directories (see spool.h).
 */
#include "queue/spool.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/xalloc.h"

int spool_open(struct spool *spool, const char *home, const char **error_r)
{
	struct buf path = BUF_INIT;
	buf_appendf(&path, "%s/spool/tmp", home);
	spool->tmp_dir = xstrdup(path.data);
	buf_reset(&path);
	buf_appendf(&path, "%s/spool/queue", home);
	spool->queue_dir = xstrdup(path.data);
	buf_reset(&path);
	buf_appendf(&path, "%s/spool/free", home);
	spool->free_dir = xstrdup(path.data);
	buf_free(&path);
	spool->free_hint = 0;
	if (fs_mkdir_p(spool->tmp_dir, 0700, error_r) < 0 ||
	    fs_mkdir_p(spool->queue_dir, 0700, error_r) < 0 ||
	    fs_mkdir_p(spool->free_dir, 0700, error_r) < 0) {
		spool_close(spool);
		return -1;
	}
	return 0;
}

void spool_close(struct spool *spool)
{
	x_free(&spool->tmp_dir);
	x_free(&spool->queue_dir);
	x_free(&spool->free_dir);
}

void spool_path(struct buf *out, const char *dir, const char *name, const char *suffix)
{
	buf_reset(out);
	buf_appendf(out, "%s/%s%s", dir, name, suffix);
}

void spool_discard_partial(const struct spool *spool)
{
	DIR *dir = opendir(spool->tmp_dir);
	if (dir == NULL)
		return;
	struct buf path = BUF_INIT;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		spool_path(&path, spool->tmp_dir, entry->d_name, "");
		if (unlink(path.data) == 0)
			log_msg(L_INFO, "event=spool-discard-partial file=%s",
			        LOG_Q(entry->d_name));
	}
	buf_free(&path);
	closedir(dir);
}

void spool_retire(struct spool *spool, const char *id)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	spool_path(&from, spool->queue_dir, id, "");
	spool_path(&to, spool->free_dir, id, "");
	bool keep =
	    __atomic_fetch_add(&spool->free_hint, 1, __ATOMIC_RELAXED) < SPOOL_FREE_MAX;
	/* Emptied first: free/ must hold no mail and no disk space. */
	if (!keep || truncate(from.data, 0) < 0 || rename(from.data, to.data) < 0) {
		if (keep)
			__atomic_fetch_sub(&spool->free_hint, 1, __ATOMIC_RELAXED);
		if (unlink(from.data) < 0 && errno != ENOENT)
			log_msg(L_ERROR, "event=spool-unlink-failed id=%s error=%s", id,
			        LOG_Q(strerror(errno)));
	}
	buf_free(&from);
	buf_free(&to);
}

void spool_count_free(struct spool *spool)
{
	DIR *dir = opendir(spool->free_dir);
	if (dir == NULL)
		return;
	unsigned count = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL)
		count += entry->d_name[0] != '.';
	closedir(dir);
	__atomic_store_n(&spool->free_hint, count, __ATOMIC_RELAXED);
}
