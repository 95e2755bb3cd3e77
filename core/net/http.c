/* The HTTP/1.1 client: TCP connect with a deadline, TLS 1.2 through
 * mbedTLS, one kept-alive connection per client, retries. See net.h.
 *
 * Sockets are non-blocking; every wait is a poll() bounded by the
 * attempt's deadline, and mbedTLS reads and writes through callbacks that
 * do the same, so nothing here blocks past a deadline (name resolution
 * excepted: getaddrinfo has its own timeouts). */
#include "net/net.h"

#include "base/fs.h"
#include "log/log.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef KEDGE_VERSION
#define KEDGE_VERSION "dev"
#endif

#define READ_CHUNK 16384
#define BACKOFF_BASE_MS 100

typedef struct conn {
	int fd;
	int https;
	char host[KD_LIMIT_HTTP_HOST_BYTES + 1];
	unsigned port;
	int tls_ready;
	mbedtls_ssl_context ssl;
	int64_t deadline;
	int timed_out;
	int sys_errno;
} conn;

struct kd_net_client {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt own_cert;
	mbedtls_pk_context own_key;
	int has_own, has_ca_pem;
	int tls_configured;
	char *ca_file;
	char *token; /* wiped on free */
	size_t token_len;
	int insecure;
	conn *idle;
	int64_t deadline;
	kd_net_stats stats;
};

int64_t kd_net_now_ms(void)
{
	return kd_fs_monotonic_ms();
}

static const char *tls_error(int rc, char *buf, size_t size)
{
	mbedtls_strerror(rc, buf, size);
	return buf;
}

/* --- sockets ---------------------------------------------------------- */

/* Waits until fd is ready for events or the deadline passes (-1). */
static int wait_fd(conn *c, short events)
{
	for (;;) {
		int64_t left = c->deadline - kd_net_now_ms();
		struct pollfd pfd = {c->fd, events, 0};
		int r;

		if (left <= 0) {
			c->timed_out = 1;
			return -1;
		}
		r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 0;
		if (r == 0) {
			c->timed_out = 1;
			return -1;
		}
		if (errno != EINTR) {
			c->sys_errno = errno;
			return -1;
		}
	}
}

static ssize_t raw_send(conn *c, const void *buf, size_t len)
{
	for (;;) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(c, POLLOUT))
				return -1;
			continue;
		}
		c->sys_errno = errno;
		return -1;
	}
}

/* 0 at end of stream. */
static ssize_t raw_recv(conn *c, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = recv(c->fd, buf, len, 0);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(c, POLLIN))
				return -1;
			continue;
		}
		c->sys_errno = errno;
		return -1;
	}
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t n = raw_send(ctx, buf, len);

	return n < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : (int)n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t n = raw_recv(ctx, buf, len);

	return n < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : (int)n;
}

