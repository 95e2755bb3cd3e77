/* The HTTP/1.1 response reader: http-parser does the framing
 * (Content-Length, chunked, close-delimited); this file keeps the status,
 * headers and body within kedge's limits and tells a complete response
 * from a truncated one. */
#include "net/net.h"

#include <http_parser.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct kd_net_reader {
	http_parser p;
	http_parser_settings s;
	kd_net_response *resp;
	size_t max_body;
	int head;
	size_t header_bytes;
	kd_buf field, value;
	int in_value;
	int started, complete, keep_alive, closed;
	kd_err *err;    /* set while a feed runs */
	int failed;     /* the code a callback failed with */
};

void kd_net_response_init(kd_net_response *r)
{
	memset(r, 0, sizeof *r);
	kd_buf_init(&r->body, KD_LIMIT_HTTP_BODY_MAX);
}

static void free_headers(kd_net_response *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
}

void kd_net_response_free(kd_net_response *r)
{
	if (!r)
		return;
	free_headers(r);
	kd_buf_free(&r->body);
	r->status = 0;
}

const char *kd_net_response_header(const kd_net_response *r,
				   const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

static int fail(kd_net_reader *r, int code, const char *fmt, const char *what,
		unsigned long long n)
{
	r->failed = kd_err_set(r->err, code, fmt, what, n);
	return -1;
}

static int oom(kd_net_reader *r)
{
	r->failed = kd_err_set(r->err, KD_ENOMEM,
			       "out of memory reading an HTTP response");
	return -1;
}

/* Moves the header being built into the response. */
static int finish_header(kd_net_reader *r)
{
	kd_net_response *resp = r->resp;
	kd_net_header *h;
	char *name, *value, *v;
	size_t vlen;

	if (!r->in_value)
		return 0;
	r->in_value = 0;
	if (r->field.failed || r->value.failed)
		return oom(r);
	if (resp->nheaders >= KD_LIMIT_HTTP_HEADERS)
		return fail(r, KD_ELIMIT,
			    "the response has more than %s (%llu) headers",
			    "KD_LIMIT_HTTP_HEADERS", KD_LIMIT_HTTP_HEADERS);
	h = realloc(resp->headers, (resp->nheaders + 1) * sizeof *h);
	if (!h)
		return oom(r);
	resp->headers = h;
	v = r->value.ptr;
	vlen = r->value.len;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	name = strndup(r->field.ptr, r->field.len);
	value = strndup(v, vlen);
	if (!name || !value) {
		free(name);
		free(value);
		return oom(r);
	}
	for (char *c = name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	h[resp->nheaders].name = name;
	h[resp->nheaders].value = value;
	resp->nheaders++;
	kd_buf_reset(&r->field);
	kd_buf_reset(&r->value);
	return 0;
}

static int count_header_bytes(kd_net_reader *r, size_t len)
{
	r->header_bytes += len;
	if (r->header_bytes > KD_LIMIT_HTTP_HEADER_BYTES)
		return fail(r, KD_ELIMIT,
			    "the response headers are larger than %s (%llu bytes)",
			    "KD_LIMIT_HTTP_HEADER_BYTES",
			    KD_LIMIT_HTTP_HEADER_BYTES);
	return 0;
}

static int on_message_begin(http_parser *p)
{
	kd_net_reader *r = p->data;

	r->started = 1;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	kd_net_reader *r = p->data;

	if (count_header_bytes(r, len + 4) || finish_header(r))
		return -1;
	kd_buf_put(&r->field, at, len);
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	kd_net_reader *r = p->data;

	if (count_header_bytes(r, len))
		return -1;
	r->in_value = 1;
	kd_buf_put(&r->value, at, len);
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	kd_net_reader *r = p->data;

	if (finish_header(r))
		return -1;
	r->resp->status = p->status_code;
	/* No body, whatever Content-Length says (http-parser would wait
	 * for one after a 304 that repeats the resource's length). */
	if (r->head || p->status_code / 100 == 1 || p->status_code == 204 ||
	    p->status_code == 304)
		return 1;
	if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
	    p->content_length > r->max_body) {
		r->failed = kd_err_set(r->err, KD_ELIMIT,
				       "the response body (Content-Length %llu) is larger than the limit of %zu bytes (max_body)",
				       (unsigned long long)p->content_length,
				       r->max_body);
		return -1;
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	kd_net_reader *r = p->data;
	kd_buf *b = &r->resp->body;

	if (len > r->max_body - b->len) {
		r->failed = kd_err_set(r->err, KD_ELIMIT,
				       "the response body is larger than the limit of %zu bytes (max_body)",
				       r->max_body);
		return -1;
	}
	if (kd_buf_put(b, at, len))
		return oom(r);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	kd_net_reader *r = p->data;

	if (p->status_code / 100 == 1 && p->status_code != 101) {
		/* An interim response (100 Continue): the real one follows. */
		free_headers(r->resp);
		r->resp->status = 0;
		r->header_bytes = 0;
		return 0;
	}
	r->complete = 1;
	r->keep_alive = !r->closed && http_should_keep_alive(p);
	http_parser_pause(p, 1);
	return 0;
}

int kd_net_reader_new(kd_net_reader **out, kd_net_response *resp,
		      size_t max_body, int head, kd_err *err)
{
	kd_net_reader *r = calloc(1, sizeof *r);

	*out = NULL;
	if (!r)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	http_parser_init(&r->p, HTTP_RESPONSE);
	http_parser_settings_init(&r->s);
	r->p.data = r;
	r->s.on_message_begin = on_message_begin;
	r->s.on_header_field = on_header_field;
	r->s.on_header_value = on_header_value;
	r->s.on_headers_complete = on_headers_complete;
	r->s.on_body = on_body;
	r->s.on_message_complete = on_message_complete;
	r->resp = resp;
	r->max_body = max_body ? max_body : KD_LIMIT_HTTP_BODY_BYTES;
	r->head = head;
	kd_buf_init(&r->field, KD_LIMIT_HTTP_HEADER_BYTES);
	kd_buf_init(&r->value, KD_LIMIT_HTTP_HEADER_BYTES);
	*out = r;
	return 0;
}

void kd_net_reader_free(kd_net_reader *r)
{
	if (!r)
		return;
	kd_buf_free(&r->field);
	kd_buf_free(&r->value);
	free(r);
}

int kd_net_reader_keep_alive(const kd_net_reader *r)
{
	return r->complete && r->keep_alive;
}

int kd_net_reader_feed(kd_net_reader *r, const char *data, size_t len,
		       size_t *used, kd_err *err)
{
	enum http_errno e;
	size_t n;

	*used = 0;
	if (r->complete) {
		/* Bytes after the response: not ours, and no reuse. */
		r->keep_alive = 0;
		return 1;
	}
	if (r->failed)
		return r->failed;
	r->err = err;
	if (len == 0)
		r->closed = 1;
	n = http_parser_execute(&r->p, &r->s, data, len);
	r->err = NULL;
	/* http-parser answers 1 to the close (len 0) in a bad state */
	if (n > len)
		n = len;
	*used = n;
	if (r->failed)
		return r->failed;
	e = HTTP_PARSER_ERRNO(&r->p);
	if (r->complete) {
		if (n < len)
			r->keep_alive = 0;
		return 1;
	}
	if (e != HPE_OK && e != HPE_PAUSED &&
	    !(len == 0 && e == HPE_INVALID_EOF_STATE))
		return r->failed = kd_err_set(err, KD_EPARSE,
					      "malformed HTTP response: %s",
					      http_errno_description(e));
	if (len == 0) {
		if (!r->started)
			return r->failed = kd_err_set(err, KD_EIO,
						      "the server closed the connection without a response");
		if (r->resp->status == 0)
			return r->failed = kd_err_set(err, KD_EPARSE,
						      "truncated HTTP response: the connection closed inside the headers");
		if (r->p.flags & F_CHUNKED)
			return r->failed = kd_err_set(err, KD_EPARSE,
						      "truncated HTTP response: the connection closed inside the chunked body after %zu bytes",
						      r->resp->body.len);
		return r->failed = kd_err_set(err, KD_EPARSE,
					      "truncated HTTP response: the connection closed after %zu body bytes, %llu short of its Content-Length",
					      r->resp->body.len,
					      (unsigned long long)r->p.content_length);
	}
	return 0;
}
