/* core/net's pure parts: URLs, the response reader (fed fixed responses
 * split at every byte), and the subjectAltName iPAddress check that
 * mbedTLS 2.28 lacks. Offline: no sockets. */
#include "tap.h"

#include "net/net.h"

#include <stdlib.h>

/* --- URLs ---------------------------------------------------------------- */

static void test_url(void)
{
	kd_err err = KD_ERR_INIT;
	kd_net_url *u = malloc(sizeof *u);
	static const char *bad[] = {
		"ftp://x/", "http://", "http:///x", "http://user:pw@host/",
		"http://host:0/", "http://host:65536/", "http://host:12a/",
		"http://host:/", "http://[::1/", "http://[nope]/", "http://[::1]x/",
		"http://ho st/", "http://300.1.1.1/", "http://127.1/",
		"http://h/a b", "http://h/\x01", "http://h:123456/",
	};

	ok(!kd_net_url_parse(u, "https://127.0.0.1:6443/api?x=1#frag", &err),
	   "https IPv4 URL parses");
	is_int(u->https, 1, "https");
	is_strz(u->host, "127.0.0.1", "host");
	is_int(u->ip_family, 4, "IPv4 literal");
	is_int(u->ip[0], 127, "address bytes");
	is_int(u->port, 6443, "port");
	is_int(u->default_port, 0, "explicit port");
	is_strz(u->target, "/api?x=1", "target keeps the query, drops the fragment");

	ok(!kd_net_url_parse(u, "HTTP://Example.ORG", &err), "upper-case scheme and host");
	is_int(u->https, 0, "http");
	is_strz(u->host, "example.org", "host names are lowercased");
	is_int(u->ip_family, 0, "a name");
	is_int(u->port, 80, "default port 80");
	is_int(u->default_port, 1, "marked as default");
	is_strz(u->target, "/", "empty path is /");

	ok(!kd_net_url_parse(u, "https://[::1]:8443?q", &err), "IPv6 in brackets");
	is_strz(u->host, "::1", "host without brackets");
	is_int(u->ip_family, 6, "IPv6 literal");
	is_int(u->ip[15], 1, "::1 bytes");
	is_strz(u->target, "/?q", "a query without a path gets /");

	ok(!kd_net_url_parse(u, "https://kube_api.local", &err), "underscores allowed");
	is_int(u->port, 443, "default port 443");

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		kd_err_clear(&err);
		is_int(kd_net_url_parse(u, bad[i], &err), KD_EINVAL,
		       "refused: %s", bad[i]);
		ok(strstr(err.msg, "URL") != NULL, "  with a message: %s", err.msg);
	}
	{
		char *longurl = malloc(KD_LIMIT_HTTP_URL_BYTES + 32);

		strcpy(longurl, "http://h/");
		memset(longurl + 9, 'a', KD_LIMIT_HTTP_URL_BYTES);
		longurl[KD_LIMIT_HTTP_URL_BYTES + 9] = 0;
		is_int(kd_net_url_parse(u, longurl, &err), KD_EINVAL, "an overlong URL");
		ok(strstr(err.msg, "KD_LIMIT_HTTP_URL_BYTES") != NULL,
		   "names the limit");
		free(longurl);
	}
	{
		unsigned char ip[16];

		is_int(kd_net_ip_parse("10.1.2.3", ip), 4, "ip_parse IPv4");
		is_int(kd_net_ip_parse("fe80::1", ip), 6, "ip_parse IPv6");
		is_int(kd_net_ip_parse("localhost", ip), 0, "ip_parse name");
	}
	free(u);
}

/* --- the response reader ------------------------------------------------- */

typedef struct fed {
	int rc;          /* last result: 1 complete, <0 error */
	int keep_alive;
	kd_err err;
	kd_net_response resp;
} fed;

/* Feeds text in two pieces split at `split`, then EOF when `eof`. */
static void feed_split(fed *f, const char *text, size_t len, size_t split,
		       size_t max_body, int head, int eof)
{
	kd_net_reader *r;
	size_t used;

	memset(f, 0, sizeof *f);
	kd_net_response_init(&f->resp);
	kd_net_reader_new(&r, &f->resp, max_body, head, &f->err);
	f->rc = kd_net_reader_feed(r, text, split, &used, &f->err);
	if (f->rc == 0 && split < len)
		f->rc = kd_net_reader_feed(r, text + split, len - split, &used,
					   &f->err);
	if (f->rc == 0 && eof)
		f->rc = kd_net_reader_feed(r, NULL, 0, &used, &f->err);
	f->keep_alive = kd_net_reader_keep_alive(r);
	kd_net_reader_free(r);
}

