/* kd_proc: runs a command on the node for exec smoke tests.
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

#endif
