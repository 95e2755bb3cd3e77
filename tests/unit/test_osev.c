/* The resident agent's C pieces, called directly: signal names and a
 * signalfd fed by raise(), kd_proc_poll over a pipe, children with env and
 * status, sd_notify to a datagram socket bound here (NOTIFY_SOCKET set
 * with setenv, which the Lua tests cannot do), and kd_net_read_head over
 * a socketpair with the blank line split across writes. */
#include "tap.h"

#include "base/fs.h"
#include "net/net.h"
#include "proc/proc.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void test_signals(void)
{
	kd_err err = KD_ERR_INIT;
	int want[] = {SIGUSR2, SIGHUP}, bad[] = {SIGSTOP}, got[8], fd;
	size_t n;

	is_int(kd_proc_signal_number("TERM"), SIGTERM, "TERM by name");
	is_int(kd_proc_signal_number("SIGTERM"), 0, "names are without SIG");
	is_strz(kd_proc_signal_name(SIGCHLD), "CHLD", "and back");
	ok(kd_proc_signal_name(0) == NULL, "no name for 0");
	is_int(kd_proc_signals_open(&fd, bad, 1, &err), KD_EINVAL, "STOP cannot be caught");
	ok(!kd_proc_signals_open(&fd, want, 2, &err), "a signalfd: %s", err.msg);
	ok(!kd_proc_signals_read(fd, got, 8, &n, &err) && n == 0, "nothing pending");
	raise(SIGUSR2);
	raise(SIGHUP);
	ok(!kd_proc_signals_read(fd, got, 8, &n, &err), "read");
	is_int(n, 2, "both raised signals are pending");
	ok(n == 2 && got[0] + got[1] == SIGUSR2 + SIGHUP, "and they are the ones raised");
	raise(SIGUSR2);
	ok(!kd_proc_signals_read(fd, got, 0, &n, &err) && n == 0, "max 0 reads none");
	ok(!kd_proc_signals_read(fd, got, 8, &n, &err) && n == 1 && got[0] == SIGUSR2, "then it");
	close(fd);
}

static void test_poll_and_spawn(void)
{
	static const char *const echo[] = {"sh", "-c", "printf '%s|%s' \"$A\" \"$HOME\"", NULL};
	static const char *const env[] = {"A=one", "HOME=/elsewhere", NULL};
	static const char *const bad_env[] = {"=x", NULL};
	static const char *const missing[] = {"kedge-no-such-program", NULL};
	kd_proc_spawn_opts o = {1, 1, env};
	kd_proc_child c;
	kd_err err = KD_ERR_INIT;
	char buf[256];
	size_t got, ready[2], nready, len = 0;
	int eof = 0, done = 0, fds[2], i;
	int64_t t0;

	ok(!kd_proc_spawn(&c, echo, &o, &err), "spawn: %s", err.msg);
	fds[0] = -1; /* skipped */
	fds[1] = c.out_fd;
	ok(!kd_proc_poll(fds, 2, 5000, ready, &nready, &err), "poll");
	ok(nready == 1 && ready[0] == 1, "poll: the pipe is ready, the -1 skipped");
	for (i = 0; i < 500 && !eof; i++) {
		if (kd_proc_child_read(&c, buf + len, sizeof buf - 1 - len, &got, &eof, &err))
			break;
		len += got;
		if (!eof && !got)
			kd_fs_sleep_ms(10);
	}
	is_str(buf, len, "one|/elsewhere", "env set and overridden");
	ok(eof && c.out_fd == -1, "end of file closes the pipe");
	ok(!kd_proc_child_wait(&c, 1, &done, &err) && done && c.status == 0 && c.signal == 0, "exit 0");
	ok(!kd_proc_child_kill(&c, SIGKILL, &err), "kill after reaping: nothing");

	t0 = kd_fs_monotonic_ms();
	ok(!kd_proc_poll(NULL, 0, 100, ready, &nready, &err) && nready == 0, "poll of nothing");
	ok(kd_fs_monotonic_ms() - t0 >= 95, "waits the timeout");
	is_int(kd_proc_poll(fds, KD_LIMIT_POLL_FDS + 1, 0, ready, &nready, &err), KD_ELIMIT,
	       "poll over the limit");

	o.env = bad_env;
	is_int(kd_proc_spawn(&c, echo, &o, &err), KD_EINVAL, "a bad env entry");
	o.env = NULL;
	is_int(kd_proc_spawn(&c, missing, &o, &err), KD_EIO, "a missing program");
	ok(strstr(err.msg, "kedge-no-such-program") != NULL, "named: %s", err.msg);
}

static void test_notify(void)
{
	struct sockaddr_un sa = {AF_UNIX, {0}};
	kd_err err = KD_ERR_INIT;
	char got[64];
	int fd, sent = 1;
	ssize_t n;

	unsetenv("NOTIFY_SOCKET");
	ok(!kd_proc_notify("READY=1", 7, &sent, &err) && !sent, "notify without NOTIFY_SOCKET: not sent");
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "kedge-test-osev-%d", (int)getpid());
	ok(!bind(fd, (struct sockaddr *)&sa, sizeof sa.sun_family + 1 + strlen(sa.sun_path + 1)),
	   "an abstract datagram socket");
	snprintf(got, sizeof got, "@%s", sa.sun_path + 1);
	setenv("NOTIFY_SOCKET", got, 1);
	ok(!kd_proc_notify("WATCHDOG=1", 10, &sent, &err) && sent, "notify: sent (%s)", err.msg);
	n = recv(fd, got, sizeof got, MSG_DONTWAIT);
	is_str(got, n > 0 ? (size_t)n : 0, "WATCHDOG=1", "one datagram, the text");
	close(fd);
	setenv("NOTIFY_SOCKET", "x", 1);
	is_int(kd_proc_notify("A", 1, &sent, &err), KD_EINVAL, "NOTIFY_SOCKET neither path nor @name");
	unsetenv("NOTIFY_SOCKET");
}

static void test_read_head(void)
{
	kd_err err = KD_ERR_INIT;
	char buf[64];
	size_t len;
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	/* the blank line split, as a slow client may send it */
	(void)!write(sv[1], "GET / HTTP/1.0\r\n\r", 17);
	(void)!write(sv[1], "\nrest", 5);
	ok(!kd_net_read_head(sv[0], buf, sizeof buf, 1000, &len, &err), "read_head: %s", err.msg);
	is_str(buf, len, "GET / HTTP/1.0\r\n\r\n", "the head across two writes, no more");
	(void)!write(sv[1], "0123456789", 10);
	is_int(kd_net_read_head(sv[0], buf, 8, 1000, &len, &err), KD_ELIMIT, "past max");
	is_int(kd_net_read_head(sv[0], buf, sizeof buf, 100, &len, &err), KD_EIO, "timeout");
	ok(strstr(err.msg, "timed out") != NULL, "%s", err.msg);
	ok(!kd_net_write_all(sv[0], "answer", 6, 1000, &err), "write_all");
	ok(read(sv[1], buf, sizeof buf) == 6, "arrives");
	close(sv[1]);
	is_int(kd_net_read_head(sv[0], buf, sizeof buf, 1000, &len, &err), KD_EIO, "peer closed");
	is_int(kd_net_write_all(sv[0], "x", 1, 1000, &err), KD_EIO, "writing to a closed peer");
	close(sv[0]);
}

int main(void)
{
	test_signals();
	test_poll_and_spawn();
	test_notify();
	test_read_head();
	return tap_done();
}