static void conn_close(conn *c)
{
	if (!c)
		return;
	if (c->tls_ready) {
		/* Best effort, and never waiting long for it. */
		c->deadline = kd_net_now_ms() + 100;
		mbedtls_ssl_close_notify(&c->ssl);
		mbedtls_ssl_free(&c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* What went wrong with the socket, for a message ("timed out", "Connection
 * reset by peer", or what the caller says when it was neither). */
static const char *conn_why(const conn *c, const char *otherwise)
{
	if (c->timed_out)
		return "timed out";
	if (c->sys_errno)
		return strerror(c->sys_errno);
	return otherwise;
}

static int conn_write(conn *c, const void *data, size_t len, kd_err *err)
{
	const unsigned char *p = data;
	char ebuf[128];

	while (len) {
		ssize_t n;

		if (c->tls_ready) {
			int r = mbedtls_ssl_write(&c->ssl, p, len);

			if (r == MBEDTLS_ERR_SSL_WANT_READ ||
			    r == MBEDTLS_ERR_SSL_WANT_WRITE)
				continue;
			if (r < 0)
				return kd_err_set(err, KD_EIO,
						  "sending the request to %s:%u failed: %s",
						  c->host, c->port,
						  conn_why(c, tls_error(r, ebuf, sizeof ebuf)));
			n = r;
		} else {
			n = raw_send(c, p, len);
			if (n < 0)
				return kd_err_set(err, KD_EIO,
						  "sending the request to %s:%u failed: %s",
						  c->host, c->port, conn_why(c, "error"));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* *got 0 means the peer closed the connection. */
static int conn_read(conn *c, void *buf, size_t len, size_t *got, kd_err *err)
{
	char ebuf[128];

	*got = 0;
	if (c->tls_ready) {
		for (;;) {
			int r = mbedtls_ssl_read(&c->ssl, buf, len);

			if (r == MBEDTLS_ERR_SSL_WANT_READ ||
			    r == MBEDTLS_ERR_SSL_WANT_WRITE)
				continue;
			if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
			    r == MBEDTLS_ERR_SSL_CONN_EOF || r == 0)
				return 0;
			if (r < 0)
				return kd_err_set(err, KD_EIO,
						  "reading the response from %s:%u failed: %s",
						  c->host, c->port,
						  conn_why(c, tls_error(r, ebuf, sizeof ebuf)));
			*got = (size_t)r;
			return 0;
		}
	}
	{
		ssize_t n = raw_recv(c, buf, len);

		if (n < 0)
			return kd_err_set(err, KD_EIO,
					  "reading the response from %s:%u failed: %s",
					  c->host, c->port, conn_why(c, "error"));
		*got = (size_t)n;
	}
	return 0;
}

/* Non-blocking connect to each address in turn until one answers or the
 * deadline passes. */
static int tcp_connect(conn *c, const kd_net_url *u, int timeout_ms,
		       kd_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[8], addr[64] = "";
	int rc, last_errno = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (u->ip_family ? AI_NUMERICHOST : 0);
	snprintf(port, sizeof port, "%u", u->port);
	rc = getaddrinfo(u->host, port, &hints, &res);
	if (rc)
		return kd_err_set(err, KD_EIO, "cannot resolve host '%s': %s",
				  u->host,
				  rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		int fd, soerr = 0;
		socklen_t slen = sizeof soerr;

		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
				  addr, sizeof addr);
		else if (ai->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
				  addr, sizeof addr);
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		c->fd = fd;
		c->timed_out = 0;
		c->sys_errno = 0;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_fd(c, POLLOUT) == 0 &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) == 0 &&
		     soerr == 0)) {
			int one = 1;

			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			freeaddrinfo(res);
			return 0;
		}
		last_errno = soerr ? soerr : c->sys_errno ? c->sys_errno : errno;
		close(fd);
		c->fd = -1;
		if (c->timed_out)
			break;
	}
	freeaddrinfo(res);
	if (c->timed_out)
		return kd_err_set(err, KD_EIO,
				  "connecting to %s:%u (%s) timed out after %d ms",
				  u->host, u->port, addr, timeout_ms);
	return kd_err_set(err, KD_EIO, "cannot connect to %s:%u%s%s%s: %s",
			  u->host, u->port, addr[0] && strcmp(addr, u->host) ? " (" : "",
			  addr[0] && strcmp(addr, u->host) ? addr : "",
			  addr[0] && strcmp(addr, u->host) ? ")" : "",
			  last_errno ? strerror(last_errno) : "no address");
}

int kd_net_tcp_probe(const char *host, unsigned port, int timeout_ms,
		     kd_err *err)
{
	char url[KD_LIMIT_HTTP_HOST_BYTES + 32];
	kd_net_url u;
	conn c;
	int rc;

	if (!host || !*host || port == 0 || port > 65535 || timeout_ms <= 0)
		return kd_err_set(err, KD_EINVAL,
				  "a TCP check needs a host, a port from 1 to 65535 and a timeout above 0");
	if (strlen(host) > KD_LIMIT_HTTP_HOST_BYTES)
		return kd_err_set(err, KD_EINVAL, "host longer than KD_LIMIT_HTTP_HOST_BYTES (%u)",
				  KD_LIMIT_HTTP_HOST_BYTES);
	/* the URL parser is the one place that knows what a valid host is */
	snprintf(url, sizeof url, strchr(host, ':') ? "http://[%s]:%u/" : "http://%s:%u/",
		 host, port);
	if (kd_net_url_parse(&u, url, NULL))
		return kd_err_set(err, KD_EINVAL,
				  "invalid host '%s': use a name, an IPv4 or an IPv6 address", host);
	memset(&c, 0, sizeof c);
	c.fd = -1;
	c.deadline = kd_net_now_ms() + timeout_ms;
	if ((rc = tcp_connect(&c, &u, timeout_ms, err)))
		return rc;
	close(c.fd);
	return 0;
}

/* --- TLS -------------------------------------------------------------- */

static int tls_configure(kd_net_client *cl, kd_err *err)
{
	const char *ca = cl->ca_file ? cl->ca_file : KD_NET_SYSTEM_CA;
	char ebuf[128];
	int rc;

	if (cl->tls_configured)
		return 0;
	rc = mbedtls_ssl_config_defaults(&cl->conf, MBEDTLS_SSL_IS_CLIENT,
					 MBEDTLS_SSL_TRANSPORT_STREAM,
					 MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc)
		return kd_err_set(err, KD_EINTERNAL, "mbedTLS configuration: %s",
				  tls_error(rc, ebuf, sizeof ebuf));
	mbedtls_ssl_conf_rng(&cl->conf, mbedtls_ctr_drbg_random, &cl->drbg);
	mbedtls_ssl_conf_min_version(&cl->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	if (cl->has_own &&
	    (rc = mbedtls_ssl_conf_own_cert(&cl->conf, &cl->own_cert, &cl->own_key)))
		return kd_err_set(err, KD_EINTERNAL, "mbedTLS client certificate: %s",
				  tls_error(rc, ebuf, sizeof ebuf));
	if (cl->insecure) {
		mbedtls_ssl_conf_authmode(&cl->conf, MBEDTLS_SSL_VERIFY_NONE);
	} else {
		if (cl->ca_file || !cl->has_ca_pem) {
			rc = mbedtls_x509_crt_parse_file(&cl->ca, ca);
			if (rc < 0 || cl->ca.version == 0)
				return kd_err_set(err, KD_EIO,
						  "cannot load CA certificates from %s: %s", ca,
						  rc < 0 ? tls_error(rc, ebuf, sizeof ebuf)
							 : "no certificate in it");
		}
		/* Verified after the handshake, by kedge, so that the
		 * message can say why and IP addresses can be checked. */
		mbedtls_ssl_conf_authmode(&cl->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
		mbedtls_ssl_conf_ca_chain(&cl->conf, &cl->ca, NULL);
	}
	cl->tls_configured = 1;
	return 0;
}

static void time_text(char *out, size_t size, const mbedtls_x509_time *t)
{
	snprintf(out, size, "%04d-%02d-%02d %02d:%02d:%02d UTC", t->year,
		 t->mon, t->day, t->hour, t->min, t->sec);
}

/* Explains a failed verification: which check, and the certificate's
 * subject, issuer, validity or names. */
static int verify_error(kd_net_client *cl, conn *c, const kd_net_url *u,
			const mbedtls_x509_crt *crt, uint32_t flags,
			const char *names, kd_err *err)
{
	char subject[256] = "?", issuer[256] = "?", when[40], info[256];
	kd_buf msg = KD_BUF_INIT(KD_ERR_MSG_MAX);
	int rc;

	if (crt) {
		mbedtls_x509_dn_gets(subject, sizeof subject, &crt->subject);
		mbedtls_x509_dn_gets(issuer, sizeof issuer, &crt->issuer);
	}
	kd_buf_printf(&msg, "certificate of %s:%u refused:", u->host, u->port);
	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
		kd_buf_printf(&msg,
			      " not issued by a trusted CA (subject '%s', issuer '%s'; CA %s%s%s);",
			      subject, issuer,
			      cl->ca_file || !cl->has_ca_pem ? "file " : "",
			      cl->ca_file ? cl->ca_file
					  : cl->has_ca_pem ? "from PEM text" : KD_NET_SYSTEM_CA,
			      cl->ca_file && cl->has_ca_pem ? " and PEM text" : "");
		flags &= ~MBEDTLS_X509_BADCERT_NOT_TRUSTED;
	}
	if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
		time_text(when, sizeof when, &crt->valid_to);
		kd_buf_printf(&msg, " expired on %s (subject '%s');", when, subject);
		flags &= ~MBEDTLS_X509_BADCERT_EXPIRED;
	}
	if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
		time_text(when, sizeof when, &crt->valid_from);
		kd_buf_printf(&msg, " not valid before %s (subject '%s');", when,
			      subject);
		flags &= ~MBEDTLS_X509_BADCERT_FUTURE;
	}
	if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
		kd_buf_printf(&msg,
			      " name mismatch: it is not valid for %s '%s' (its names: %s; subject '%s');",
			      u->ip_family ? "IP address" : "host", u->host,
			      names && *names ? names : "none", subject);
		flags &= ~MBEDTLS_X509_BADCERT_CN_MISMATCH;
	}
	if (flags) {
		rc = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
		if (rc > 0) {
			for (char *p = info; *p; p++)
				if (*p == '\n')
					*p = ';';
			kd_buf_printf(&msg, " %s", info);
		}
	}
	if (msg.len && msg.ptr[msg.len - 1] == ';')
		msg.ptr[--msg.len] = 0;
	rc = kd_err_set(err, KD_EIO, "%s", msg.ptr);
	kd_buf_free(&msg);
	(void)c;
	return rc;
}

