/* kd_net: kedge's HTTP/1.1 client over TCP and TLS 1.2 (mbedTLS), shared
 * by the Kubernetes client, smoke tests and report webhooks.
 *
 * A kd_net_client owns one random generator (seeded once), the trusted CA
 * chain (loaded on the first https request) and at most one idle
 * connection, which the next request to the same scheme, host and port
 * reuses (sequential keep-alive, no pipelining). Requests run to the end
 * before returning: the whole response, body included, is in memory,
 * bounded by a body limit; a response that ends early is an error, never a
 * partial body.
 *
 * TLS: the system CA bundle (KD_NET_SYSTEM_CA) or a caller's PEM file;
 * SNI and name verification (by mbedTLS) for host names; for IP literals
 * no SNI, and kedge's own check of the certificate's subjectAltName
 * iPAddress entries (mbedTLS 2.28 cannot match them). `insecure` skips
 * verification and logs a warning (kd_log WARN) for every new connection.
 *
 * Retries: connection failures (refused, reset, timeout, TLS handshake)
 * before any request byte was sent are retried for every method; failures
 * after that, 429 and 5xx only for idempotent requests (GET, HEAD, PUT,
 * DELETE, OPTIONS, or a request marked idempotent). Waits grow
 * exponentially with jitter; Retry-After (seconds) is honoured up to
 * KD_LIMIT_HTTP_RETRY_AFTER_S. The last answer wins: a 503 after the last
 * attempt is returned as a response, not an error.
 *
 * Errors (kd_err): KD_EINVAL a bad URL, method or header; KD_EIO network,
 * TLS and timeout failures; KD_EPARSE a malformed or truncated response;
 * KD_ELIMIT a response past a limit (the message names it). */
#ifndef KD_NET_NET_H
#define KD_NET_NET_H

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"

#include <stddef.h>
#include <stdint.h>

#define KD_NET_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"
#define KD_NET_DEFAULT_TIMEOUT_MS 30000
#define KD_NET_DEFAULT_ATTEMPTS 3

/* --- URLs ------------------------------------------------------------ */

typedef struct kd_net_url {
	int https;
	/* The host without brackets; names are lowercased. */
	char host[KD_LIMIT_HTTP_HOST_BYTES + 1];
	int ip_family;           /* 0 for a name, 4 or 6 for an IP literal */
	unsigned char ip[16];    /* the address (4 or 16 bytes) */
	unsigned port;           /* explicit, or 80 / 443 */
	int default_port;        /* port came from the scheme */
	/* Path and query ("/" when the URL has none); the fragment is dropped. */
	char target[KD_LIMIT_HTTP_URL_BYTES + 1];
} kd_net_url;

/* http:// and https:// URLs only; no user:password@ part. Host names are
 * letters, digits, '-', '_' and '.'; IPv4 is dotted quad; IPv6 goes in
 * brackets (no zone). The target must be printable ASCII without spaces. */
int kd_net_url_parse(kd_net_url *out, const char *url, kd_err *err);

/* An IP literal (no brackets) into out: 4 or 6, or 0 when s is not one. */
int kd_net_ip_parse(const char *s, unsigned char out[16]);

/* --- certificates (pure, for tests) ---------------------------------- */

/* Does a GeneralNames DER sequence (the value of a subjectAltName
 * extension) list the address ip (4 or 16 bytes)? 1 yes, 0 no, KD_EPARSE
 * when malformed. When names is not NULL, every dNSName and iPAddress is
 * appended to it, comma separated ("DNS:a, IP:127.0.0.1"). */
int kd_net_san_match_ip(const unsigned char *der, size_t len,
			const unsigned char *ip, size_t iplen, kd_buf *names);

/* The same for a parsed certificate (KD_EPARSE when its extensions are
 * malformed; no subjectAltName matches nothing). */
struct mbedtls_x509_crt;
int kd_net_crt_match_ip(const struct mbedtls_x509_crt *crt,
			const unsigned char *ip, size_t iplen, kd_buf *names);

/* The same for a whole DER certificate: finds its subjectAltName
 * extension (a certificate without one matches nothing). */
int kd_net_cert_match_ip(const unsigned char *der, size_t len,
			 const unsigned char *ip, size_t iplen, kd_buf *names,
			 kd_err *err);

/* --- responses -------------------------------------------------------- */

typedef struct kd_net_header {
	char *name;  /* lowercased */
	char *value; /* surrounding blanks removed */
} kd_net_header;

typedef struct kd_net_response {
	int status;
	kd_net_header *headers; /* in arrival order, repeats kept */
	size_t nheaders;
	kd_buf body;
} kd_net_response;

#define KD_NET_RESPONSE_INIT {0, NULL, 0, KD_BUF_INIT(KD_LIMIT_HTTP_BODY_MAX)}

void kd_net_response_init(kd_net_response *r);
/* Frees headers and body; accepts a response that never held anything. */
void kd_net_response_free(kd_net_response *r);
/* The first header named name (any case); NULL if absent. */
const char *kd_net_response_header(const kd_net_response *r,
				   const char *name);

/* The response reader (http-parser underneath): feed it bytes as they
 * arrive; it fills a response and says when the message is complete.
 * Pure, so tests can drive it with fixed input split anywhere. */
typedef struct kd_net_reader kd_net_reader;

/* max_body bounds the body; head: the request was HEAD (no body). */
int kd_net_reader_new(kd_net_reader **out, kd_net_response *resp,
		      size_t max_body, int head, kd_err *err);
