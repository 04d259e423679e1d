/*
 * config_print.c — the effective configuration as YAML, for `petrel
 * check-config`: every default filled in, secrets not shown, values
 * quoted so that the output loads back.
 */
#include <stdio.h>

#include "lib/config.h"
#include "lib/config_auth.h"

void config_print_string(FILE *out, const char *s)
{
	/* Double-quoted YAML with escapes: round-trips any value. */
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void print_string_list(FILE *out, const char *key, char *const *list, size_t count)
{
	fprintf(out, "%s:%s\n", key, count ? "" : " []");
	for (size_t i = 0; i < count; i++) {
		fprintf(out, "  - ");
		config_print_string(out, list[i]);
		fputc('\n', out);
	}
}

static void print_delivery(FILE *out, const struct delivery_config *d)
{
	fprintf(out, "delivery:\n  remote_port: %u\n  source_address: [", d->remote_port);
	char ip[64];
	if (d->have_source4) {
		sockaddr_ip((const struct sockaddr *)&d->source4, ip, sizeof(ip));
		fprintf(out, "\"%s\"%s", ip, d->have_source6 ? ", " : "");
	}
	if (d->have_source6) {
		sockaddr_ip((const struct sockaddr *)&d->source6, ip, sizeof(ip));
		fprintf(out, "\"%s\"", ip);
	}
	fprintf(out,
	        "]\n  tls: %s\n  connect_timeout: %us\n  greeting_timeout: %us\n"
	        "  helo_timeout: %us\n  mail_timeout: %us\n  rcpt_timeout: %us\n"
	        "  data_timeout: %us\n  block_timeout: %us\n  dot_timeout: %us\n"
	        "  idle_time: %us\n  concurrency: %u\n  destination_concurrency: %u\n"
	        "  reuse_messages: %u\n",
	        tls_policy_name(d->tls), d->connect_timeout, d->greeting_timeout,
	        d->helo_timeout, d->mail_timeout, d->rcpt_timeout, d->data_timeout,
	        d->block_timeout, d->dot_timeout, d->idle_seconds, d->concurrency,
	        d->destination_concurrency, d->reuse_messages);
}

static void print_queue(FILE *out, const struct queue_config *q)
{
	fprintf(out, "queue:\n  retry: [");
	for (size_t i = 0; i < q->retry_count; i++)
		fprintf(out, "%s%us", i ? ", " : "", q->retry[i]);
	fprintf(out,
	        "]\n  retry_interval: %us\n  retry_slow_after: %us\n"
	        "  retry_slow_interval: %us\n  delay_warning: %us\n"
	        "  max_lifetime: %us\n",
	        q->retry_interval, q->retry_slow_after, q->retry_slow_interval,
	        q->delay_warning, q->max_lifetime);
}

void config_print(const struct config *c, FILE *out)
{
	const struct limits_config *l = &c->limits;
	fprintf(out, "# effective configuration, from %s\n", c->source);
	fprintf(out, "hostname: ");
	config_print_string(out, c->hostname);
	fprintf(out, "\nhome: ");
	config_print_string(out, c->home);
	fprintf(out, "\nuser: ");
	config_print_string(out, c->run_as);
	fprintf(out, "\nworkers: %u\n", c->workers);
	fprintf(out, "log: {level: %s, syslog: %s}\n", log_level_name(c->log_level),
	        c->log_syslog ? "true" : "false");
	print_string_list(out, "domains", c->domains, c->domain_count);
	fprintf(out, "users:%s\n", c->user_count ? "" : " []");
	for (size_t i = 0; i < c->user_count; i++) {
		fprintf(out, "  - {address: ");
		config_print_string(out, c->users[i].address);
		fprintf(out, ", password: %s}\n",
		        c->users[i].password ? "(set)" : "(none)");
	}
	fprintf(out, "listen:%s\n", c->listen_count ? "" : " []");
	for (size_t i = 0; i < c->listen_count; i++) {
		const struct listen_config *li = &c->listen[i];
		fprintf(out, "  - {protocol: %s, address: ",
		        listen_protocol_name(li->protocol));
		config_print_string(out, li->address);
		fprintf(out, ", tls: %s, client_certificates: %s}\n",
		        tls_mode_name(li->tls),
		        client_cert_mode_name(li->client_certificates));
	}
	fprintf(out, "tls:\n  certificate: ");
	if (c->tls_certificate)
		config_print_string(out, c->tls_certificate);
	else
		fprintf(out, "null  # self-signed, created under home");
	fprintf(out, "\n  key: ");
	if (c->tls_key)
		config_print_string(out, c->tls_key);
	else
		fprintf(out, "null");
	fprintf(out, "\n  client_ca: ");
	if (c->tls_client_ca)
		config_print_string(out, c->tls_client_ca);
	else
		fprintf(out, "null");
	fprintf(out, "\n  client_crl: ");
	if (c->tls_client_crl)
		config_print_string(out, c->tls_client_crl);
	else
		fprintf(out, "null");
	fprintf(out, "\n");
	config_auth_print(out, &c->auth);
	fprintf(out, "relay_networks:%s\n", c->relay_network_count ? "" : " []");
	for (size_t i = 0; i < c->relay_network_count; i++) {
		char text[64];
		cidr_format(&c->relay_networks[i], text, sizeof(text));
		fprintf(out, "  - \"%s\"\n", text);
	}
	print_string_list(out, "relay_domains", c->relay_domains, c->relay_domain_count);
	fprintf(out, "routes:%s\n", c->route_count ? "" : " {}");
	for (size_t i = 0; i < c->route_count; i++) {
		const struct route_config *r = &c->routes[i];
		fprintf(out, "  ");
		config_print_string(out, r->domain);
		fprintf(out, ": %s\"%s%s%s", r->auth.user ? "{next_hop: " : "",
		        r->mx_lookup ? "" : "[", r->host, r->mx_lookup ? "" : "]");
		if (r->port)
			fprintf(out, ":%u", r->port);
		fprintf(out, "\"");
		if (r->auth.user) {
			/* Never the password: this output gets pasted into
			 * bug reports. */
			fprintf(out, ", auth_user: ");
			config_print_string(out, r->auth.user);
			fprintf(out, "}  # password set, not shown");
		}
		fprintf(out, "\n");
	}
	fprintf(out,
	        "limits:\n  message_size: %llu\n  recipients: %u\n  command_line: %u\n"
	        "  text_line: %u\n  errors: %u\n  idle_timeout: %u\n  data_timeout: %u\n"
	        "  connections: %u\n  connections_per_ip: %u\n  greeting_delay_ms: %u\n"
	        "  auth_line: %u\n  header_size: %u\n  header_fields: %u\n",
	        (unsigned long long)l->message_size, l->recipients, l->command_line,
	        l->text_line, l->errors, l->idle_timeout, l->data_timeout, l->connections,
	        l->connections_per_ip, l->greeting_delay_ms, l->auth_line, l->header_size,
	        l->header_fields);
	fprintf(out, "dns:\n");
	if (c->dns_server_count == 0)
		fprintf(out, "  servers: []  # full recursion from the root hints\n");
	else
		fprintf(out, "  servers: [");
	for (size_t i = 0; i < c->dns_server_count; i++) {
		config_print_string(out, c->dns_servers[i]);
		fprintf(out, i + 1 < c->dns_server_count ? ", " : "]\n");
	}
	fprintf(out, "  trust_anchor: ");
	if (c->dns_trust_anchor)
		config_print_string(out, c->dns_trust_anchor);
	else
		fprintf(out, "null  # no DNSSEC validation");
	fprintf(out,
	        "\n  timeout_ms: %u\n  retries: %u\n  cache_size: %u\n"
	        "  cache_max_ttl: %us\n  cache_max_negative_ttl: %us\n",
	        c->dns_timeout_ms, c->dns_retries, c->dns_cache_size,
	        c->dns_cache_max_ttl, c->dns_cache_max_negative_ttl);
	print_delivery(out, &c->delivery);
	print_queue(out, &c->queue);
}