/* 0, or an error and *fatal when retrying cannot help (verification). */
static int tls_start(kd_net_client *cl, conn *c, const kd_net_url *u,
		     int *fatal, kd_err *err)
{
	const mbedtls_x509_crt *crt;
	kd_buf names = KD_BUF_INIT(512);
	char ebuf[160];
	uint32_t flags;
	int rc;

	if ((rc = tls_configure(cl, err))) {
		*fatal = 1;
		return rc;
	}
	mbedtls_ssl_init(&c->ssl);
	c->tls_ready = 1;
	if ((rc = mbedtls_ssl_setup(&c->ssl, &cl->conf)) ||
	    (!u->ip_family && (rc = mbedtls_ssl_set_hostname(&c->ssl, u->host)))) {
		*fatal = 1;
		return kd_err_set(err, KD_EINTERNAL, "mbedTLS setup: %s",
				  tls_error(rc, ebuf, sizeof ebuf));
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	while ((rc = mbedtls_ssl_handshake(&c->ssl)) != 0) {
		if (rc == MBEDTLS_ERR_SSL_WANT_READ ||
		    rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		c->tls_ready = 0;
		mbedtls_ssl_free(&c->ssl);
		if (c->timed_out)
			return kd_err_set(err, KD_EIO,
					  "TLS handshake with %s:%u timed out",
					  u->host, u->port);
		return kd_err_set(err, KD_EIO, "TLS handshake with %s:%u failed: %s%s",
				  u->host, u->port,
				  conn_why(c, tls_error(rc, ebuf, sizeof ebuf)),
				  rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && !cl->has_own
				  ? " (no client certificate was offered; does the server require one?)"
				  : "");
	}
	if (cl->insecure)
		return 0;
	flags = mbedtls_ssl_get_verify_result(&c->ssl);
	crt = mbedtls_ssl_get_peer_cert(&c->ssl);
	if (crt && (u->ip_family || (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH))) {
		rc = kd_net_crt_match_ip(crt, u->ip,
					 u->ip_family == 4 ? 4 : u->ip_family ? 16 : 0,
					 &names);
		if (u->ip_family && rc != 1)
			flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
	}
	if (!crt)
		flags |= MBEDTLS_X509_BADCERT_MISSING;
	if (flags) {
		*fatal = 1;
		rc = verify_error(cl, c, u, crt, flags, names.ptr, err);
		kd_buf_free(&names);
		return rc;
	}
	kd_buf_free(&names);
	return 0;
}

/* --- the client ------------------------------------------------------- */

/* mbedTLS wants PEM text with its NUL counted in the length. */
static int parse_crt_text(mbedtls_x509_crt *chain, const char *pem)
{
	return mbedtls_x509_crt_parse(chain, (const unsigned char *)pem,
				      strlen(pem) + 1);
}

static int load_pems(kd_net_client *c, const kd_net_client_opts *o,
		     kd_err *err)
{
	char ebuf[128];
	int rc;

	if (o->ca_pem) {
		rc = parse_crt_text(&c->ca, o->ca_pem);
		if (rc < 0 || c->ca.version == 0)
			return kd_err_set(err, KD_EINVAL,
					  "CA certificates (PEM text): %s",
					  rc < 0 ? tls_error(rc, ebuf, sizeof ebuf)
						 : "no certificate in it");
		c->has_ca_pem = 1;
	}
	if (!o->cert_file && !o->cert_pem && !o->key_file && !o->key_pem)
		return 0;
	if ((!o->cert_file == !o->cert_pem) || (!o->key_file == !o->key_pem))
		return kd_err_set(err, KD_EINVAL,
				  "a client certificate needs one certificate and one key (file or PEM text)");
	rc = o->cert_file ? mbedtls_x509_crt_parse_file(&c->own_cert, o->cert_file)
			  : parse_crt_text(&c->own_cert, o->cert_pem);
	if (rc)
		return kd_err_set(err, KD_EINVAL, "client certificate %s: %s",
				  o->cert_file ? o->cert_file : "(PEM text)",
				  rc < 0 ? tls_error(rc, ebuf, sizeof ebuf)
					 : "unreadable certificate in it");
	rc = o->key_file ? mbedtls_pk_parse_keyfile(&c->own_key, o->key_file, NULL)
			 : mbedtls_pk_parse_key(&c->own_key,
						(const unsigned char *)o->key_pem,
						strlen(o->key_pem) + 1, NULL, 0);
	if (rc)
		return kd_err_set(err, KD_EINVAL, "client key %s: %s",
				  o->key_file ? o->key_file : "(PEM text)",
				  tls_error(rc, ebuf, sizeof ebuf));
	if (mbedtls_pk_check_pair(&c->own_cert.pk, &c->own_key))
		return kd_err_set(err, KD_EINVAL,
				  "the client key does not belong to the client certificate");
	c->has_own = 1;
	return 0;
}

int kd_net_client_new(kd_net_client **out, const kd_net_client_opts *opts,
		      kd_err *err)
{
	static const char pers[] = "kedge net client";
	kd_net_client *c = calloc(1, sizeof *c);
	char ebuf[128];
	int rc;

	*out = NULL;
	if (!c)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	mbedtls_entropy_init(&c->entropy);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_x509_crt_init(&c->ca);
	mbedtls_x509_crt_init(&c->own_cert);
	mbedtls_pk_init(&c->own_key);
	if (opts && opts->ca_file && !(c->ca_file = strdup(opts->ca_file))) {
		kd_net_client_free(c);
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	}
	if (opts && opts->token) {
		if (strpbrk(opts->token, "\r\n")) {
			kd_net_client_free(c);
			return kd_err_set(err, KD_EINVAL,
					  "the bearer token holds a line break");
		}
		if (!(c->token = strdup(opts->token))) {
			kd_net_client_free(c);
			return kd_err_set(err, KD_ENOMEM, "out of memory");
		}
		c->token_len = strlen(c->token);
	}
	c->insecure = opts && opts->insecure;
	rc = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
				   (const unsigned char *)pers, sizeof pers - 1);
	if (rc) {
		kd_net_client_free(c);
		return kd_err_set(err, KD_EINTERNAL,
				  "seeding the random generator failed: %s",
				  tls_error(rc, ebuf, sizeof ebuf));
	}
	if (opts && (rc = load_pems(c, opts, err))) {
		kd_net_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void kd_net_client_free(kd_net_client *c)
{
	if (!c)
		return;
	conn_close(c->idle);
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_x509_crt_free(&c->ca);
	mbedtls_x509_crt_free(&c->own_cert);
	mbedtls_pk_free(&c->own_key);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
	free(c->ca_file);
	if (c->token)
		explicit_bzero(c->token, c->token_len);
	free(c->token);
	free(c);
}

void kd_net_client_set_deadline(kd_net_client *c, int64_t deadline_ms)
{
	c->deadline = deadline_ms;
}

void kd_net_client_stats(const kd_net_client *c, kd_net_stats *out)
{
	*out = c->stats;
}

static int token_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

static int check_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!token_char((unsigned char)*s))
			return 0;
	return 1;
}

static int has_header(const kd_net_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return 1;
	return 0;
}

/* The request line and headers. */
static int build_head(kd_buf *w, const kd_net_request *req, const char *method,
		      const kd_net_url *u, kd_err *err)
{
	if (!check_token(method))
		return kd_err_set(err, KD_EINVAL, "invalid HTTP method '%s'", method);
	kd_buf_printf(w, "%s %s HTTP/1.1\r\n", method, u->target);
	if (!has_header(req, "host")) {
		kd_buf_printf(w, u->ip_family == 6 ? "Host: [%s]" : "Host: %s",
			      u->host);
		if (!u->default_port)
			kd_buf_printf(w, ":%u", u->port);
		kd_buf_puts(w, "\r\n");
	}
	if (!has_header(req, "user-agent"))
		kd_buf_puts(w, "User-Agent: kedge/" KEDGE_VERSION "\r\n");
	if (req->nheaders > KD_LIMIT_HTTP_HEADERS)
		return kd_err_set(err, KD_EINVAL,
				  "more than KD_LIMIT_HTTP_HEADERS (%u) request headers",
				  KD_LIMIT_HTTP_HEADERS);
	for (size_t i = 0; i < req->nheaders; i++) {
		const char *n = req->headers[i].name, *v = req->headers[i].value;

		if (!check_token(n))
			return kd_err_set(err, KD_EINVAL,
					  "invalid request header name '%s'", n);
		if (!strcasecmp(n, "content-length") ||
		    !strcasecmp(n, "transfer-encoding"))
			return kd_err_set(err, KD_EINVAL,
					  "the client sets '%s' itself", n);
		if (strpbrk(v, "\r\n"))
			return kd_err_set(err, KD_EINVAL,
					  "request header '%s' holds a line break", n);
		kd_buf_printf(w, "%s: %s\r\n", n, v);
	}
	if (req->body || !strcmp(method, "POST") || !strcmp(method, "PUT") ||
	    !strcmp(method, "PATCH"))
		kd_buf_printf(w, "Content-Length: %zu\r\n", req->body_len);
	kd_buf_puts(w, "\r\n");
	if (w->failed)
		return kd_err_set(err, w->failed,
				  "the request head is larger than KD_LIMIT_HTTP_HEADER_BYTES (%u)",
				  KD_LIMIT_HTTP_HEADER_BYTES);
	return 0;
}

/* The head with the client's bearer token put before its blank line, in
 * memory of its own that the caller wipes and frees (a kd_buf that grows
 * could leave copies of the token in freed memory). *out stays NULL when
 * there is no token to add. */
static int add_token(const kd_net_client *cl, const kd_net_request *req,
		     const kd_buf *head, char **out, size_t *len, kd_err *err)
{
	static const char name[] = "Authorization: Bearer ";
	size_t n, off = head->len - 2;
	char *p;

	*out = NULL;
	*len = 0;
	if (!cl->token || has_header(req, "authorization"))
		return 0;
	n = head->len + sizeof name - 1 + cl->token_len + 2;
	if (n > KD_LIMIT_HTTP_HEADER_BYTES)
		return kd_err_set(err, KD_ELIMIT,
				  "the request head is larger than KD_LIMIT_HTTP_HEADER_BYTES (%u)",
				  KD_LIMIT_HTTP_HEADER_BYTES);
	if (!(p = malloc(n)))
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	memcpy(p, head->ptr, off);
	memcpy(p + off, name, sizeof name - 1);
	off += sizeof name - 1;
	memcpy(p + off, cl->token, cl->token_len);
	memcpy(p + off + cl->token_len, "\r\n\r\n", 4);
	*out = p;
	*len = n;
	return 0;
}

static int same_origin(const conn *c, const kd_net_url *u)
{
	return c->https == u->https && c->port == u->port &&
	       !strcmp(c->host, u->host);
}

/* Is the idle connection still quiet? Data or EOF on it means the server
 * closed it (or broke protocol): it cannot carry another request. */
static int idle_usable(conn *c)
{
	struct pollfd pfd = {c->fd, POLLIN, 0};

	if (c->tls_ready && mbedtls_ssl_get_bytes_avail(&c->ssl))
		return 0;
	return poll(&pfd, 1, 0) == 0;
}

typedef struct outcome {
	int sent;      /* some request bytes went out */
	int fatal;     /* retrying cannot help */
} outcome;

static int attempt(kd_net_client *cl, const kd_net_url *u, const char *method,
		   const char *head, size_t head_len, const kd_net_request *req,
		   int64_t deadline, int timeout_ms, kd_net_response *out,
		   outcome *oc, kd_err *err)
{
	kd_net_reader *rd = NULL;
	conn *c = cl->idle;
	char *buf = NULL;
	int rc, done = 0;

	cl->idle = NULL;
	if (c && (!same_origin(c, u) || !idle_usable(c))) {
		conn_close(c);
		c = NULL;
	}
	if (c) {
		cl->stats.reused++;
		c->deadline = deadline;
		c->timed_out = 0;
		c->sys_errno = 0;
	} else {
		if (!(c = calloc(1, sizeof *c)))
			return kd_err_set(err, KD_ENOMEM, "out of memory");
		c->fd = -1;
		c->https = u->https;
		c->port = u->port;
		memcpy(c->host, u->host, sizeof c->host);
		c->deadline = deadline;
		cl->stats.connections++;
		if ((rc = tcp_connect(c, u, timeout_ms, err)))
			goto cleanup;
		if (u->https) {
			if (cl->insecure)
				kd_log(KD_LOG_WARN,
				       "INSECURE: TLS certificate verification is off for %s:%u; anyone on the path can read and change this traffic",
				       u->host, u->port);
			if ((rc = tls_start(cl, c, u, &oc->fatal, err)))
				goto cleanup;
		}
	}
	cl->stats.requests++;
	oc->sent = 1;
	if ((rc = conn_write(c, head, head_len, err)) ||
	    (req->body_len &&
	     (rc = conn_write(c, req->body, req->body_len, err))))
		goto cleanup;
	if ((rc = kd_net_reader_new(&rd, out, req->max_body,
				    !strcmp(method, "HEAD"), err)))
		goto cleanup;
	if (!(buf = malloc(READ_CHUNK))) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory");
		goto cleanup;
	}
	while (!done) {
		size_t got, used;

		if ((rc = conn_read(c, buf, READ_CHUNK, &got, err)))
			goto cleanup;
		rc = kd_net_reader_feed(rd, buf, got, &used, err);
		if (rc < 0) {
			/* A closed connection with no answer is worth
			 * another try; a malformed or oversized one is not. */
			oc->fatal = !(rc == KD_EIO);
			goto cleanup;
		}
		done = rc;
		if (done && used < got)
			kd_log(KD_LOG_DEBUG,
			       "%s:%u sent %zu bytes after the response; closing",
			       u->host, u->port, got - used);
	}
	rc = 0;
	if (kd_net_reader_keep_alive(rd)) {
		cl->idle = c;
		c = NULL;
	}
cleanup:
	if (rc && c && c->timed_out && !strstr(err->msg, "timed out"))
		kd_err_prefix(err, "timed out after %d ms", timeout_ms);
	kd_net_reader_free(rd);
	free(buf);
	conn_close(c);
	return rc;
}