/* Every split must give the same result. */
static void check_all_splits(const char *name, const char *text, int eof,
			     int want_rc, int want_status, const char *want_body,
			     int want_keep)
{
	size_t len = strlen(text), bad = (size_t)-1;
	fed f;

	for (size_t split = 1; split <= len; split++) {
		feed_split(&f, text, len, split, 0, 0, eof);
		if (f.rc != want_rc || (want_rc == 1 &&
		    (f.resp.status != want_status || f.keep_alive != want_keep ||
		     f.resp.body.len != strlen(want_body) ||
		     memcmp(f.resp.body.ptr, want_body, f.resp.body.len)))) {
			bad = split;
			kd_net_response_free(&f.resp);
			break;
		}
		kd_net_response_free(&f.resp);
	}
	if (!ok(bad == (size_t)-1, "%s (every split)", name))
		diag("first failing split %zu: rc %d status %d body '%.*s' keep %d err %s",
		     bad, f.rc, f.resp.status, (int)f.resp.body.len,
		     f.resp.body.ptr, f.keep_alive, f.err.msg);
}

static void test_reader(void)
{
	fed f;
	const char *t;

	check_all_splits("Content-Length",
			 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			 0, 1, 200, "hello", 1);
	check_all_splits("chunked with extensions and trailers",
			 "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n",
			 0, 1, 201, "hello 0123456789", 1);
	check_all_splits("close-delimited", "HTTP/1.1 200 OK\r\n\r\nto the end",
			 1, 1, 200, "to the end", 0);
	check_all_splits("HTTP/1.0 closes",
			 "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
			 0, 1, 200, "ok", 0);
	check_all_splits("Connection: close",
			 "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
			 0, 1, 200, "ok", 0);
	check_all_splits("100 Continue is skipped",
			 "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX: y\r\n\r\n",
			 0, 1, 204, "", 1);
	check_all_splits("100 Continue, then a body",
			 "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
			 0, 1, 200, "abc", 1);
	check_all_splits("304 has no body",
			 "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
			 0, 1, 304, "", 1);
	check_all_splits("truncated Content-Length body",
			 "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
			 1, KD_EPARSE, 0, "", 0);
	check_all_splits("truncated chunked body",
			 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
			 1, KD_EPARSE, 0, "", 0);
	check_all_splits("truncated headers", "HTTP/1.1 200 OK\r\nContent-Le",
			 1, KD_EPARSE, 0, "", 0);
	check_all_splits("malformed status line", "HTTP/1.1 abc OK\r\n\r\n", 0,
			 KD_EPARSE, 0, "", 0);
	check_all_splits("bad chunk size",
			 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
			 0, KD_EPARSE, 0, "", 0);

	/* Headers: lowercased names, trimmed values, repeats kept. */
	t = "HTTP/1.1 200 OK\r\nContent-Type:  text/plain \r\nSet-Cookie: a=1\r\n"
	    "set-cookie: b=2\r\nContent-Length: 0\r\n\r\n";
	feed_split(&f, t, strlen(t), strlen(t), 0, 0, 0);
	is_int(f.rc, 1, "headers: complete");
	is_int(f.resp.nheaders, 4, "headers: four");
	is_strz(f.resp.headers[0].name, "content-type", "headers: name lowercased");
	is_strz(f.resp.headers[0].value, "text/plain", "headers: value trimmed");
	is_strz(kd_net_response_header(&f.resp, "SET-COOKIE"), "a=1",
		"headers: lookup ignores case, first wins");
	is_strz(f.resp.headers[2].value, "b=2", "headers: repeats kept");
	ok(kd_net_response_header(&f.resp, "x-none") == NULL, "headers: absent");
	kd_net_response_free(&f.resp);

	/* HEAD: Content-Length describes a body that does not come. */
	t = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
	feed_split(&f, t, strlen(t), 3, 0, 1, 0);
	is_int(f.rc, 1, "HEAD: complete without a body");
	is_int(f.keep_alive, 1, "HEAD: connection reusable");
	kd_net_response_free(&f.resp);

	/* Bytes after a complete response: no reuse. */
	t = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
	feed_split(&f, t, strlen(t), strlen(t), 0, 0, 0);
	is_int(f.rc, 1, "extra bytes: response complete");
	is_str(f.resp.body.ptr, f.resp.body.len, "ok", "extra bytes: body exact");
	is_int(f.keep_alive, 0, "extra bytes: connection not reused");
	kd_net_response_free(&f.resp);

	/* Limits. */
	t = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
	feed_split(&f, t, strlen(t), strlen(t), 10, 0, 0);
	is_int(f.rc, KD_ELIMIT, "Content-Length over max_body");
	ok(strstr(f.err.msg, "limit of 10 bytes (max_body)") != NULL,
	   "  names the limit: %s", f.err.msg);
	kd_net_response_free(&f.resp);
	t = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n";
	feed_split(&f, t, strlen(t), 50, 10, 0, 0);
	is_int(f.rc, KD_ELIMIT, "chunked body over max_body");
	kd_net_response_free(&f.resp);
	{
		kd_buf many = KD_BUF_INIT(1 << 20);

		kd_buf_puts(&many, "HTTP/1.1 200 OK\r\n");
		for (unsigned i = 0; i <= KD_LIMIT_HTTP_HEADERS; i++)
			kd_buf_printf(&many, "X-%u: v\r\n", i);
		kd_buf_puts(&many, "Content-Length: 0\r\n\r\n");
		feed_split(&f, many.ptr, many.len, many.len, 0, 0, 0);
		is_int(f.rc, KD_ELIMIT, "too many headers");
		ok(strstr(f.err.msg, "KD_LIMIT_HTTP_HEADERS") != NULL,
		   "  names the limit: %s", f.err.msg);
		kd_net_response_free(&f.resp);
		kd_buf_reset(&many);
		kd_buf_puts(&many, "HTTP/1.1 200 OK\r\nX-Big: ");
		for (unsigned i = 0; i < KD_LIMIT_HTTP_HEADER_BYTES / 8 + 1; i++)
			kd_buf_puts(&many, "abcdefgh");
		kd_buf_puts(&many, "\r\nContent-Length: 0\r\n\r\n");
		feed_split(&f, many.ptr, many.len, 100, 0, 0, 0);
		is_int(f.rc, KD_ELIMIT, "headers over KD_LIMIT_HTTP_HEADER_BYTES");
		kd_net_response_free(&f.resp);
		kd_buf_free(&many);
	}

	/* EOF before anything: the server hung up (retryable), not a parse error. */
	feed_split(&f, "", 0, 0, 0, 0, 1);
	is_int(f.rc, KD_EIO, "EOF with no response");
	kd_net_response_free(&f.resp);
}

