/*
 * fuzz-auth_proto.c — libFuzzer target: what reaches the auth process
 * from a client (and what a client reads back), as whole frames. The
 * decoders must refuse or accept without reading outside the frame, and
 * what they accept must encode back to a frame they accept again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_proto.h"
#include "ipc/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_request request;
	if (auth_request_decode(data, size, &request) == 0) {
		struct buf out = BUF_INIT;
		struct auth_request again;
		if (auth_request_encode(&request, &out) < 0 ||
		    auth_request_decode(out.data, out.len, &again) < 0 ||
		    again.type != request.type || strcmp(again.name, request.name) != 0)
			abort();
		buf_free(&out);
	}
	for (int type = AUTH_LOCAL_RCPT; type <= AUTH_SASL_END; type++) {
		struct auth_response response;
		if (auth_response_decode((enum auth_request_type)type, data, size,
		                         &response) == 0)
			auth_response_clear(&response);
	}
	return 0;
}
