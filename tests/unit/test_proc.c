/* core/proc with real commands (sh, true, sleep): exit status, signals,
 * the deadline and its process-group kill, the bounded output tail, spawn
 * failures; plus the pieces smoke tests take from other subsystems:
 * kd_net_tcp_probe against a listener made here and kd_regex_match. */
#include "tap.h"

#include "net/net.h"
#include "proc/proc.h"
#include "regex/regex.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int run(kd_proc_result *r, int timeout_ms, size_t max, const char *const *argv,
	       kd_err *err)
{
	kd_proc_opts o = {timeout_ms, max};

	return kd_proc_run(argv, &o, r, err);
}

static void test_run(void)
{
	kd_err err = KD_ERR_INIT;
	kd_proc_result r;
	static const char *const t[] = {"true", NULL};
	static const char *const mixed[] = {"sh", "-c", "printf a; printf b >&2; printf c; exit 7", NULL};
	static const char *const sleeper[] = {"sh", "-c", "sleep 21.7 & sleep 21.7", NULL};
	static const char *const lots[] = {"sh", "-c", "head -c 100000 /dev/zero; printf END", NULL};
	static const char *const sig[] = {"sh", "-c", "kill -KILL $$", NULL};
	static const char *const missing[] = {"kedge-no-such-program", NULL};
	static const char *const stdin_null[] = {"cat", NULL};
	static const char *const empty[] = {NULL};

	ok(!run(&r, 5000, 0, t, &err), "true runs");
	ok(r.exited && r.status == 0 && r.output.len == 0 && !r.timed_out, "true: exit 0, no output");
	kd_proc_result_free(&r);

	ok(!run(&r, 5000, 0, mixed, &err), "sh runs");
	is_int(r.status, 7, "exit status 7");
	is_str(r.output.ptr, r.output.len, "abc", "stdout and stderr in the order written");
	kd_proc_result_free(&r);

	ok(!run(&r, 300, 0, sleeper, &err), "a command past its deadline is not an error");
	ok(r.timed_out && !r.exited && r.signal == SIGKILL, "timed out, killed");
	ok(r.duration_ms >= 300 && r.duration_ms < 3000, "at the deadline (%ld ms)", r.duration_ms);
	kd_proc_result_free(&r);
	/* the background sleep was in the group: nothing of it is left */
	ok(system("pgrep -x -f 'sleep 21.7' >/dev/null") != 0, "the whole process group was killed");

	ok(!run(&r, 5000, 1000, lots, &err), "lots of output");
	ok(r.truncated && r.total == 100003 && r.output.len == 1000, "tail kept: %zu of %zu bytes",
	   r.output.len, r.total);
	ok(r.output.len >= 3 && !memcmp(r.output.ptr + r.output.len - 3, "END", 3), "the tail ends with the last bytes");
	kd_proc_result_free(&r);

	ok(!run(&r, 5000, 0, sig, &err), "a command killed by a signal");
	ok(!r.exited && r.signal == SIGKILL && !r.timed_out, "signal 9, not a timeout");
	kd_proc_result_free(&r);

	ok(!run(&r, 5000, 0, stdin_null, &err) && r.exited && r.status == 0, "stdin is /dev/null (cat ends at once)");
	kd_proc_result_free(&r);

	is_int(run(&r, 5000, 0, missing, &err), KD_EIO, "a missing program is KD_EIO");
	ok(strstr(err.msg, "kedge-no-such-program") && strstr(err.msg, "not found in PATH"), "named: %s", err.msg);
	kd_proc_result_free(&r);

	is_int(run(&r, 5000, 0, empty, &err), KD_EINVAL, "an empty argv is KD_EINVAL");
	kd_proc_result_free(&r);
	is_int(run(&r, 0, 0, t, &err), KD_EINVAL, "no timeout is KD_EINVAL");
	kd_proc_result_free(&r);
}

static void test_tcp(void)
{
	kd_err err = KD_ERR_INIT;
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok(fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof sa) && !listen(fd, 4) &&
	   !getsockname(fd, (struct sockaddr *)&sa, &len), "a listener on 127.0.0.1");
	port = ntohs(sa.sin_port);
	ok(!kd_net_tcp_probe("127.0.0.1", port, 2000, &err), "tcp probe: connected");
	close(fd);
	is_int(kd_net_tcp_probe("127.0.0.1", port, 2000, &err), KD_EIO, "tcp probe: closed port");
	ok(strstr(err.msg, "refused") != NULL, "refused: %s", err.msg);
	is_int(kd_net_tcp_probe("bad host", 80, 2000, &err), KD_EINVAL, "tcp probe: bad host");
	is_int(kd_net_tcp_probe("127.0.0.1", 0, 2000, &err), KD_EINVAL, "tcp probe: port 0");
}

static void test_regex(void)
{
	kd_err err = KD_ERR_INIT;
	char big[4001];

	is_int(kd_regex_match("^st[a-z]+: (ok|ready)$", 22, "status: ready", 13, &err), 1, "regex: match");
	is_int(kd_regex_match("ready", 5, "starting", 8, &err), 0, "regex: no match");
	is_int(kd_regex_match("a(", 2, "a", 1, &err), KD_EPARSE, "regex: bad pattern");
	ok(strstr(err.msg, "missing closing )") != NULL, "regex: %s", err.msg);
	memset(big, 'a', 4000);
	big[4000] = 0;
	is_int(kd_regex_match("(a*)*b", 6, big, 4000, &err), 0, "regex: no blow-up, linear time");
}

int main(void)
{
	test_run();
	test_tcp();
	test_regex();
	return tap_done();
}
