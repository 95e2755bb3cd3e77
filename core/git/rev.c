/* Reading a checked-out revision: files and folders of state/rev/<commit>/
 * by relative paths that cannot leave the tree. */
#include "git/internal.h"

#include "base/fs.h"
#include "base/limits.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct kd_git_rev {
	char id[41];
	char dir[PATH_MAX];
	char meta[PATH_MAX];
	char root[PATH_MAX]; /* realpath of dir */
};

int kd_git_rev_open(kd_git_rev **out, const char *state_dir,
		    const char *commit, kd_err *err)
{
	kd_git_rev *r;
	char link[PATH_MAX], target[128];
	const char *state = state_dir ? state_dir : KD_GIT_DEFAULT_STATE;
	ssize_t n;

	*out = NULL;
	if (commit) {
		size_t i;

		for (i = 0; commit[i]; i++)
			if (!((commit[i] >= '0' && commit[i] <= '9') ||
			      (commit[i] >= 'a' && commit[i] <= 'f')))
				break;
		if (i != 40 || commit[i])
			return kd_err_set(err, KD_EINVAL, "\"%s\" is not a 40-hex commit id", commit);
		snprintf(target, sizeof target, "rev/%s", commit);
	} else {
		snprintf(link, sizeof link, "%s/current", state);
		n = readlink(link, target, sizeof target - 1);
		if (n < 0)
			return kd_err_set(err, KD_ENOTFOUND, "%s has no current revision "
					  "(run kedge sync first): %s", state, strerror(errno));
		target[n] = '\0';
		if (n != 44 || strncmp(target, "rev/", 4))
			return kd_err_set(err, KD_EPARSE, "%s points at \"%s\", not rev/<commit>",
					  link, target);
	}
	r = calloc(1, sizeof *r);
	if (!r)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	memcpy(r->id, target + 4, 40);
	snprintf(r->dir, sizeof r->dir, "%s/%s", state, target);
	snprintf(r->meta, sizeof r->meta, "%s/%s.json", state, target);
	if (!realpath(r->dir, r->root)) {
		int rc = kd_err_set(err, KD_ENOTFOUND, "revision %s is not checked out in %s",
				    r->id, state);

		free(r);
		return rc;
	}
	/* a tree without its completion record may be half pruned */
	if (access(r->meta, F_OK)) {
		int rc = kd_err_set(err, KD_ENOTFOUND, "revision %s in %s is incomplete: its "
				    "completion record %s is missing (an interrupted prune); "
				    "run kedge sync --ref %s to check it out again",
				    r->id, state, r->meta, r->id);

		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int kd_git_rev_open_dir(kd_git_rev **out, const char *dir, kd_err *err)
{
	kd_git_rev *r;
	struct stat st;

	*out = NULL;
	if (stat(dir, &st))
		return kd_err_set(err, KD_ENOTFOUND, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return kd_err_set(err, KD_EINVAL, "%s: not a folder", dir);
	r = calloc(1, sizeof *r);
	if (!r)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	snprintf(r->dir, sizeof r->dir, "%s", dir);
	if (!realpath(dir, r->root)) {
		int rc = kd_err_set(err, KD_EIO, "%s: %s", dir, strerror(errno));

		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void kd_git_rev_free(kd_git_rev *r)
{
	free(r);
}

const char *kd_git_rev_id(const kd_git_rev *r)
{
	return r->id;
}

const char *kd_git_rev_dir(const kd_git_rev *r)
{
	return r->dir;
}

int kd_git_rev_meta(const kd_git_rev *r, kd_buf *out, kd_err *err)
{
	if (!r->id[0])
		return kd_err_set(err, KD_ENOTFOUND, "%s is a plain folder, not a "
				  "checked-out commit: it has no commit metadata", r->dir);
	return kd_fs_read_file(r->meta, 16u << 20, out, err);
}

/* The absolute path of a relative one, refusing "..", absolute paths and
 * symlinks that lead out of the tree. */
static int inside(const kd_git_rev *r, const char *path, char out[PATH_MAX],
		  kd_err *err)
{
	char joined[PATH_MAX];
	size_t rl = strlen(r->root);

	if (path[0] == '/' || strstr(path, "..") == path || strstr(path, "/../") ||
	    (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")) ||
	    !strcmp(path, ".."))
		return kd_err_set(err, KD_EINVAL, "\"%s\": paths are relative to the repository "
				  "and may not contain \"..\"", path);
	if ((size_t)snprintf(joined, sizeof joined, "%s/%s", r->root, path) >= sizeof joined)
		return kd_err_set(err, KD_ELIMIT, "path too long: %s", path);
	if (!realpath(joined, out))
		return kd_err_set(err, errno == ENOENT || errno == ENOTDIR ? KD_ENOTFOUND : KD_EIO,
				  "%s: %s (%s %.12s)", path, strerror(errno),
				  r->id[0] ? "commit" : "in", r->id[0] ? r->id : r->dir);
	if (strncmp(out, r->root, rl) || (out[rl] && out[rl] != '/'))
		return kd_err_set(err, KD_EINVAL, "%s leads outside the repository", path);
	return 0;
}

int kd_git_rev_read(const kd_git_rev *r, const char *path, kd_buf *out,
		    kd_err *err)
{
	char abs[PATH_MAX];
	struct stat st;
	int rc = inside(r, path, abs, err);

	if (rc)
		return rc;
	if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode))
		return kd_err_set(err, KD_EINVAL, "%s is a folder (use list)", path);
	rc = kd_fs_read_file(abs, KD_LIMIT_GIT_READ_BYTES, out, err);
	if (rc == KD_ELIMIT)
		kd_err_set(err, rc, "%s is larger than %u bytes (KD_LIMIT_GIT_READ_BYTES)",
			   path, KD_LIMIT_GIT_READ_BYTES);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const kd_git_entry *)a)->name, ((const kd_git_entry *)b)->name);
}

int kd_git_rev_list(const kd_git_rev *r, const char *dir,
		    kd_git_entry **out, size_t *n, kd_err *err)
{
	char abs[PATH_MAX];
	kd_git_entry *list = NULL;
	size_t len = 0, cap = 0;
	struct dirent *d;
	DIR *dh;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!dir[0] || !strcmp(dir, "."))
		snprintf(abs, sizeof abs, "%s", r->root);
	else if ((rc = inside(r, dir, abs, err)))
		return rc;
	dh = opendir(abs);
	if (!dh)
		return kd_err_set(err, errno == ENOENT ? KD_ENOTFOUND : KD_EINVAL,
				  "cannot list %s: %s", dir, strerror(errno));
	while ((d = readdir(dh))) {
		struct stat st;

		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
		    strlen(d->d_name) >= sizeof list->name ||
		    fstatat(dirfd(dh), d->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (len == cap) {
			kd_git_entry *nl = realloc(list, (cap = cap ? cap * 2 : 32) * sizeof *list);

			if (!nl) {
				rc = kd_err_set(err, KD_ENOMEM, "out of memory");
				goto cleanup;
			}
			list = nl;
		}
		snprintf(list[len].name, sizeof list[len].name, "%s", d->d_name);
		list[len++].type = S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : 'f';
	}
	qsort(list, len, sizeof *list, by_name);
	*out = list;
	*n = len;
	list = NULL;
cleanup:
	closedir(dh);
	free(list);
	return rc;
}
