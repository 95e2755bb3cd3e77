/* kd_fs: the operating system room. Every file kedge replaces, every lock
 * it takes and every clock it reads goes through here, so that crash
 * safety and error messages are decided once.
 *
 * A replaced file is either the old one or the new one, whole, also after
 * a crash: the new bytes go to a temporary file in the same folder, are
 * fsynced, renamed over the old name, and the folder is fsynced so the
 * rename itself is on disk. Errors name the path and the reason; a full
 * disk is KD_FS_ENOSPC (callers that manage state say so to people), a
 * lock held past the timeout KD_FS_EBUSY. Paths longer than
 * KD_FS_PATH_MAX are refused (KD_EINVAL). */
#ifndef KD_BASE_FS_H
#define KD_BASE_FS_H

#include "base/buf.h"
#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

enum {
	KD_FS_ENOSPC = -20, /* no space (or quota) left on the file system */
	KD_FS_EBUSY = -21,  /* another process holds the lock */
};

#define KD_FS_PATH_MAX 4096

/* Replaces path with data: writes path.tmp.<pid>, fsyncs it, renames it
 * over path and fsyncs the folder. The new file gets mode (less the
 * umask). The file's folder is made (0700) when missing; its parent must
 * exist. On failure path is untouched and the temporary file removed.
 * Only a regular file (or a symlink) is replaced: a device, fifo or
 * folder at path is KD_EINVAL. */
int kd_fs_write_atomic(const char *path, const void *data, size_t len,
		       unsigned mode, kd_err *err);

/* Renames from over to and fsyncs to's folder: the last step of an atomic
 * write, for callers that make the temporary file (or folder, or symlink)
 * themselves. from must be in the same file system as to. */
int kd_fs_replace(const char *from, const char *to, kd_err *err);

/* fsync of a folder, so that a rename or removal in it is on disk. */
int kd_fs_sync_dir(const char *dir, kd_err *err);

/* Appends the whole file to out. More than limit bytes is KD_ELIMIT
 * naming the path and the limit (out may then hold a part); a missing file
 * is KD_ENOTFOUND, a folder KD_EINVAL. */
int kd_fs_read_file(const char *path, size_t limit, kd_buf *out, kd_err *err);
/* The same for an open fd (standard input, a pipe), named name in errors.
 * Reading stops at the limit, so an endless stream fails, and a folder is
 * refused ("is a directory") rather than read as empty. */
int kd_fs_read_fd(int fd, const char *name, size_t limit, kd_buf *out, kd_err *err);

/* Makes path and its missing parents (mode, less the umask); an existing
 * folder is fine, an existing file is not. */
int kd_fs_mkdirs(const char *path, unsigned mode, kd_err *err);

/* Takes an exclusive flock() on path (made 0600 when missing), trying
 * every 100 ms for up to timeout_s seconds (0: once) by the monotonic
 * clock, so that signals cannot shorten the wait. *fd_out then holds the
 * lock until kd_fs_unlock() or the process ends. who names the holder in
 * the error ("kedge sync"; NULL: "kedge"); when given, the lock file also
 * records the holder's pid, and a waiter's error names it ("pid ?" when
 * the holder wrote none). */
int kd_fs_lock(int *fd_out, const char *path, double timeout_s,
	       const char *who, kd_err *err);
/* Releases a lock; accepts -1. */
void kd_fs_unlock(int fd);

/* Milliseconds of a clock that never goes back (deadlines, durations). */
int64_t kd_fs_monotonic_ms(void);
/* The same clock in nanoseconds (the sandbox's deadline). */
int64_t kd_fs_monotonic_ns(void);
/* Nanoseconds since the Unix epoch (timestamps people read). */
int64_t kd_fs_wall_ns(void);
/* Sleeps ms milliseconds, resuming after signals; <= 0 returns at once. */
void kd_fs_sleep_ms(int64_t ms);

#endif