void kd_net_reader_free(kd_net_reader *r);
/* Feeds len bytes (len 0: the peer closed the connection). Returns 1 when
 * the response is complete, 0 when more is needed, or a negative code.
 * *used tells how many bytes belonged to the response; bytes after a
 * complete response (or a close that ends it) make the connection
 * unfit for reuse. */
int kd_net_reader_feed(kd_net_reader *r, const char *data, size_t len,
		       size_t *used, kd_err *err);
/* Once complete: may the connection carry another request? */
int kd_net_reader_keep_alive(const kd_net_reader *r);

/* --- the client ------------------------------------------------------- */

typedef struct kd_net_client kd_net_client;

typedef struct kd_net_client_opts {
	/* Trusted CAs: a PEM file, PEM text, or both; with neither, the
	 * system bundle KD_NET_SYSTEM_CA. */
	const char *ca_file;
	const char *ca_pem;
	/* A client certificate and its unencrypted key (mutual TLS), as
	 * PEM files or PEM text; both or neither. The key text is read by
	 * kd_net_client_new only: mbedTLS keeps the parsed key and wipes
	 * it when the client is freed. */
	const char *cert_file, *key_file;
	const char *cert_pem, *key_pem;
	/* A bearer token sent as "Authorization: Bearer TOKEN" with every
	 * request that sets no Authorization header of its own. The client
	 * keeps a copy, and every buffer the header is built in, only as
	 * long as needed and wipes them; no error message quotes it. */
	const char *token;
	int insecure;        /* skip certificate verification (warns) */
} kd_net_client_opts;

typedef struct kd_net_stats {
	unsigned long connections; /* TCP connections opened */
	unsigned long requests;    /* requests sent, retries included */
	unsigned long reused;      /* requests sent on a kept-alive connection */
	unsigned long retries;     /* attempts after the first */
} kd_net_stats;

/* opts may be NULL. The client certificate and PEM text are read here
 * (errors name what is wrong); CA files on the first https request. */
int kd_net_client_new(kd_net_client **out, const kd_net_client_opts *opts,
		      kd_err *err);
/* Closes the idle connection and frees everything; accepts NULL. */
void kd_net_client_free(kd_net_client *c);
/* An overall deadline (kd_net_now_ms() time, 0 for none) for every
 * request of this client, e.g. the end of a reconcile pass. */
void kd_net_client_set_deadline(kd_net_client *c, int64_t deadline_ms);
void kd_net_client_stats(const kd_net_client *c, kd_net_stats *out);

/* Monotonic milliseconds. */
int64_t kd_net_now_ms(void);

typedef struct kd_net_field {
	const char *name;
	const char *value;
} kd_net_field;

typedef struct kd_net_request {
	const char *method;          /* NULL for GET */
	const char *url;
	const kd_net_field *headers; /* extra headers; Host and User-Agent
					may be overridden, Content-Length and
					Transfer-Encoding may not */
	size_t nheaders;
	const void *body;            /* sent with Content-Length */
	size_t body_len;
	int timeout_ms;              /* per attempt, all of it; 0: default */
	int64_t deadline_ms;         /* kd_net_now_ms() time for all attempts,
					0 for none */
	size_t max_body;             /* 0: KD_LIMIT_HTTP_BODY_BYTES */
	int max_attempts;            /* 0: KD_NET_DEFAULT_ATTEMPTS */
	int idempotent;              /* 1: retry as if idempotent; 0: by method */
} kd_net_request;

/* Runs the request with its retries; on success out holds the last
 * response (any status), on failure nothing (never a partial body). out
 * is reset first and always needs kd_net_response_free(). */
int kd_net_request_run(kd_net_client *c, const kd_net_request *req,
		       kd_net_response *out, kd_err *err);

/* --- TCP checks -------------------------------------------------------- */

/* Opens a TCP connection to host:port (a name, IPv4 or IPv6 literal) and
 * closes it again: 0 when something accepted it within timeout_ms, else
 * KD_EIO naming the address and why (refused, timed out, no address);
 * KD_EINVAL for a bad host or port. */
int kd_net_tcp_probe(const char *host, unsigned port, int timeout_ms,
		     kd_err *err);

/* --- a TCP listener (listen.c) ----------------------------------------- */

/* A small server's side, for the agent's metrics: one request head read
 * and one answer written per connection, each bounded in bytes and time,
 * so a slow or hostile client costs at most its timeout. Every socket is
 * nonblocking and close-on-exec; writes never raise SIGPIPE. */

/* Listens on host (a numeric IPv4 or IPv6 address, or "localhost" for
 * 127.0.0.1) and port (0: any free one) with SO_REUSEADDR, into *fd_out.
 * KD_EINVAL for another host, KD_EIO when the address is taken. */
int kd_net_listen(int *fd_out, const char *host, unsigned port, kd_err *err);
/* The port a listener is bound to (the one picked for port 0). */
int kd_net_listen_port(int fd, unsigned *port, kd_err *err);
/* A pending connection into *conn_out, or -1 there when none is. */
int kd_net_accept(int fd, int *conn_out, kd_err *err);
/* Reads a request head, everything up to and including the first blank
 * line ("\r\n\r\n"), into buf; its length in *len. KD_ELIMIT when max
 * bytes come without one, KD_EIO when timeout_ms passes or the peer closes
 * first. Bytes after the head may have been read and are dropped. */
int kd_net_read_head(int fd, char *buf, size_t max, int timeout_ms, size_t *len,
		     kd_err *err);
/* Writes all of data within timeout_ms (KD_EIO past it, or when the peer
 * has gone). */
int kd_net_write_all(int fd, const void *data, size_t len, int timeout_ms,
		     kd_err *err);

#endif
