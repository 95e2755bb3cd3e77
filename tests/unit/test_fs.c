/* core/base/fs, the OS room: atomic replace, bounded reads, folders,
 * locks with a timeout (held by a real second process) and clocks. */
#include "base/fs.h"
#include "tap.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];

/* dir/name, in a buffer the next call reuses */
static const char *at(const char *name)
{
	static char p[512];

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static int count_entries(const char *d)
{
	char cmd[600];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", d);
	f = popen(cmd, "r");
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

static void test_write_and_read(void)
{
	kd_err err = KD_ERR_INIT;
	kd_buf b = KD_BUF_INIT(1 << 20);
	struct stat st;
	char sub[512];

	ok(kd_fs_write_atomic(at("a"), "one", 3, 0640, &err) == 0, "atomic write");
	ok(stat(at("a"), &st) == 0 && (st.st_mode & 0777) == (0640 & ~022u),
	   "the new file has the mode asked for (less the umask)");
	ok(kd_fs_write_atomic(at("a"), "second", 6, 0600, &err) == 0, "replace");
	ok(kd_fs_read_file(at("a"), 100, &b, &err) == 0, "read back");
	is_str(b.ptr, b.len, "second", "the replaced content, whole");
	ok(count_entries(dir) == 1, "no temporary file is left behind");
	b.len = 0;
	ok(kd_fs_read_file(at("a"), 3, &b, &err) == KD_ELIMIT &&
	   strstr(err.msg, at("a")) && strstr(err.msg, "3"),
	   "a read over its limit is KD_ELIMIT naming the path and the limit");
	b.len = 0;
	ok(kd_fs_read_file(at("none"), 10, &b, &err) == KD_ENOTFOUND &&
	   strstr(err.msg, at("none")), "a missing file is KD_ENOTFOUND naming it");
	snprintf(sub, sizeof sub, "%s/new/f", dir);
	ok(kd_fs_write_atomic(sub, "x", 1, 0600, &err) == 0 &&
	   stat(at("new"), &st) == 0 && (st.st_mode & 0777) == 0700,
	   "a missing folder is made (0700)");
	snprintf(sub, sizeof sub, "%s/no/such/f", dir);
	ok(kd_fs_write_atomic(sub, "x", 1, 0600, &err) != 0 && strstr(err.msg, "no/such"),
	   "a missing grandparent is an error naming the path");
	ok(kd_fs_write_atomic(at("a/f"), "x", 1, 0600, &err) != 0 &&
	   kd_fs_read_file(at("a"), 100, (b.len = 0, &b), &err) == 0 &&
	   b.len == 6, "a failed write leaves the old file as it was");
	ok(kd_fs_write_atomic("/dev/null", "x", 1, 0600, &err) == KD_EINVAL &&
	   strstr(err.msg, "not a regular file") && stat("/dev/null", &st) == 0 &&
	   S_ISCHR(st.st_mode), "a device is never replaced: /dev/null stays a device");
	ok(kd_fs_write_atomic(dir, "x", 1, 0600, &err) == KD_EINVAL, "nor a folder");
	kd_buf_free(&b);
}

static void test_folders(void)
{
	kd_err err = KD_ERR_INIT;
	struct stat st;
	char deep[512];

	snprintf(deep, sizeof deep, "%s/m/n/o", dir);
	ok(kd_fs_mkdirs(deep, 0755, &err) == 0 && stat(deep, &st) == 0 &&
	   S_ISDIR(st.st_mode), "mkdirs makes the missing parents");
	ok(kd_fs_mkdirs(deep, 0755, &err) == 0, "an existing folder is fine");
	ok(kd_fs_mkdirs(at("a"), 0755, &err) != 0 && strstr(err.msg, at("a")),
	   "an existing file is an error naming it");
	ok(kd_fs_sync_dir(dir, &err) == 0, "sync_dir of a folder");
	ok(kd_fs_sync_dir(at("nope"), &err) != 0 && strstr(err.msg, "nope"),
	   "sync_dir of a missing folder names it");
	snprintf(deep, sizeof deep, "%s/new/f", dir);
	ok(kd_fs_replace(deep, at("moved"), &err) == 0 &&
	   stat(at("moved"), &st) == 0 && stat(deep, &st) != 0,
	   "replace renames");
	{
		char *huge = malloc(KD_FS_PATH_MAX + 10);

		memset(huge, 'p', KD_FS_PATH_MAX + 9);
		huge[KD_FS_PATH_MAX + 9] = 0;
		huge[0] = '/';
		ok(kd_fs_write_atomic(huge, "x", 1, 0600, &err) == KD_EINVAL,
		   "a path over KD_FS_PATH_MAX is refused");
		free(huge);
	}
}

/* The lock is held by a child process, as another kedge would hold it. */
static void test_lock(void)
{
	kd_err err = KD_ERR_INIT;
	int fd = -1, pipefd[2], status;
	int64_t t0, waited;
	char c;
	pid_t pid;

	ok(pipe(pipefd) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		int cfd = -1;

		if (kd_fs_lock(&cfd, at("lock"), 0, "kedge agent", &err))
			_exit(1);
		(void)!write(pipefd[1], "x", 1);
		pause();
		_exit(0);
	}
	ok(read(pipefd[0], &c, 1) == 1, "the child holds the lock");
	t0 = kd_fs_monotonic_ms();
	ok(kd_fs_lock(&fd, at("lock"), 0.3, "kedge sync", &err) == KD_FS_EBUSY,
	   "a held lock is KD_FS_EBUSY after the timeout");
	waited = kd_fs_monotonic_ms() - t0;
	ok(waited >= 250 && waited < 5000, "it waited about the timeout (%lld ms)",
	   (long long)waited);
	{
		char want[32];

		snprintf(want, sizeof want, "pid %d", (int)pid);
		ok(strstr(err.msg, want) != NULL, "the error names the holder's pid");
		if (!strstr(err.msg, want))
			diag("%s", err.msg);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	ok(kd_fs_lock(&fd, at("lock"), 0, "kedge sync", &err) == 0,
	   "the kernel releases the lock when its holder ends");
	kd_fs_unlock(fd);
	kd_fs_unlock(-1);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_clocks(void)
{
	int64_t m0 = kd_fs_monotonic_ms(), n0 = kd_fs_monotonic_ns(), w = kd_fs_wall_ns();

	kd_fs_sleep_ms(20);
	ok(kd_fs_monotonic_ms() - m0 >= 20, "sleep_ms sleeps, by the monotonic clock");
	ok(kd_fs_monotonic_ns() > n0, "the nanosecond clock moves forward");
	ok(w / 1000000000 > 1700000000, "the wall clock is seconds since the epoch");
	m0 = kd_fs_monotonic_ms();
	kd_fs_sleep_ms(0);
	kd_fs_sleep_ms(-5);
	ok(kd_fs_monotonic_ms() - m0 < 20, "a sleep of zero or less returns at once");
}

int main(void)
{
	snprintf(dir, sizeof dir, "%s/kd-fs-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	umask(022);
	test_write_and_read();
	test_folders();
	test_lock();
	test_clocks();
	{
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		(void)!system(cmd);
	}
	return tap_done();
}
