/* One wait over many fds, systemd's notify socket and the binary's own
 * path. See proc.h. */
#include "proc/proc.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int kd_proc_poll(const int *fds, size_t n, int timeout_ms, size_t *ready,
		 size_t *nready, kd_err *err)
{
	struct pollfd *p;
	size_t i;
	int rc;

	*nready = 0;
	if (n > KD_LIMIT_POLL_FDS)
		return kd_err_set(err, KD_ELIMIT, "poll: %zu fds, more than %d (KD_LIMIT_POLL_FDS)",
				  n, KD_LIMIT_POLL_FDS);
	p = calloc(n ? n : 1, sizeof *p);
	if (!p)
		return kd_err_set(err, KD_ENOMEM, "poll: out of memory for %zu fds", n);
	for (i = 0; i < n; i++) {
		p[i].fd = fds[i]; /* poll() itself skips negative ones */
		p[i].events = POLLIN;
	}
	rc = poll(p, (nfds_t)n, timeout_ms);
	if (rc < 0 && errno != EINTR) {
		rc = kd_err_set(err, KD_EIO, "poll: %s", strerror(errno));
		goto cleanup;
	}
	for (i = 0; rc > 0 && i < n; i++)
		if (p[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
			ready[(*nready)++] = i;
	rc = 0;

cleanup:
	free(p);
	return rc;
}

/* "@name" is the abstract namespace: a NUL first, no NUL at the end. */
static int notify_addr(struct sockaddr_un *sa, socklen_t *len, const char *path,
		       kd_err *err)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (path[0] != '/' && path[0] != '@')
		return kd_err_set(err, KD_EINVAL,
				  "NOTIFY_SOCKET=%s is neither a path nor an @abstract name", path);
	if (n >= sizeof sa->sun_path)
		return kd_err_set(err, KD_EINVAL, "NOTIFY_SOCKET=%s is longer than %zu bytes",
				  path, sizeof sa->sun_path - 1);
	memcpy(sa->sun_path, path, n);
	if (path[0] == '@')
		sa->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
	return 0;
}

int kd_proc_notify(const char *text, size_t len, int *sent, kd_err *err)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen = 0;
	int fd, rc;

	*sent = 0;
	if (!path || !path[0])
		return 0;
	if ((rc = notify_addr(&sa, &salen, path, err)))
		return rc;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kd_err_set(err, KD_EIO, "sd_notify: cannot open a socket: %s", strerror(errno));
	while ((rc = (int)sendto(fd, text, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen)) < 0 &&
	       errno == EINTR)
		;
	if (rc < 0) {
		rc = kd_err_set(err, KD_EIO, "sd_notify to %s: %s", path, strerror(errno));
	} else {
		*sent = 1;
		rc = 0;
	}
	close(fd);
	return rc;
}

int kd_proc_exe(char *out, size_t size, kd_err *err)
{
	ssize_t n;

	if (size < 2)
		return kd_err_set(err, KD_EINVAL, "no room for the path of kedge's binary");
	n = readlink("/proc/self/exe", out, size - 1);
	if (n < 0)
		return kd_err_set(err, KD_EIO, "cannot read /proc/self/exe: %s", strerror(errno));
	if ((size_t)n >= size - 1)
		return kd_err_set(err, KD_ELIMIT, "the path of kedge's binary is longer than %zu bytes",
				  size - 2);
	out[n] = '\0';
	return 0;
}
