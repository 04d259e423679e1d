/*
 * job.c — recipient results (see job.h).
 */
#include "mta/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

void rcpt_result_set(struct rcpt_result *r, enum rcpt_outcome outcome, const char *dsn,
                     const char *remote, const char *diagnostic)
{
	rcpt_result_clear(r);
	r->outcome = outcome;
	snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
	r->remote = remote ? xstrdup(remote) : NULL;
	r->diagnostic = diagnostic ? xstrdup(diagnostic) : NULL;
}

void rcpt_result_clear(struct rcpt_result *r)
{
	free(r->remote);
	free(r->diagnostic);
	memset(r, 0, sizeof(*r));
}

void mta_job_fail(struct mta_job *job, enum rcpt_outcome outcome, const char *dsn,
                  const char *remote, const char *diagnostic)
{
	for (size_t k = 0; k < job->rcpt_count; k++) {
		struct rcpt_result *r = &job->results[job->rcpts[k]];
		if (r->outcome == OUTCOME_NONE)
			rcpt_result_set(r, outcome, dsn, remote, diagnostic);
	}
}
