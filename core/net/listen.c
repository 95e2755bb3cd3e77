/* A TCP listener and the bounded reads and writes of its connections. See
 * net.h. */
#include "net/net.h"

#include "base/fs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int kd_net_listen(int *fd_out, const char *host, unsigned port, kd_err *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	unsigned char ip[16];
	socklen_t len;
	int family, fd, one = 1;

	*fd_out = -1;
	if (!host || port > 65535)
		return kd_err_set(err, KD_EINVAL, "listen: give a host and a port from 0 to 65535");
	family = !strcmp(host, "localhost") ? 4 : kd_net_ip_parse(host, ip);
	if (!strcmp(host, "localhost"))
		memcpy(ip, (unsigned char[]){127, 0, 0, 1}, 4);
	if (!family)
		return kd_err_set(err, KD_EINVAL,
				  "listen on '%s': give a numeric IPv4 or IPv6 address, or localhost", host);
	memset(&ss, 0, sizeof ss);
	if (family == 4) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		memcpy(&v4->sin_addr, ip, 4);
		len = sizeof *v4;
	} else {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		memcpy(&v6->sin6_addr, ip, 16);
		len = sizeof *v6;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kd_err_set(err, KD_EIO, "listen on %s:%u: %s", host, port, strerror(errno));
	/* a restarted agent can bind again while old connections linger */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, KD_LIMIT_LISTEN_BACKLOG)) {
		int eno = errno;

		close(fd);
		return kd_err_set(err, KD_EIO, "listen on %s:%u: %s", host, port, strerror(eno));
	}
	*fd_out = fd;
	return 0;
}

int kd_net_listen_port(int fd, unsigned *port, kd_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	*port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return kd_err_set(err, KD_EIO, "the listener's address: %s", strerror(errno));
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

int kd_net_accept(int fd, int *conn_out, kd_err *err)
{
	int c;

	*conn_out = -1;
	while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (c >= 0) {
		*conn_out = c;
		return 0;
	}
	/* a client that gave up before its turn is no error of ours */
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)
		return 0;
	return kd_err_set(err, KD_EIO, "accept: %s", strerror(errno));
}

/* Waits for events on fd until deadline (kd_fs_monotonic_ms time): 0, or
 * KD_EIO when it passed. */
static int wait_until(int fd, short events, int64_t deadline, const char *what,
		      kd_err *err)
{
	for (;;) {
		struct pollfd p = {fd, events, 0};
		int64_t left = deadline - kd_fs_monotonic_ms();
		int rc;

		if (left <= 0)
			return kd_err_set(err, KD_EIO, "%s: timed out", what);
		rc = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return kd_err_set(err, KD_EIO, "%s: %s", what, strerror(errno));
	}
}

int kd_net_read_head(int fd, char *buf, size_t max, int timeout_ms, size_t *len,
		     kd_err *err)
{
	int64_t deadline = kd_fs_monotonic_ms() + timeout_ms;
	size_t have = 0;
	int rc;

	*len = 0;
	if (max < 4 || timeout_ms <= 0)
		return kd_err_set(err, KD_EINVAL, "reading a request: max below 4 bytes or no timeout");
	while (have < max) {
		ssize_t n = recv(fd, buf + have, max - have, MSG_DONTWAIT);
		size_t from = have > 3 ? have - 3 : 0;
		char *end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((rc = wait_until(fd, POLLIN, deadline, "reading a request", err)))
				return rc;
			continue;
		}
		if (n < 0)
			return kd_err_set(err, KD_EIO, "reading a request: %s", strerror(errno));
		if (n == 0)
			return kd_err_set(err, KD_EIO,
					  "reading a request: the client closed after %zu bytes", have);
		have += (size_t)n;
		end = memmem(buf + from, have - from, "\r\n\r\n", 4);
		if (end) {
			*len = (size_t)(end - buf) + 4;
			return 0;
		}
	}
	return kd_err_set(err, KD_ELIMIT, "reading a request: no end of its head in %zu bytes", max);
}

int kd_net_write_all(int fd, const void *data, size_t len, int timeout_ms,
		     kd_err *err)
{
	int64_t deadline = kd_fs_monotonic_ms() + timeout_ms;
	const char *p = data;
	int rc;

	if (timeout_ms <= 0)
		return kd_err_set(err, KD_EINVAL, "writing an answer: no timeout");
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((rc = wait_until(fd, POLLOUT, deadline, "writing an answer", err)))
				return rc;
			continue;
		}
		if (n < 0)
			return kd_err_set(err, KD_EIO, "writing an answer: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
