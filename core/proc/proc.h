/* kd_proc: the processes around kedge. kd_proc_run runs a command to its
 * end for exec smoke tests; the rest (below it) are the pieces of a
 * resident process, the agent: children that run alongside it, signals as
 * a file descriptor, one poll() over them all, and systemd's notify socket.
 *
 * kd_proc_run:
 *
 * The command is an argv list (no shell); PATH is searched for argv[0].
 * It runs in its own process group with stdin on /dev/null and stdout and
 * stderr on one pipe, so the captured output keeps the order in which the
 * command wrote it. Only the last max_output bytes are kept (the tail is
 * where failures are explained); `truncated` says bytes were dropped.
 *
 * The deadline covers the whole run: when it passes, the process group is
 * killed (SIGKILL) and reaped, and `timed_out` is set. When the command
 * exits but something it started keeps the pipe open, kd_proc waits at
 * most KD_PROC_LINGER_MS more for the pipe to close, then kills the group:
 * a smoke test leaves no daemons behind.
 *
 * Errors (kd_err): KD_EINVAL an empty argv or bad option; KD_EIO when the
 * command cannot be started (not found, not executable: the message names
 * it); KD_ENOMEM. A command that runs and fails is not an error: its
 * status is in the result. */
#ifndef KD_PROC_PROC_H
#define KD_PROC_PROC_H

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"

#include <stddef.h>
#include <sys/types.h>

#define KD_PROC_LINGER_MS 1000

typedef struct kd_proc_opts {
	int timeout_ms;    /* > 0 */
	size_t max_output; /* 0: KD_LIMIT_PROC_OUTPUT_BYTES */
} kd_proc_opts;

typedef struct kd_proc_result {
	int exited;       /* 1: exit status in status; 0: killed by signal */
	int status;       /* exit status (0..255) */
	int signal;       /* the signal that ended it, or 0 */
	int timed_out;    /* killed because the deadline passed */
	int truncated;    /* output lost its head to max_output */
	size_t total;     /* bytes the command wrote in all */
	kd_buf output;    /* the last max_output bytes */
	long duration_ms;
} kd_proc_result;

void kd_proc_result_init(kd_proc_result *r);
void kd_proc_result_free(kd_proc_result *r);

/* argv ends with NULL. out is initialised here (it holds nothing on
 * entry); free it with kd_proc_result_free() whatever the return. */
int kd_proc_run(const char *const *argv, const kd_proc_opts *opts,
		kd_proc_result *out, kd_err *err);

/* --- signals (signal.c) ---------------------------------------------- */

/* A signal's number from its name without "SIG" ("TERM"), or 0 when kedge
 * does not know it; and back (NULL when unknown). */
int kd_proc_signal_number(const char *name);
const char *kd_proc_signal_name(int signo);

/* Blocks the n signals in signos (sigprocmask) and opens a signalfd for
 * them, nonblocking and close-on-exec, into *fd_out. They stay blocked
 * after the fd is closed: unblocking would deliver what is pending with
 * its default action (death, for most). KILL and STOP are KD_EINVAL. */
int kd_proc_signals_open(int *fd_out, const int *signos, size_t n, kd_err *err);

/* Reads what is pending on a signalfd without waiting: up to max signal
 * numbers into out, their count in *n (0: none now). */
int kd_proc_signals_read(int fd, int *out, size_t max, size_t *n, kd_err *err);

/* --- events (event.c) -------------------------------------------------- */

/* poll() for input on n fds (at most KD_LIMIT_POLL_FDS; negative ones are
 * skipped) for up to timeout_ms (-1: no end, 0: a look). The indexes of the
 * fds that are readable, hung up, in error or not open go to ready (room
 * for n), their count to *nready; an interrupted wait (EINTR) is 0 ready. */
int kd_proc_poll(const int *fds, size_t n, int timeout_ms, size_t *ready,
		 size_t *nready, kd_err *err);

/* sd_notify: sends text as one datagram to $NOTIFY_SOCKET, a path or
 * "@name" in the abstract namespace. *sent is 1 when sent, 0 when
 * NOTIFY_SOCKET is unset or empty (not under systemd: not an error). */
int kd_proc_notify(const char *text, size_t len, int *sent, kd_err *err);

