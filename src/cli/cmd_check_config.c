/*
 * cmd_check_config.c — `petrel check-config`: validate and print the
 * effective configuration (defaults filled in), then check what `serve`
 * would need beyond the file itself: the TLS certificate and key (readable,
 * matching), the client CA, and a state directory the unprivileged account
 * can reach. Exit 0 after "# OK" if `serve` would start; 1 with what
 * would stop it otherwise.
 */
#include <errno.h>
#include <libgen.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/error.h"
#include "lib/privilege.h"
#include "lib/xalloc.h"
#include "net/tls.h"

/* The certificate serve would load. Without tls.certificate, serve makes
 * a self-signed one under home on first start: nothing to check until
 * it exists. */
static int check_tls(const struct config *c, const char **error_r)
{
	struct buf self_signed = BUF_INIT;
	buf_appendf(&self_signed, "%s/tls/cert.pem", c->home);
	bool exists = access(self_signed.data, F_OK) == 0;
	buf_free(&self_signed);
	if (c->tls.certificate == NULL && !exists && c->tls.client_ca == NULL)
		return 0;
	SSL_CTX *ctx = tls_server_context(c, error_r);
	if (ctx == NULL)
		return -1;
	SSL_CTX_free(ctx);
	return 0;
}

/* serve creates home if it is missing (as whoever runs it), then the
 * queue and the workers use it as `user`: that account must be able to
 * reach home through every directory above it. */
static int check_state_dir(const struct config *c, const char **error_r)
{
	uid_t uid;
	gid_t gid;
	if (privilege_lookup(c->run_as, &uid, &gid, error_r) < 0)
		return -1;
	char *existing = xstrdup(c->home);
	while (access(existing, F_OK) != 0 && strcmp(existing, "/") != 0) {
		char *parent = xstrdup(dirname(existing));
		free(existing);
		existing = parent;
	}
	int r = 0;
	if (strcmp(existing, c->home) != 0 && access(existing, W_OK | X_OK) != 0) {
		*error_r = error_fmt("the state directory %s cannot be created: %s: %s",
		                     c->home, existing, strerror(errno));
		r = -1;
	}
	const char *paths[] = {existing, NULL};
	const char *why;
	if (r == 0 && privilege_check_access(paths, X_OK, uid, gid, &why) < 0) {
		*error_r =
		    error_fmt("the state directory %s is not usable by user %s "
		              "(uid %d): %s",
		              c->home, geteuid() == 0 ? c->run_as : "running petrel",
		              (int)uid, why);
		r = -1;
	}
	free(existing);
	return r;
}

int cmd_check_config(const struct cli_options *options, int argc, char **argv)
{
	int status = cli_no_options(argv[0], argc, argv);
	if (status != 0)
		return status;
	if (argc > 1)
		return cli_usage_error(argv[0], "unexpected argument '%s'", argv[1]);
	const char *error;
	struct config *config = config_load(options->config_path, options->home, &error);
	if (config == NULL) {
		fprintf(stderr, "petrel: %s\n", error);
		return 1;
	}
	config_print(config, stdout);
	fflush(stdout);
	if (check_tls(config, &error) < 0 || check_state_dir(config, &error) < 0) {
		fprintf(stderr, "petrel: %s: %s\n", config->source, error);
		config_free(&config);
		return 1;
	}
	/* A comment, so that the output still loads as YAML. */
	printf("# OK: %s is valid\n", config->source);
	config_free(&config);
	return 0;
}
