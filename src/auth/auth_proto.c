/*
 * auth_proto.c — see auth_proto.h.
 */
#include "auth/auth_proto.h"

#include <stdlib.h>
#include <string.h>

#include "ipc/wire.h"
#include "lib/xalloc.h"

/* The largest SASL response a client may relay (a JWT bearer token is
 * the longest; the SMTP line limit bounds it long before this). */
#define RESPONSE_MAX (64 * 1024)

static void put_cert(struct buf *out, const struct client_cert *c)
{
	wire_u32(out, (uint32_t)c->present | (uint32_t)c->verified << 1);
	wire_str(out, c->verify_error);
	wire_str(out, c->subject);
	wire_str(out, c->issuer);
	wire_str(out, c->san_email);
	wire_str(out, c->fingerprint);
	wire_str(out, c->not_after);
}

static void get_cert(struct wire_in *in, struct client_cert *c)
{
	uint32_t flags = wire_get_u32(in);
	c->present = flags & 1;
	c->verified = (flags & 2) != 0;
	if (flags > 3)
		in->failed = true;
	wire_get_str(in, c->verify_error, sizeof(c->verify_error));
	wire_get_str(in, c->subject, sizeof(c->subject));
	wire_get_str(in, c->issuer, sizeof(c->issuer));
	wire_get_str(in, c->san_email, sizeof(c->san_email));
	wire_get_str(in, c->fingerprint, sizeof(c->fingerprint));
	wire_get_str(in, c->not_after, sizeof(c->not_after));
}

int auth_request_encode(const struct auth_request *r, struct buf *out)
{
	wire_begin(out, (uint8_t)r->type);
	switch (r->type) {
	case AUTH_LOCAL_RCPT:
	case AUTH_EXPAND:
		wire_str(out, r->name);
		break;
	case AUTH_SENDER:
		wire_str(out, r->name);
		wire_str(out, r->other);
		break;
	case AUTH_SASL_STEP:
		wire_u64(out, r->conversation);
		wire_u32(out, (uint32_t)r->first | (uint32_t)r->has_response << 1);
		if (r->first) {
			wire_u32(out, r->mechanism);
			wire_str(out, r->client_ip);
			put_cert(out, &r->cert);
		}
		if (r->has_response)
			wire_bytes(out, r->response, r->response_len);
		break;
	case AUTH_SASL_END:
		wire_u64(out, r->conversation);
		break;
	}
	return wire_end(out);
}

int auth_request_decode(const void *frame, size_t len, struct auth_request *r)
{
	memset(r, 0, sizeof(*r));
	struct wire_in in;
	if (!wire_in_init(&in, frame, len))
		return -1;
	r->type = (enum auth_request_type)in.type;
	switch (r->type) {
	case AUTH_LOCAL_RCPT:
	case AUTH_EXPAND:
		wire_get_str(&in, r->name, sizeof(r->name));
		break;
	case AUTH_SENDER:
		wire_get_str(&in, r->name, sizeof(r->name));
		wire_get_str(&in, r->other, sizeof(r->other));
		break;
	case AUTH_SASL_STEP: {
		r->conversation = wire_get_u64(&in);
		uint32_t flags = wire_get_u32(&in);
		if (flags > 3)
			return -1;
		r->first = flags & 1;
		r->has_response = (flags & 2) != 0;
		if (r->first) {
			r->mechanism = wire_get_u32(&in);
			wire_get_str(&in, r->client_ip, sizeof(r->client_ip));
			get_cert(&in, &r->cert);
		}
		if (r->has_response)
			r->response = wire_get_bytes(&in, RESPONSE_MAX, &r->response_len);
		break;
	}
	case AUTH_SASL_END:
		r->conversation = wire_get_u64(&in);
		break;
	default:
		return -1;
	}
	return wire_in_done(&in) ? 0 : -1;
}

int auth_response_encode(enum auth_request_type type, const struct auth_response *r,
                         struct buf *out)
{
	wire_begin(out, (uint8_t)type);
	wire_u32(out, (uint32_t)r->result);
	wire_str(out, r->error);
	switch (type) {
	case AUTH_LOCAL_RCPT:
		wire_str(out, r->user);
		wire_u64(out, r->quota);
		break;
	case AUTH_EXPAND:
		wire_u32(out, (uint32_t)r->expansion.local |
		                  (uint32_t)r->expansion.truncated << 1);
		wire_u32(out, (uint32_t)r->expansion.count);
		for (size_t i = 0; i < r->expansion.count; i++) {
			wire_str(out, r->expansion.addresses[i]);
			wire_u64(out, r->expansion.quotas ? r->expansion.quotas[i] : 0);
		}
		wire_str(out, r->expansion.missing ? r->expansion.missing : "");
		break;
	case AUTH_SASL_STEP:
		wire_bytes(out, r->challenge.data, r->challenge.len);
		wire_str(out, r->login);
		wire_str(out, r->identity);
		wire_str(out, r->reason);
		wire_u32(out, (uint32_t)r->rehashed | (uint32_t)r->cached << 1);
		wire_u64(out, r->quota);
		break;
	default:
		break;
	}
	return wire_end(out);
}

int auth_response_decode(enum auth_request_type type, const void *frame, size_t len,
                         struct auth_response *r)
{
	memset(r, 0, sizeof(*r));
	struct wire_in in;
	if (!wire_in_init(&in, frame, len) || in.type != (uint8_t)type)
		return -1;
	r->result = (int32_t)wire_get_u32(&in);
	wire_get_str(&in, r->error, sizeof(r->error));
	switch (type) {
	case AUTH_LOCAL_RCPT:
		wire_get_str(&in, r->user, sizeof(r->user));
		r->quota = wire_get_u64(&in);
		break;
	case AUTH_EXPAND: {
		uint32_t flags = wire_get_u32(&in);
		r->expansion.local = flags & 1;
		r->expansion.truncated = (flags & 2) != 0;
		uint32_t count = wire_get_u32(&in);
		if (in.failed || count > USERDB_MAX_EXPANSION)
			return -1;
		r->expansion.addresses = xcalloc(count + 1, sizeof(char *));
		r->expansion.quotas = xcalloc(count + 1, sizeof(uint64_t));
		for (uint32_t i = 0; i < count; i++) {
			char address[AUTH_NAME_SIZE];
			wire_get_str(&in, address, sizeof(address));
			r->expansion.addresses[i] = xstrdup(address);
			r->expansion.quotas[i] = wire_get_u64(&in);
			r->expansion.count++;
		}
		char missing[AUTH_NAME_SIZE];
		wire_get_str(&in, missing, sizeof(missing));
		if (missing[0])
			r->expansion.missing = xstrdup(missing);
		break;
	}
	case AUTH_SASL_STEP: {
		size_t n;
		const void *challenge = wire_get_bytes(&in, RESPONSE_MAX, &n);
		buf_append(&r->challenge, challenge, n);
		wire_get_str(&in, r->login, sizeof(r->login));
		wire_get_str(&in, r->identity, sizeof(r->identity));
		wire_get_str(&in, r->reason, sizeof(r->reason));
		uint32_t flags = wire_get_u32(&in);
		r->rehashed = flags & 1;
		r->cached = (flags & 2) != 0;
		r->quota = wire_get_u64(&in);
		break;
	}
	default:
		break;
	}
	if (!wire_in_done(&in)) {
		auth_response_clear(r);
		return -1;
	}
	return 0;
}

void auth_response_clear(struct auth_response *r)
{
	userdb_expansion_free(&r->expansion);
	buf_free(&r->challenge);
}
