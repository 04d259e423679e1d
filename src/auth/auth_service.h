/*
 * auth_service.h — asking the auth process (auth_server.h), for code on
 * an event loop.
 *
 * A question blocks until the auth process answers (a password check
 * takes an argon2id), so it is asked from the service's threads, each
 * with its own connection (auth_client_for_thread). A job's run() gets
 * that client, and its done() runs later on the loop. A session that goes
 * away while its job runs clears job->owner; done() must then only free
 * the job.
 */
#ifndef PETREL_AUTH_SERVICE_H
#define PETREL_AUTH_SERVICE_H

#include <event2/event.h>

#include "auth/auth_client.h"
#include "lib/config.h"
#include "lib/workpool.h"

struct auth_job {
	struct work work;
	const struct config *config;
	void (*run)(struct auth_job *job, struct auth_client *client); /* on a thread */
	void (*done)(struct auth_job *job);                            /* on the loop */
	void *owner;
	char error[256]; /* why the auth process could not answer, or "" */
};

struct auth_service;

struct auth_service *auth_service_create(struct event_base *base,
                                         const struct config *config);
/* Waits for jobs in flight (their done() still runs). */
void auth_service_destroy(struct auth_service **service);
void auth_service_submit(struct auth_service *service, struct auth_job *job);

/* Copies an error (error_fmt text is per thread) into job->error. */
void auth_job_fail(struct auth_job *job, const char *error);

#endif
