/* Narrowing a pass: no_new_privs and Landlock write rules. See proc.h.
 *
 * musl ships no <linux/landlock.h>, so the ABI's structures and constants
 * are written out here from the kernel's UAPI (they never change: new ABI
 * versions only add bits). Only write-side rights are handled, so reads
 * and exec need no rule and stay allowed on every file system, mounted
 * now or later. */
#include "proc/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#ifndef PR_SET_NO_NEW_PRIVS
#define PR_SET_NO_NEW_PRIVS 38
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR (1ULL << 6)
#define LL_FS_MAKE_DIR (1ULL << 7)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_MAKE_SOCK (1ULL << 9)
#define LL_FS_MAKE_FIFO (1ULL << 10)
#define LL_FS_MAKE_BLOCK (1ULL << 11)
#define LL_FS_MAKE_SYM (1ULL << 12)
#define LL_FS_REFER (1ULL << 13)    /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14) /* ABI 3 */

/* Every right that changes the file system (ABI 1), handled so that it
 * is denied where no rule grants it. Device nodes are handled and never
 * granted: one made in an allowed folder would open the disk beneath. */
#define LL_WRITE_ABI1                                                                  \
	(LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_CHAR |     \
	 LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO |            \
	 LL_FS_MAKE_BLOCK | LL_FS_MAKE_SYM)
#define LL_DEVICES (LL_FS_MAKE_CHAR | LL_FS_MAKE_BLOCK)
/* the rights a rule on a file (not a folder) may carry */
#define LL_FILE_RIGHTS (LL_FS_WRITE_FILE | LL_FS_TRUNCATE)

/* The oldest ABI kedge uses: ABI 1 refuses renames across folders. */
#define LL_MIN_ABI 2

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

static int threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static uint64_t handled_for(int abi)
{
	uint64_t h = LL_WRITE_ABI1 | LL_FS_REFER;

	if (abi >= 3)
		h |= LL_FS_TRUNCATE;
	return h;
}

/* Adds a rule for path (a folder when dir) to the ruleset; a missing path
 * gets none (*added 0). */
static int add_rule(int rfd, const char *path, int dir, uint64_t handled, int *added,
		    kd_err *err)
{
	struct ll_path_beneath_attr pb;
	int fd = open(path, O_PATH | O_CLOEXEC | (dir ? O_DIRECTORY : 0));

	*added = 0;
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return kd_err_set(err, KD_EIO, "landlock: %s: %s", path, strerror(errno));
	}
	memset(&pb, 0, sizeof pb);
	pb.allowed_access = (dir ? handled & ~LL_DEVICES : handled & LL_FILE_RIGHTS);
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rfd, LL_RULE_PATH_BENEATH, &pb, 0)) {
		int e = errno;

		close(fd);
		return kd_err_set(err, KD_EIO, "landlock: the rule for %s: %s", path, strerror(e));
	}
	close(fd);
	*added = 1;
	return 0;
}

static int landlock(const char *const *dirs, size_t n_dirs, const char *const *files,
		    size_t n_files, kd_proc_narrowed *out, kd_err *err)
{
	struct ll_ruleset_attr attr;
	int rfd, rc = 0, added;
	size_t i;

	memset(&attr, 0, sizeof attr);
	attr.handled_access_fs = handled_for(out->landlock_abi);
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
	if (rfd < 0)
		return kd_err_set(err, KD_EIO, "landlock: create a ruleset: %s", strerror(errno));
	for (i = 0; !rc && i < n_dirs + n_files; i++) {
		int dir = i < n_dirs;

		rc = add_rule(rfd, dir ? dirs[i] : files[i - n_dirs], dir, attr.handled_access_fs,
			      &added, err);
		out->rules += added;
	}
	if (!rc && syscall(SYS_landlock_restrict_self, rfd, 0))
		rc = kd_err_set(err, KD_EIO, "landlock: restrict the process: %s", strerror(errno));
	close(rfd);
	if (!rc)
		out->landlock = 1;
	return rc;
}

int kd_proc_narrow(const char *const *dirs, size_t n_dirs, const char *const *files,
		   size_t n_files, kd_proc_narrowed *out, kd_err *err)
{
	long abi;
	int n = threads();

	memset(out, 0, sizeof *out);
	if (n != 1)
		return kd_err_set(err, KD_EINVAL, "narrow: the process runs %d threads; Landlock "
				  "would restrict only the calling one", n);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return kd_err_set(err, KD_EIO, "narrow: no_new_privs: %s", strerror(errno));
	out->no_new_privs = 1;
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	if (abi < 0) {
		snprintf(out->why, sizeof out->why, "the kernel has no Landlock (%s)",
			 errno == EOPNOTSUPP ? "built in but off: add landlock to the lsm= boot "
					       "parameter" : "not built in");
		return 0;
	}
	out->landlock_abi = (int)abi;
	if (abi < LL_MIN_ABI) {
		snprintf(out->why, sizeof out->why, "the kernel's Landlock ABI is 1 (Linux 5.13 to "
			 "5.18), which refuses renames across folders; kedge needs ABI 2");
		return 0;
	}
	return landlock(dirs, n_dirs, files, n_files, out, err);
}
