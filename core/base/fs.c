/* kd_fs: atomic replacement, whole-file reads, locks and clocks. */
#include "base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The error for a failed system call on path (errno still set). */
static int os_error(kd_err *err, const char *what, const char *path)
{
	int e = errno;

	if (e == ENOSPC || e == EDQUOT)
		return kd_err_set(err, KD_FS_ENOSPC, "disk full: cannot %s %s (%s); free space "
				  "on that file system", what, path, strerror(e));
	return kd_err_set(err, e == ENOENT ? KD_ENOTFOUND : KD_EIO, "cannot %s %s: %s",
			  what, path, strerror(e));
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The folder of path ("." for a bare name) into dir. */
static void dir_of(const char *path, char dir[KD_FS_PATH_MAX])
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, KD_FS_PATH_MAX, ".");
	else if (slash == path)
		snprintf(dir, KD_FS_PATH_MAX, "/");
	else
		snprintf(dir, KD_FS_PATH_MAX, "%.*s", (int)(slash - path), path);
}

int kd_fs_sync_dir(const char *dir, kd_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return os_error(err, "open the folder", dir);
	if (fsync(fd))
		rc = os_error(err, "sync the folder", dir);
	close(fd);
	return rc;
}

int kd_fs_replace(const char *from, const char *to, kd_err *err)
{
	char dir[KD_FS_PATH_MAX];

	if (strlen(to) >= sizeof dir)
		return kd_err_set(err, KD_EINVAL, "%s: path too long", to);
	if (rename(from, to))
		return os_error(err, "rename into place", to);
	dir_of(to, dir);
	return kd_fs_sync_dir(dir, err);
}

int kd_fs_write_atomic(const char *path, const void *data, size_t len,
		       unsigned mode, kd_err *err)
{
	char tmp[KD_FS_PATH_MAX], dir[KD_FS_PATH_MAX];
	struct stat st;
	int fd, rc = 0;

	/* the rename would put a plain file where a device (/dev/null), a
	 * fifo or a folder was: for every other program on the node too */
	if (!lstat(path, &st) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return kd_err_set(err, KD_EINVAL, "%s: not a regular file; kedge replaces only files "
				  "(give a file's path)", path);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
		return kd_err_set(err, KD_EINVAL, "%s: path too long", path);
	dir_of(path, dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return os_error(err, "create the folder", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return os_error(err, "create", tmp);
	if (write_all(fd, data, len) || fsync(fd))
		rc = os_error(err, "write", tmp);
	close(fd);
	if (!rc && rename(tmp, path))
		rc = os_error(err, "rename into place", path);
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return kd_fs_sync_dir(dir, err);
}

int kd_fs_read_fd(int fd, const char *name, size_t limit, kd_buf *out, kd_err *err)
{
	char chunk[65536];
	struct stat st;
	size_t got = 0;
	ssize_t n;

	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		return kd_err_set(err, KD_EINVAL, "%s is a directory, not a file", name);
	/* streams (/dev/zero, a pipe from `yes`) never end: the limit, not
	 * the end of input, stops the loop */
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return os_error(err, "read", name);
		}
		if ((size_t)n > limit - got)
			return kd_err_set(err, KD_ELIMIT, "%s is larger than %zu bytes (the limit)",
					  name, limit);
		got += (size_t)n;
		if (kd_buf_put(out, chunk, (size_t)n))
			return kd_err_set(err, out->failed, "%s: %s", name, out->failed == KD_ELIMIT
					  ? "larger than the buffer's limit" : "out of memory");
	}
	return 0;
}

int kd_fs_read_file(const char *path, size_t limit, kd_buf *out, kd_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return os_error(err, "read", path);
	rc = kd_fs_read_fd(fd, path, limit, out, err);
	close(fd);
	return rc;
}

int kd_fs_mkdirs(const char *path, unsigned mode, kd_err *err)
{
	char p[KD_FS_PATH_MAX];
	struct stat st;
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof p)
		return kd_err_set(err, KD_EINVAL, "cannot create the folder \"%s\": %s", path,
				  n ? "path too long" : "empty path");
	memcpy(p, path, n + 1);
	/* each parent in turn: a '/' is cut to a NUL, the prefix made, and
	 * the '/' put back */
	for (char *s = p + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) && !(errno == EEXIST && stat(p, &st) == 0 && S_ISDIR(st.st_mode))) {
			if (errno == EEXIST)
				errno = ENOTDIR;
			return os_error(err, "create the folder", p);
		}
		*s = c;
		if (!c)
			return 0;
	}
}

int64_t kd_fs_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t kd_fs_monotonic_ms(void)
{
	return kd_fs_monotonic_ns() / 1000000;
}

int64_t kd_fs_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void kd_fs_sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	while (ms > 0 && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The pid a holder wrote into the lock file ("" when none). */
static void read_holder(int fd, char pid[32])
{
	ssize_t n = pread(fd, pid, 31, 0);

	pid[n > 0 ? n : 0] = '\0';
	pid[strcspn(pid, "\n")] = '\0';
}

int kd_fs_lock(int *fd_out, const char *path, double timeout_s,
	       const char *who, kd_err *err)
{
	int64_t start = kd_fs_monotonic_ns();
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	char pid[32];

	*fd_out = -1;
	if (fd < 0)
		return os_error(err, "open the lock", path);
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int rc = os_error(err, "lock", path);

			close(fd);
			return rc;
		}
		if (kd_fs_monotonic_ns() - start >= (int64_t)(timeout_s * 1e9)) {
			if (!who) {
				close(fd);
				return kd_err_set(err, KD_FS_EBUSY, "another kedge holds %s; "
						  "waited %g s", path, timeout_s);
			}
			read_holder(fd, pid);
			close(fd);
			return kd_err_set(err, KD_FS_EBUSY, "another %s (pid %s) holds %s; "
					  "waited %g s", who, pid[0] ? pid : "?", path, timeout_s);
		}
		kd_fs_sleep_ms(100);
	}
	if (who) {
		snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
		if (ftruncate(fd, 0) == 0)
			(void)!pwrite(fd, pid, strlen(pid), 0);
	}
	*fd_out = fd;
	return 0;
}

void kd_fs_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
