/* Signals by name and through a signalfd. See proc.h.
 *
 * A signalfd rather than handlers: the agent sleeps in one poll() over its
 * children, its listener and its signals, and a signal that arrives just
 * before that poll is not lost (it waits in the fd), which a handler
 * setting a flag cannot promise without the self-pipe trick. */
#include "proc/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const struct {
	const char *name;
	int signo;
} names[] = {
	{"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},   {"ILL", SIGILL},
	{"TRAP", SIGTRAP}, {"ABRT", SIGABRT},   {"BUS", SIGBUS},     {"FPE", SIGFPE},
	{"KILL", SIGKILL}, {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
	{"PIPE", SIGPIPE}, {"ALRM", SIGALRM},   {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
	{"CONT", SIGCONT}, {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
	{"TTOU", SIGTTOU}, {"URG", SIGURG},     {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
	{"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
	{"PWR", SIGPWR},   {"SYS", SIGSYS},
};

#define N_NAMES (sizeof names / sizeof names[0])

int kd_proc_signal_number(const char *name)
{
	size_t i;

	for (i = 0; name && i < N_NAMES; i++)
		if (!strcmp(names[i].name, name))
			return names[i].signo;
	return 0;
}

const char *kd_proc_signal_name(int signo)
{
	size_t i;

	for (i = 0; i < N_NAMES; i++)
		if (names[i].signo == signo)
			return names[i].name;
	return NULL;
}

int kd_proc_signals_open(int *fd_out, const int *signos, size_t n, kd_err *err)
{
	sigset_t set;
	size_t i;
	int fd;

	*fd_out = -1;
	sigemptyset(&set);
	for (i = 0; i < n; i++) {
		if (signos[i] == SIGKILL || signos[i] == SIGSTOP)
			return kd_err_set(err, KD_EINVAL, "SIG%s cannot be caught",
					  kd_proc_signal_name(signos[i]));
		if (sigaddset(&set, signos[i]))
			return kd_err_set(err, KD_EINVAL, "no signal %d", signos[i]);
	}
	/* blocked first: one that comes in between then waits in the fd */
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return kd_err_set(err, KD_EIO, "cannot block signals: %s", strerror(errno));
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return kd_err_set(err, KD_EIO, "cannot open a signalfd: %s", strerror(errno));
	*fd_out = fd;
	return 0;
}

int kd_proc_signals_read(int fd, int *out, size_t max, size_t *n, kd_err *err)
{
	struct signalfd_siginfo si[8];

	*n = 0;
	while (*n < max) {
		size_t want = max - *n < 8 ? max - *n : 8, i;
		ssize_t got = read(fd, si, want * sizeof si[0]);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (got < 0)
			return kd_err_set(err, KD_EIO, "cannot read the signalfd: %s", strerror(errno));
		for (i = 0; i < (size_t)got / sizeof si[0]; i++)
			out[(*n)++] = (int)si[i].ssi_signo;
		if ((size_t)got < want * sizeof si[0])
			break; /* drained */
	}
	return 0;
}
