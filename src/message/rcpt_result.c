/*
 * rcpt_result.c — recipient outcomes (see rcpt_result.h).
 */
#include "message/rcpt_result.h"

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