/* --- subjectAltName ------------------------------------------------------ */

/* GeneralNames: DNS:localhost, IP:127.0.0.1, IP:::1, URI:x (skipped),
 * a constructed directoryName (skipped). */
static const unsigned char san[] = {
	0x30, 0x2a,
	0x82, 0x09, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't',
	0x87, 0x04, 127, 0, 0, 1,
	0x87, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x86, 0x01, 'x',
	0xa4, 0x02, 0x30, 0x00,
};

/* A self-signed certificate made once with
 * openssl req -x509 -newkey ec ... -days 36500 -subj /CN=unit
 *   -addext subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1 */
static const unsigned char cert_der[] = {
#include "test_net_cert.inc"
};

static void test_san(void)
{
	static const unsigned char v4[4] = {127, 0, 0, 1}, other4[4] = {10, 0, 0, 1};
	unsigned char v6[16] = {0}, mapped[16] = {0};
	unsigned char broken[sizeof san];
	kd_buf names = KD_BUF_INIT(1024);
	kd_err err = KD_ERR_INIT;

	v6[15] = 1;
	mapped[10] = mapped[11] = 0xff;
	memcpy(mapped + 12, v4, 4);
	is_int(kd_net_san_match_ip(san, sizeof san, v4, 4, &names), 1,
	       "IPv4 SAN matches");
	is_strz(names.ptr, "DNS:localhost, IP:127.0.0.1, IP:::1",
		"names listed for messages");
	is_int(kd_net_san_match_ip(san, sizeof san, v6, 16, NULL), 1,
	       "IPv6 SAN matches");
	is_int(kd_net_san_match_ip(san, sizeof san, other4, 4, NULL), 0,
	       "another IPv4 does not");
	is_int(kd_net_san_match_ip(san, sizeof san, mapped, 16, NULL), 0,
	       "an IPv4-mapped IPv6 address does not match the IPv4 entry");
	is_int(kd_net_san_match_ip(san, sizeof san, v4, 0, NULL), 0,
	       "an empty address matches nothing");
	memcpy(broken, san, sizeof san);
	broken[14] = 0x7f; /* the IPv4 entry's length runs past the end */
	is_int(kd_net_san_match_ip(broken, sizeof san, v4, 4, NULL), KD_EPARSE,
	       "a length past the end is malformed");
	is_int(kd_net_san_match_ip(san, sizeof san - 1, v4, 4, NULL), KD_EPARSE,
	       "a short sequence is malformed");
	is_int(kd_net_san_match_ip(san + 2, sizeof san - 2, v4, 4, NULL),
	       KD_EPARSE, "not a sequence");

	kd_buf_reset(&names);
	is_int(kd_net_cert_match_ip(cert_der, sizeof cert_der, v4, 4, &names,
				    &err), 1, "certificate: IPv4 SAN found");
	is_strz(names.ptr, "DNS:localhost, IP:127.0.0.1, IP:::1",
		"certificate: names");
	is_int(kd_net_cert_match_ip(cert_der, sizeof cert_der, v6, 16, NULL,
				    &err), 1, "certificate: IPv6 SAN found");
	is_int(kd_net_cert_match_ip(cert_der, sizeof cert_der, other4, 4, NULL,
				    &err), 0, "certificate: other address refused");
	is_int(kd_net_cert_match_ip(cert_der, 20, v4, 4, NULL, &err), KD_EPARSE,
	       "not a certificate");
	kd_buf_free(&names);
}

int main(void)
{
	test_url();
	test_reader();
	test_san();
	return tap_done();
}
