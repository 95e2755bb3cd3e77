/* Fuzz target for the HTTP response reader (core/net/reader.c over
 * http-parser): status line, headers, Content-Length and chunked bodies,
 * interim 1xx responses, a close that ends or truncates the message. The
 * first byte holds the options: bit 0 the request was HEAD, bits 1-2 the
 * body limit (16 bytes to the default), bits 3-7 the size of the pieces
 * the rest is fed in (1 to 32 bytes, as a network would split it); then
 * the connection closes. A complete response has a status (0 to 999, as
 * http-parser reads it), lowercased header names, values without
 * surrounding blanks and a body within the limit; a failure carries a code
 * and a message and sticks. */
#include "fuzz.h"

#include "net/net.h"

static void check(const kd_net_response *resp, size_t max_body)
{
	size_t i;

	if (resp->status < 0 || resp->status > 999 || resp->body.len > max_body)
		abort();
	for (i = 0; i < resp->nheaders; i++) {
		const char *c, *v = resp->headers[i].value;
		size_t n = strlen(v);

		for (c = resp->headers[i].name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				abort();
		if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
			abort();
		if (kd_net_response_header(resp, resp->headers[i].name) == NULL)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = {16, 1024, 1u << 20, 0};
	kd_net_response resp = KD_NET_RESPONSE_INIT;
	kd_net_reader *r = NULL;
	kd_err err = KD_ERR_INIT;
	size_t off = 1, used, piece, max_body;
	int rc = 0;

	if (size < 1)
		return 0;
	max_body = limits[(data[0] >> 1) & 3];
	piece = (size_t)(data[0] >> 3) + 1;
	if (kd_net_reader_new(&r, &resp, max_body, data[0] & 1, &err))
		abort();
	if (!max_body)
		max_body = KD_LIMIT_HTTP_BODY_BYTES;
	while (rc == 0) {
		size_t n = size - off < piece ? size - off : piece;

		rc = kd_net_reader_feed(r, (const char *)data + off, n, &used, &err);
		if (used > n)
			abort();
		if (n == 0)
			break;
		off += n;
	}
	if (rc == 1) {
		check(&resp, max_body);
		(void)kd_net_reader_keep_alive(r);
		/* More bytes after a complete response: no reuse. */
		if (kd_net_reader_feed(r, "x", 1, &used, &err) != 1 ||
		    kd_net_reader_keep_alive(r))
			abort();
	} else if (rc < 0) {
		fz_check_err(rc, &err);
		if (kd_net_reader_feed(r, "x", 1, &used, &err) != rc)
			abort();
	} else {
		abort(); /* a close always ends the response, one way or another */
	}
	kd_net_reader_free(r);
	kd_net_response_free(&resp);
	return 0;
}
