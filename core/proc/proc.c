/* Running a command with a deadline and a bounded output tail. See proc.h.
 *
 * posix_spawnp rather than fork: musl's posix_spawn reports exec failures
 * (command not found) to the caller synchronously, and it does not copy
 * kedge's address space. */
#include "proc/proc.h"

#include "base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The last cap bytes written: a ring that is linearised at the end. */
typedef struct tail {
	char *ring;
	size_t cap, head, filled;
} tail;

static void tail_put(tail *t, const char *p, size_t n)
{
	if (n >= t->cap) {
		memcpy(t->ring, p + n - t->cap, t->cap);
		t->head = 0;
		t->filled = t->cap;
		return;
	}
	while (n > 0) {
		size_t room = t->cap - t->head, k = n < room ? n : room;

		memcpy(t->ring + t->head, p, k);
		t->head = (t->head + k) % t->cap;
		t->filled = t->filled + k > t->cap ? t->cap : t->filled + k;
		p += k;
		n -= k;
	}
}

static int tail_out(const tail *t, kd_buf *b)
{
	size_t start = t->filled < t->cap ? 0 : t->head;
	size_t first = t->filled < t->cap ? t->filled : t->cap - t->head;

	if (kd_buf_put(b, t->ring + start, first))
		return b->failed;
	return kd_buf_put(b, t->ring, t->filled - first) ? b->failed : 0;
}

void kd_proc_result_init(kd_proc_result *r)
{
	memset(r, 0, sizeof *r);
	kd_buf_init(&r->output, KD_LIMIT_PROC_OUTPUT_BYTES);
}

void kd_proc_result_free(kd_proc_result *r)
{
	if (r)
		kd_buf_free(&r->output);
}

static void decode_status(kd_proc_result *out, int wstatus)
{
	if (WIFEXITED(wstatus)) {
		out->exited = 1;
		out->status = WEXITSTATUS(wstatus);
	} else if (WIFSIGNALED(wstatus)) {
		out->signal = WTERMSIG(wstatus);
	}
}

/* Reaps pid, retrying on EINTR. */
static void reap(pid_t pid, kd_proc_result *out)
{
	int ws = 0;

	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	decode_status(out, ws);
}

/* stdin from /dev/null, stdout and stderr into the pipe; the child starts
 * in its own group (so a timeout kills everything it started) with default
 * signal handling and no mask, whatever kedge itself has set. Returns 0 or
 * an errno value. */
static int prepare(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr,
		   int wfd, int *fa_ready, int *attr_ready)
{
	sigset_t all, none;
	int rc;

	if ((rc = posix_spawn_file_actions_init(fa)))
		return rc;
	*fa_ready = 1;
	if ((rc = posix_spawnattr_init(attr)))
		return rc;
	*attr_ready = 1;
	sigfillset(&all);
	sigemptyset(&none);
	if ((rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0)) ||
	    (rc = posix_spawn_file_actions_adddup2(fa, wfd, 1)) ||
	    (rc = posix_spawn_file_actions_adddup2(fa, wfd, 2)) ||
	    (rc = posix_spawnattr_setpgroup(attr, 0)) ||
	    (rc = posix_spawnattr_setsigdefault(attr, &all)) ||
	    (rc = posix_spawnattr_setsigmask(attr, &none)))
		return rc;
	return posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
					POSIX_SPAWN_SETSIGMASK);
}

