/*
 * spool.c — spool directories (see spool.h).
 */
#include "queue/spool.h"

#include <dirent.h>
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
	buf_free(&path);
	if (fs_mkdir_p(spool->tmp_dir, 0700, error_r) < 0 ||
	    fs_mkdir_p(spool->queue_dir, 0700, error_r) < 0) {
		spool_close(spool);
		return -1;
	}
	return 0;
}

void spool_close(struct spool *spool)
{
	x_free(&spool->tmp_dir);
	x_free(&spool->queue_dir);
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