static int method_idempotent(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") ||
	       !strcmp(m, "DELETE") || !strcmp(m, "OPTIONS");
}

static int status_retryable(int s)
{
	return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/* Retry-After in seconds (an HTTP date is not honoured: -1). */
static int64_t retry_after_ms(const kd_net_response *r)
{
	const char *v = kd_net_response_header(r, "retry-after");
	long long s = 0;

	if (!v || !*v)
		return -1;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (s <= KD_LIMIT_HTTP_RETRY_AFTER_S)
			s = s * 10 + (*p - '0');
	}
	if (s > KD_LIMIT_HTTP_RETRY_AFTER_S)
		s = KD_LIMIT_HTTP_RETRY_AFTER_S;
	return s * 1000;
}

/* Exponential backoff with jitter: half the step plus a random part. */
static int64_t backoff_ms(kd_net_client *cl, int attempt_no)
{
	int64_t step = BACKOFF_BASE_MS;
	uint32_t rnd = 0;

	for (int i = 0; i < attempt_no && step < KD_LIMIT_HTTP_BACKOFF_MS; i++)
		step *= 2;
	if (step > KD_LIMIT_HTTP_BACKOFF_MS)
		step = KD_LIMIT_HTTP_BACKOFF_MS;
	if (mbedtls_ctr_drbg_random(&cl->drbg, (unsigned char *)&rnd, sizeof rnd))
		rnd = (uint32_t)kd_net_now_ms();
	return step / 2 + (int64_t)(rnd % (uint32_t)(step / 2 + 1));
}

