/*
 * services.c — which service serves each protocol of `listen:`. A new
 * protocol (imap, pop3, http...) is a row here, a name in config_listen.c
 * and a folder implementing service/service.h.
 */
#include "master/services.h"

#include "httpd/httpd.h"
#include "imapd/imapd.h"
#include "pop3d/pop3d.h"
#include "smtpd/smtpd.h"

static const struct {
	enum listen_protocol protocol;
	const struct service *service;
} services[] = {
    {PROTO_SMTP, &smtpd_service},
    {PROTO_SUBMISSION, &smtpd_service},
    {PROTO_HTTP, &httpd_service},
    {PROTO_IMAP, &imapd_service},
    {PROTO_POP3, &pop3d_service},
    {PROTO_LMTP, &smtpd_service},
};

const struct service *service_for(enum listen_protocol protocol)
{
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (services[i].protocol == protocol)
			return services[i].service;
	return NULL;
}
