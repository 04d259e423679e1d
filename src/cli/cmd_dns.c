/*
 * cmd_dns.c — `petrel dns lookup NAME [TYPE] [--server IP[:port]] [--json]`
 *
 * The resolver as a command: answers in BIND presentation format, one RR
 * a line, or as JSON. Failures print their stable code and name (see
 * dns/dns_status.h), and the exit status is that code.
 */
#include <event2/event.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "dns/dns_status.h"
#include "dns/present.h"
#include "dns/resolver.h"
#include "dns/upstream.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/netaddr.h"

/* How long the probe before a lookup waits for a server to object. */
#define PROBE_MS 300

struct lookup_run {
	struct event_base *base;
	const struct dns_resolver *resolver;
	const char *name;
	uint16_t type;
	bool json;
	int status;
};

static json_t *rr_json(const ldns_rr *rr)
{
	struct buf owner = BUF_INIT, type = BUF_INIT, data = BUF_INIT;
	char *owner_text = ldns_rdf2str(ldns_rr_owner(rr));
	char *class_text = ldns_rr_class2str(ldns_rr_get_class(rr));
	dns_present_type((uint16_t)ldns_rr_get_type(rr), &type);
	dns_present_rdata(rr, &data);
	json_t *obj = json_pack(
	    "{s:s, s:I, s:s, s:s, s:s}", "name", owner_text ? owner_text : "", "ttl",
	    (json_int_t)ldns_rr_ttl(rr), "class", class_text ? class_text : "", "type",
	    buf_cstr(&type), "data", buf_cstr(&data));
	free(owner_text);
	free(class_text);
	buf_free(&owner);
	buf_free(&type);
	buf_free(&data);
	return obj;
}

static void print_result(void *arg, const struct dns_result *result)
{
	struct lookup_run *run = arg;
	ldns_rr_list *answers = result->packet ? ldns_pkt_answer(result->packet) : NULL;
	size_t count = answers ? ldns_rr_list_rr_count(answers) : 0;
	run->status = result->status;
	/* The resolver's own events would keep the loop alive. */
	event_base_loopbreak(run->base);
	if (run->json) {
		struct buf type = BUF_INIT;
		dns_present_type(run->type, &type);
		json_t *list = json_array();
		for (size_t i = 0; i < count; i++)
			json_array_append_new(list, rr_json(ldns_rr_list_rr(answers, i)));
		json_t *doc =
		    json_pack("{s:{s:s, s:s}, s:i, s:s, s:b, s:o}", "query", "name",
		              run->name, "type", buf_cstr(&type), "code", result->status,
		              "status", dns_status_name(result->status), "secure",
		              result->secure, "answers", list);
		if (result->why_bogus)
			json_object_set_new(doc, "why_bogus",
			                    json_string(result->why_bogus));
		char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(text);
		free(text);
		json_decref(doc);
		buf_free(&type);
		return;
	}
	struct buf line = BUF_INIT;
	for (size_t i = 0; i < count; i++) {
		buf_reset(&line);
		dns_present_rr(ldns_rr_list_rr(answers, i), &line);
		puts(line.data);
	}
	buf_free(&line);
	/* A failure to get an answer names who was asked. */
	bool unanswered = result->status == DNS_TIMEOUT ||
	                  result->status == DNS_SERVFAIL ||
	                  result->status == DNS_REFUSED || result->status == DNS_NETWORK;
	if (result->status != DNS_NOERROR)
		fprintf(stderr, "petrel: %s (%d): %s%s%s%s%s%s\n",
		        dns_status_name(result->status), result->status, run->name,
		        result->why_bogus ? ": " : "",
		        result->why_bogus ? result->why_bogus : "",
		        unanswered ? " (" : "",
		        unanswered ? dns_resolver_upstream(run->resolver) : "",
		        unanswered ? ")" : "");
}

/* Before the lookup: when no server it would ask takes a query at all
 * (nothing listens: the network says so at once), NETWORK (105) naming
 * them, rather than a TIMEOUT after the whole deadline. */
static bool unreachable(const struct dns_resolver *resolver, struct lookup_run *run)
{
	char *const *servers;
	size_t count = dns_resolver_servers(resolver, &servers);
	int why = 0;
	for (size_t i = 0; i < count; i++) {
		why = dns_upstream_probe(servers[i], PROBE_MS);
		if (why == 0)
			return false;
	}
	if (count == 0)
		return false;
	run->status = DNS_NETWORK;
	fprintf(stderr, "petrel: %s (%d): %s: %s (%s)\n", dns_status_name(DNS_NETWORK),
	        DNS_NETWORK, run->name, strerror(why), dns_resolver_upstream(resolver));
	return true;
}

int cmd_dns(const struct cli_options *options, int argc, char **argv)
{
	static const struct option long_options[] = {
	    {"server", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	struct lookup_run run = {.type = LDNS_RR_TYPE_A};
	char *server = NULL;
	int opt;
	optind = 0; /* 0: glibc starts afresh */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		if (opt == 's')
			server = optarg;
		else if (opt == 'j')
			run.json = true;
		else
			return cli_usage_error("dns", "bad option '%s'",
			                       argv[optind - 1]);
	}
	if (argc - optind < 2 || argc - optind > 3 || strcmp(argv[optind], "lookup") != 0)
		return cli_usage_error("dns", "expected: lookup NAME [TYPE]");
	run.name = argv[optind + 1];
	if (argc - optind == 3) {
		run.type = dns_type_parse(argv[optind + 2]);
		if (run.type == 0) {
			fprintf(stderr, "petrel: %s (%d): unknown record type '%s'\n",
			        dns_status_name(DNS_BADTYPE), DNS_BADTYPE,
			        argv[optind + 2]);
			return DNS_BADTYPE;
		}
	}
	struct dns_resolver_config dns = {0};
	struct config *config = NULL;
	const char *error;
	if (server) {
		struct sockaddr_storage ss;
		socklen_t len;
		if (sockaddr_parse_host_port(server, 53, &ss, &len, &error) < 0)
			return cli_usage_error("dns", "--server '%s': %s", server, error);
		dns.servers = &server;
		dns.server_count = 1;
	} else {
		/* The configuration's resolver (the embedded default's: the
		 * name servers of /etc/resolv.conf), as the daemon uses it. */
		config = config_load(options->config_path, options->home, &error);
		if (config == NULL) {
			fprintf(stderr, "petrel: %s\n", error);
			return DNS_INTERNAL;
		}
		dns_resolver_config_from(&dns, config);
	}
	struct event_base *base = event_base_new();
	run.base = base;
	struct dns_resolver *resolver = dns_resolver_create(base, &dns, &error);
	run.resolver = resolver;
	run.status = DNS_INTERNAL;
	if (resolver == NULL) {
		fprintf(stderr, "petrel: %s (%d): %s\n", dns_status_name(DNS_INTERNAL),
		        DNS_INTERNAL, error);
	} else if (unreachable(resolver, &run)) {
		/* said by unreachable() */
	} else if (dns_lookup(resolver, run.name, run.type, print_result, &run, &error) <
	           0) {
		run.status = DNS_BADNAME;
		fprintf(stderr, "petrel: %s (%d): %s: %s\n", dns_status_name(DNS_BADNAME),
		        DNS_BADNAME, run.name, error);
	} else {
		event_base_dispatch(base);
	}
	dns_resolver_destroy(&resolver);
	event_base_free(base);
	config_free(&config);
	return run.status;
}
