/*
 * auth_service.c — see auth_service.h.
 */
#include "auth/auth_service.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/xalloc.h"

struct auth_service {
	struct workpool *pool;
	const struct config *config;
};

struct auth_service *auth_service_create(struct event_base *base,
                                         const struct config *config)
{
	struct auth_service *service = xcalloc(1, sizeof(*service));
	service->pool = workpool_create(base, config->auth.threads);
	service->config = config;
	return service;
}

void auth_service_destroy(struct auth_service **service)
{
	if (*service == NULL)
		return;
	workpool_destroy(&(*service)->pool);
	x_free(service);
}

void auth_job_fail(struct auth_job *job, const char *error)
{
	snprintf(job->error, sizeof(job->error), "%s", error);
}

static void job_run(struct work *work)
{
	struct auth_job *job = (struct auth_job *)work;
	job->run(job, auth_client_for_thread(job->config));
}

static void job_done(struct work *work)
{
	struct auth_job *job = (struct auth_job *)work;
	job->done(job);
}

void auth_service_submit(struct auth_service *service, struct auth_job *job)
{
	job->config = service->config;
	job->error[0] = '\0';
	job->work.run = job_run;
	job->work.done = job_done;
	workpool_submit(service->pool, &job->work);
}