/* The absolute path of the running binary (/proc/self/exe) into out. */
int kd_proc_exe(char *out, size_t size, kd_err *err);

/* --- children (spawn.c) ------------------------------------------------ */

/* A child that runs alongside kedge, which reads its stdout as it comes
 * and reaps it when it ends. Its stdin is /dev/null and its stderr kedge's;
 * its signal mask and dispositions are the defaults, whatever kedge has
 * blocked. kedge's own fds are all close-on-exec, so it inherits none. */
typedef struct kd_proc_spawn_opts {
	int pipe_stdout;         /* 1: stdout into a pipe; 0: kedge's stdout */
	int setsid;              /* 1: a session (and process group) of its own */
	const char *const *env;  /* NULL or "NAME=value" entries ending with
				  * NULL, over kedge's environment */
} kd_proc_spawn_opts;

typedef struct kd_proc_child {
	pid_t pid;
	int out_fd;   /* the read end of its stdout pipe, or -1 */
	int setsid;
	int reaped;   /* once 1, status and signal hold how it ended */
	int status;   /* exit code, or 128 + the signal */
	int signal;   /* the signal that ended it, or 0 */
} kd_proc_child;

/* Starts argv (PATH, kedge's own, is searched for argv[0]). Errors name
 * argv[0] and why (KD_EIO: not found, not executable; KD_EINVAL: an empty
 * argv or a malformed env entry; KD_ENOMEM). */
int kd_proc_spawn(kd_proc_child *out, const char *const *argv,
		  const kd_proc_spawn_opts *opts, kd_err *err);

/* Reads what the pipe holds now, up to len bytes, without waiting: *got
 * bytes (0 when nothing now). At end of file (or without a pipe) *eof is
 * 1 and the pipe is closed, since a hung-up pipe would wake every poll. */
int kd_proc_child_read(kd_proc_child *c, void *buf, size_t len, size_t *got,
		       int *eof, kd_err *err);

/* Reaps the child if it ended (block: waits for that). *done is 1 once
 * reaped; later calls keep the first answer. */
int kd_proc_child_wait(kd_proc_child *c, int block, int *done, kd_err *err);

/* Sends signo to the child's process group (setsid) or to the child. A
 * reaped child is left alone: its pid may belong to another process now. */
int kd_proc_child_kill(kd_proc_child *c, int signo, kd_err *err);

/* Closes the pipe; the child is neither killed nor reaped. */
void kd_proc_child_close(kd_proc_child *c);

/* --- narrowing (narrow.c) ---------------------------------------------- */

/* What kd_proc_narrow did. landlock_abi is the kernel's Landlock ABI (0:
 * none, the syscall is missing or Landlock is off at boot); landlock is 1
 * once writes are restricted; why says what is not enforced when 0. */
typedef struct kd_proc_narrowed {
	int no_new_privs;
	int landlock_abi;
	int landlock;
	int rules;          /* paths given a rule */
	char why[256];
} kd_proc_narrowed;

/* Narrows this process and every child it starts later, for good: sets
 * no_new_privs (exec never gains privileges: setuid bits and file
 * capabilities are ignored), then, where the kernel has Landlock (ABI 2,
 * Linux 5.19, or later), allows writing, creating, renaming and removing
 * only beneath the n_dirs folders and into the n_files files (opening
 * them for writing and truncating them: /dev/null). Reading and executing
 * stay allowed everywhere, device nodes can be made nowhere, and what the
 * process already holds open stays as it was. Landlock ABI 1 is not used:
 * it refuses every rename across folders, which kedge's outbox and git
 * need. A path that does not exist gets no rule (listed nowhere: callers
 * check first). Only the rights the kernel's ABI knows are handled.
 *
 * Must run while the process has one thread (Landlock restricts the
 * calling thread): otherwise KD_EINVAL and nothing is narrowed. A kernel
 * without Landlock is not an error: out->landlock is 0 and out->why says
 * so. Errors: KD_EIO when prctl or a Landlock call fails (no_new_privs
 * may be set by then). */
int kd_proc_narrow(const char *const *dirs, size_t n_dirs, const char *const *files,
		   size_t n_files, kd_proc_narrowed *out, kd_err *err);

#endif
