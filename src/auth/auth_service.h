/*
 * auth_service.h — asking the auth process (auth_server.h) from an event
 * loop, without blocking it and without threads.
 *
 * The service keeps up to auth.threads connections to the auth socket,
 * made as they are needed, each with one request in flight (the auth
 * process answers a connection's requests in turn); more jobs wait in
 * order. A lookup whose connection broke is asked once more on a new one;
 * a SASL step never is. While the auth process is starting or being
 * replaced, connecting is retried for a few seconds before jobs fail.
 * A lookup answered before, with the database unchanged since, is answered
 * from this process's lookup_cache.h without asking.
 *
 * A job is the request to send; its done() runs on the loop with the
 * answer in job->response (the caller clears it, auth_response_clear), or
 * with job->error set when no answer came. A session that goes away while
 * its job is out clears job->owner; done() must then only free the job.
 */
#ifndef PETREL_AUTH_SERVICE_H
#define PETREL_AUTH_SERVICE_H

#include <event2/event.h>

#include "auth/auth_client.h"
#include "auth/auth_proto.h"
#include "lib/config.h"

struct auth_job {
	struct auth_request request;
	struct auth_response response;
	void (*done)(struct auth_job *job);
	void *owner;
	char error[256]; /* why the auth process could not answer, or "" */
	/* the service's */
	struct auth_job *next;
	bool asked_again;
	uint64_t version; /* of the user database when asked (lookup_cache.h) */
};

struct auth_service;

struct auth_service *auth_service_create(struct event_base *base,
                                         const struct config *config);
/* Jobs still waiting or out get done() with an error. */
void auth_service_destroy(struct auth_service **service);
void auth_service_submit(struct auth_service *service, struct auth_job *job);

/* In done(), a lookup's answer: 1, 0, or -1 with job->error saying why
 * (no answer came, or the auth process could not say). */
int auth_job_result(struct auth_job *job);

#endif
