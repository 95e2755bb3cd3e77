/* Children that run alongside kedge. See proc.h.
 *
 * posix_spawnp, as kd_proc_run: musl reports a failed exec to the caller,
 * and the child gets its signal mask and dispositions reset before exec,
 * which matters because the agent blocks signals for its signalfd and a
 * blocked mask is inherited across exec. */
#include "proc/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* kedge's environment less the names env sets, then env: a new array of
 * pointers into both (nothing is copied). */
static int merged_env(char ***out, const char *const *env, const char *prog, kd_err *err)
{
	size_t n_own = 0, n_new = 0, i, j, k = 0;
	char **e;

	*out = NULL;
	for (i = 0; environ && environ[i]; i++)
		n_own++;
	for (i = 0; env && env[i]; i++) {
		const char *eq = strchr(env[i], '=');

		if (!eq || eq == env[i])
			return kd_err_set(err, KD_EINVAL, "cannot run %s: env entry \"%s\" is not NAME=value",
					  prog, env[i]);
		n_new++;
	}
	if (!(e = calloc(n_own + n_new + 1, sizeof *e)))
		return kd_err_set(err, KD_ENOMEM, "cannot run %s: out of memory", prog);
	for (i = 0; i < n_own; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
		int replaced = 0;

		for (j = 0; j < n_new && !replaced; j++)
			replaced = !strncmp(environ[i], env[j], len);
		if (!replaced)
			e[k++] = environ[i];
	}
	for (j = 0; j < n_new; j++)
		e[k++] = (char *)env[j];
	*out = e;
	return 0;
}

/* stdin from /dev/null, stdout into the pipe when there is one, default
 * signals and no mask; a session of its own when asked. Returns 0 or an
 * errno value. */
static int prepare(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr,
		   int wfd, int setsid)
{
	sigset_t all, none;
	int rc;

	sigfillset(&all);
	sigemptyset(&none);
	if ((rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0)) ||
	    (wfd >= 0 && (rc = posix_spawn_file_actions_adddup2(fa, wfd, 1))) ||
	    (rc = posix_spawnattr_setsigdefault(attr, &all)) ||
	    (rc = posix_spawnattr_setsigmask(attr, &none)))
		return rc;
	return posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
					(setsid ? POSIX_SPAWN_SETSID : 0));
}

int kd_proc_spawn(kd_proc_child *out, const char *const *argv,
		  const kd_proc_spawn_opts *opts, kd_err *err)
{
	static const kd_proc_spawn_opts none = {0, 0, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int fa_ready = 0, attr_ready = 0, pipefd[2] = {-1, -1}, rc;
	char **env = NULL;

	memset(out, 0, sizeof *out);
	out->pid = -1;
	out->out_fd = -1;
	if (!argv || !argv[0] || !argv[0][0])
		return kd_err_set(err, KD_EINVAL, "the command is empty: give argv as a list, program first");
	if (!opts)
		opts = &none;
	if ((rc = merged_env(&env, opts->env, argv[0], err)))
		return rc;
	if (opts->pipe_stdout && pipe2(pipefd, O_CLOEXEC)) {
		rc = kd_err_set(err, KD_EIO, "cannot run %s: no pipe: %s", argv[0], strerror(errno));
		goto cleanup;
	}
	if ((rc = posix_spawn_file_actions_init(&fa)) == 0)
		fa_ready = 1;
	if (!rc && (rc = posix_spawnattr_init(&attr)) == 0)
		attr_ready = 1;
	if (rc || (rc = prepare(&fa, &attr, pipefd[1], opts->setsid))) {
		rc = kd_err_set(err, KD_EIO, "cannot prepare to run %s: %s", argv[0], strerror(rc));
		goto cleanup;
	}
	rc = posix_spawnp(&out->pid, argv[0], &fa, &attr, (char *const *)argv, env);
	if (rc) {
		out->pid = -1;
		rc = kd_err_set(err, KD_EIO, "cannot run %s: %s%s", argv[0], strerror(rc),
				rc == ENOENT && !strchr(argv[0], '/') ? " (not found in PATH)" : "");
		goto cleanup;
	}
	out->setsid = opts->setsid;
	if (pipefd[0] >= 0) {
		fcntl(pipefd[0], F_SETFL, fcntl(pipefd[0], F_GETFL) | O_NONBLOCK);
		out->out_fd = pipefd[0];
		pipefd[0] = -1;
	}

cleanup:
	if (fa_ready)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ready)
		posix_spawnattr_destroy(&attr);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(env);
	return rc;
}

int kd_proc_child_read(kd_proc_child *c, void *buf, size_t len, size_t *got,
		       int *eof, kd_err *err)
{
	ssize_t n;

	*got = 0;
	*eof = 0;
	if (c->out_fd < 0) {
		*eof = 1;
		return 0;
	}
	while ((n = read(c->out_fd, buf, len)) < 0 && errno == EINTR)
		;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0)
		return kd_err_set(err, KD_EIO, "reading the output of pid %d: %s", (int)c->pid,
				  strerror(errno));
	if (n == 0 && len > 0) {
		*eof = 1;
		kd_proc_child_close(c);
	}
	*got = (size_t)n;
	return 0;
}

int kd_proc_child_wait(kd_proc_child *c, int block, int *done, kd_err *err)
{
	int ws = 0;
	pid_t w;

	*done = c->reaped;
	if (c->reaped || c->pid <= 0)
		return 0;
	while ((w = waitpid(c->pid, &ws, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
		;
	if (w < 0)
		return kd_err_set(err, KD_EIO, "waiting for pid %d: %s", (int)c->pid, strerror(errno));
	if (w == 0)
		return 0;
	if (WIFSIGNALED(ws)) {
		c->signal = WTERMSIG(ws);
		c->status = 128 + c->signal;
	} else {
		c->status = WEXITSTATUS(ws);
	}
	c->reaped = 1;
	*done = 1;
	return 0;
}

int kd_proc_child_kill(kd_proc_child *c, int signo, kd_err *err)
{
	if (c->reaped || c->pid <= 0)
		return 0;
	if (kill(c->setsid ? -c->pid : c->pid, signo) && errno != ESRCH)
		return kd_err_set(err, KD_EIO, "cannot signal %s %d: %s",
				  c->setsid ? "process group" : "pid", (int)c->pid, strerror(errno));
	return 0;
}

void kd_proc_child_close(kd_proc_child *c)
{
	if (c && c->out_fd >= 0) {
		close(c->out_fd);
		c->out_fd = -1;
	}
}