int kd_proc_run(const char *const *argv, const kd_proc_opts *opts,
		kd_proc_result *out, kd_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int fa_ready = 0, attr_ready = 0, pipefd[2] = {-1, -1};
	int rc = 0, reaped = 0, eof = 0;
	pid_t pid = -1;
	tail t = {0};
	int64_t start = kd_fs_monotonic_ms(), deadline, linger = 0;
	char chunk[16384];

	kd_proc_result_init(out);
	if (!argv || !argv[0] || !argv[0][0])
		return kd_err_set(err, KD_EINVAL, "the command is empty: give argv as a list, program first");
	if (!opts || opts->timeout_ms <= 0)
		return kd_err_set(err, KD_EINVAL, "a command needs a timeout above 0");
	t.cap = opts->max_output ? opts->max_output : KD_LIMIT_PROC_OUTPUT_BYTES;
	out->output.limit = t.cap;
	if (!(t.ring = malloc(t.cap)))
		return kd_err_set(err, KD_ENOMEM, "out of memory for the output of %s", argv[0]);
	deadline = start + opts->timeout_ms;

	if (pipe2(pipefd, O_CLOEXEC)) {
		rc = kd_err_set(err, KD_EIO, "cannot create a pipe for %s: %s", argv[0], strerror(errno));
		goto cleanup;
	}
	if ((rc = prepare(&fa, &attr, pipefd[1], &fa_ready, &attr_ready))) {
		rc = kd_err_set(err, KD_EIO, "cannot prepare to run %s: %s", argv[0], strerror(rc));
		goto cleanup;
	}
	rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	if (rc) {
		pid = -1;
		rc = kd_err_set(err, KD_EIO, "cannot run %s: %s%s", argv[0], strerror(rc),
				rc == ENOENT && !strchr(argv[0], '/') ? " (not found in PATH)" : "");
		goto cleanup;
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	fcntl(pipefd[0], F_SETFL, fcntl(pipefd[0], F_GETFL) | O_NONBLOCK);

	while (!eof || !reaped) {
		int64_t now = kd_fs_monotonic_ms(), left = deadline - now;
		struct pollfd pfd = {pipefd[0], POLLIN, 0};
		int wait_ms, pr;

		if (left <= 0) {
			/* a command that exited while a descendant kept its
			 * output open did not time out itself */
			out->timed_out = !reaped;
			break;
		}
		if (reaped && !eof && now >= linger)
			break; /* exited, but a descendant holds the pipe */
		/* after EOF only the exit is missing: look again soon */
		wait_ms = eof ? 5 : 100;
		wait_ms = left > wait_ms ? wait_ms : (int)left;
		pr = eof ? (poll(NULL, 0, wait_ms), 0) : poll(&pfd, 1, wait_ms);
		if (pr < 0 && errno != EINTR) {
			rc = kd_err_set(err, KD_EIO, "waiting for %s: %s", argv[0], strerror(errno));
			break;
		}
		if (pr > 0) {
			for (;;) {
				ssize_t n = read(pipefd[0], chunk, sizeof chunk);

				if (n > 0) {
					out->total += (size_t)n;
					tail_put(&t, chunk, (size_t)n);
					continue;
				}
				if (n == 0)
					eof = 1;
				else if (errno == EINTR)
					continue;
				else if (errno != EAGAIN && errno != EWOULDBLOCK)
					eof = 1;
				break;
			}
		}
		if (!reaped) {
			int ws = 0;
			pid_t w = waitpid(pid, &ws, WNOHANG);

			if (w == pid) {
				reaped = 1;
				decode_status(out, ws);
				linger = kd_fs_monotonic_ms() + KD_PROC_LINGER_MS;
			}
		}
	}
	/* The group goes on a timeout, a failure while waiting, or when
	 * descendants still hold the pipe after the command exited. A
	 * command that exited and closed its output is left alone: its group
	 * may be gone and the number reused. */
	if (!reaped || !eof)
		kill(-pid, SIGKILL);
	if (!reaped)
		reap(pid, out);
	if (!rc) {
		out->truncated = out->total > t.cap;
		if (tail_out(&t, &out->output))
			rc = kd_err_set(err, KD_ENOMEM, "out of memory for the output of %s", argv[0]);
	}

cleanup:
	out->duration_ms = (long)(kd_fs_monotonic_ms() - start);
	if (fa_ready)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ready)
		posix_spawnattr_destroy(&attr);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(t.ring);
	return rc;
}
