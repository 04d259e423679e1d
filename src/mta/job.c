/*
 * job.c — failing what is left of a job (see job.h).
 */
#include "mta/job.h"

void mta_job_fail(struct mta_job *job, enum rcpt_outcome outcome, const char *dsn,
                  const char *remote, const char *diagnostic)
{
	for (size_t k = 0; k < job->rcpt_count; k++) {
		struct rcpt_result *r = &job->results[job->rcpts[k]];
		if (r->outcome == OUTCOME_NONE)
			rcpt_result_set(r, outcome, dsn, remote, diagnostic);
	}
}