int kd_net_request_run(kd_net_client *cl, const kd_net_request *req,
		       kd_net_response *out, kd_err *err)
{
	const char *method = req->method ? req->method : "GET";
	kd_buf head = KD_BUF_INIT(KD_LIMIT_HTTP_HEADER_BYTES);
	int timeout = req->timeout_ms > 0 ? req->timeout_ms
					  : KD_NET_DEFAULT_TIMEOUT_MS;
	int attempts = req->max_attempts > 0 ? req->max_attempts
					     : KD_NET_DEFAULT_ATTEMPTS;
	int idem = req->idempotent || method_idempotent(method);
	int64_t overall = req->deadline_ms;
	char *authed = NULL; /* the head with the bearer token, wiped */
	size_t authed_len = 0;
	kd_net_url *u;
	int rc = 0, i, made = 0;

	kd_net_response_free(out);
	kd_net_response_init(out);
	if (attempts > KD_LIMIT_HTTP_ATTEMPTS)
		attempts = KD_LIMIT_HTTP_ATTEMPTS;
	if (cl->deadline && (!overall || cl->deadline < overall))
		overall = cl->deadline;
	if (!(u = malloc(sizeof *u)))
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	if ((rc = kd_net_url_parse(u, req->url, err)) ||
	    (rc = build_head(&head, req, method, u, err)) ||
	    (rc = add_token(cl, req, &head, &authed, &authed_len, err)))
		goto cleanup;
	for (i = 0; i < attempts; i++) {
		int64_t now = kd_net_now_ms(), wait, deadline = now + timeout;
		outcome oc = {0, 0};

		if (overall && now >= overall) {
			if (i == 0)
				rc = kd_err_set(err, KD_EIO,
						"the deadline passed before the request could start");
			break;
		}
		if (overall && overall < deadline)
			deadline = overall;
		if (i > 0)
			cl->stats.retries++;
		kd_net_response_free(out);
		kd_net_response_init(out);
		kd_err_clear(err);
		made++;
		rc = attempt(cl, u, method, authed ? authed : head.ptr,
			     authed ? authed_len : head.len, req, deadline,
			     (int)(deadline - now), out, &oc, err);
		if (rc == 0) {
			if (!idem || !status_retryable(out->status) ||
			    i + 1 == attempts)
				break;
			wait = -1;
			if (out->status == 429 || out->status == 503)
				wait = retry_after_ms(out);
			if (wait < 0)
				wait = backoff_ms(cl, i);
			if (overall && kd_net_now_ms() + wait >= overall)
				break;
			kd_log(KD_LOG_DEBUG, "%s %s answered %d; retrying in %lld ms",
			       method, req->url, out->status, (long long)wait);
		} else {
			if (oc.fatal || rc == KD_ENOMEM || (oc.sent && !idem) ||
			    i + 1 == attempts)
				break;
			wait = backoff_ms(cl, i);
			if (overall && kd_net_now_ms() + wait >= overall)
				break;
			kd_log(KD_LOG_DEBUG, "%s %s failed (%s); retrying in %lld ms",
			       method, req->url, err->msg, (long long)wait);
		}
		kd_fs_sleep_ms(wait);
	}
cleanup:
	if (rc) {
		/* Never hand out part of a response. */
		kd_net_response_free(out);
		kd_net_response_init(out);
		if (made > 1)
			kd_err_prefix(err, "%s %s (%d attempts)", method, req->url,
				      made);
		else
			kd_err_prefix(err, "%s %s", method, req->url);
	}
	if (authed)
		explicit_bzero(authed, authed_len);
	free(authed);
	kd_buf_free(&head);
	free(u);
	return rc;
}
