/* Reading branches straight from a repository's object store, without a
 * checkout: the status branches (kedge/status/<site>) a fleet view joins
 * with the desired state. Nothing here writes. */
#include "git/internal.h"

#include "base/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kd_git_store {
	git_repository *repo;
	char path[4096];
};

static int store_fail(const kd_git_store *s, kd_err *err, int code, const char *what)
{
	const git_error *e = git_error_last();

	return kd_err_set(err, code, "%s in %s: %s", what, s->path,
			  e && e->message ? e->message : "unknown libgit2 error");
}

int kd_git_store_open(kd_git_store **out, const char *path, kd_err *err)
{
	kd_git_store *s;
	int rc;

	*out = NULL;
	if ((rc = kd_git_setup(path, NULL, err)))
		return rc;
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE,
			 (size_t)KD_LIMIT_GIT_STORE_TREE_CACHE);
	s = calloc(1, sizeof *s);
	if (!s)
		return kd_err_set(err, KD_ENOMEM, "out of memory");
	snprintf(s->path, sizeof s->path, "%s", path);
	if (git_repository_open_ext(&s->repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) {
		rc = store_fail(s, err, KD_ENOTFOUND, "no git repository");
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void kd_git_store_free(kd_git_store *s)
{
	if (!s)
		return;
	git_repository_free(s->repo);
	free(s);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const kd_git_branch *)a)->name, ((const kd_git_branch *)b)->name);
}

/* One branch's entry: its commit (peeled) and the commit's time. */
static int branch_entry(kd_git_store *s, git_reference *ref, const char *name,
			kd_git_branch *b, kd_err *err)
{
	git_object *obj = NULL;

	if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT))
		return store_fail(s, err, KD_EPARSE, "a branch that names no commit");
	snprintf(b->name, sizeof b->name, "%s", name);
	git_oid_tostr(b->commit, sizeof b->commit, git_object_id(obj));
	b->time = (int64_t)git_commit_time((git_commit *)obj);
	git_object_free(obj);
	return 0;
}

int kd_git_store_branches(kd_git_store *s, const char *prefix, kd_git_branch **out,
			  size_t *n, size_t *broken, kd_err *err)
{
	char glob[512];
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	kd_git_branch *list = NULL;
	size_t cap = 0, count = 0, bad = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((size_t)snprintf(glob, sizeof glob, "refs/heads/%s*", prefix) >= sizeof glob)
		return kd_err_set(err, KD_EINVAL, "branch prefix too long");
	if (git_reference_iterator_glob_new(&it, s->repo, glob))
		return store_fail(s, err, KD_EIO, "listing branches");
	while ((rc = git_reference_next(&ref, it)) == 0) {
		const char *name = git_reference_name(ref) + strlen("refs/heads/");
		kd_err one = KD_ERR_INIT;

		if (count == KD_LIMIT_GIT_REMOTE_REFS) {
			rc = kd_err_set(err, KD_ELIMIT, "more than %u branches under %s in %s",
					KD_LIMIT_GIT_REMOTE_REFS, prefix, s->path);
			goto cleanup;
		}
		if (count == cap) {
			kd_git_branch *nl = realloc(list, (cap = cap ? cap * 2 : 64) * sizeof *list);

			if (!nl) {
				rc = kd_err_set(err, KD_ENOMEM, "out of memory");
				goto cleanup;
			}
			list = nl;
		}
		/* a dangling or odd branch is counted and skipped: one site's
		 * broken branch must not hide the fleet */
		if (strlen(name) >= sizeof list->name || branch_entry(s, ref, name, &list[count], &one))
			bad++;
		else
			count++;
		git_reference_free(ref);
		ref = NULL;
	}
	if (rc != GIT_ITEROVER) {
		rc = store_fail(s, err, KD_EIO, "listing branches");
		goto cleanup;
	}
	rc = 0;
	qsort(list, count, sizeof *list, by_name);
	*out = list;
	*n = count;
	list = NULL;
	if (broken)
		*broken = bad;
cleanup:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	free(list);
	return rc;
}

/* The tree of rev (a commit id or a ref name) at dir ("" the root). */
static int tree_at(kd_git_store *s, const char *rev, const char *dir, git_tree **out,
		   kd_err *err)
{
	git_object *obj = NULL;
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	int rc = 0;

	*out = NULL;
	if (git_revparse_single(&obj, s->repo, rev) ||
	    git_object_peel((git_object **)&root, obj, GIT_OBJECT_TREE)) {
		rc = store_fail(s, err, KD_ENOTFOUND, "no such revision");
		goto cleanup;
	}
	if (!dir[0]) {
		*out = root;
		root = NULL;
		goto cleanup;
	}
	if (git_tree_entry_bypath(&e, root, dir) || git_tree_entry_type(e) != GIT_OBJECT_TREE) {
		rc = kd_err_set(err, KD_ENOTFOUND, "%s has no folder %s", rev, dir);
		goto cleanup;
	}
	if (git_tree_lookup(out, s->repo, git_tree_entry_id(e)))
		rc = store_fail(s, err, KD_EIO, "reading a tree");
cleanup:
	git_tree_entry_free(e);
	git_tree_free(root);
	git_object_free(obj);
	return rc;
}

int kd_git_store_list(kd_git_store *s, const char *rev, const char *dir,
		      kd_git_entry **out, size_t *n, kd_err *err)
{
	git_tree *t = NULL;
	kd_git_entry *list = NULL;
	size_t i, count;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = tree_at(s, rev, dir, &t, err)))
		return rc;
	count = git_tree_entrycount(t);
	if (count > KD_LIMIT_GIT_TREE_FILES) {
		rc = kd_err_set(err, KD_ELIMIT, "%s:%s has more than %u entries", rev, dir,
				KD_LIMIT_GIT_TREE_FILES);
		goto cleanup;
	}
	list = calloc(count ? count : 1, sizeof *list);
	if (!list) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory");
		goto cleanup;
	}
	/* git keeps tree entries sorted by name (folders as if "name/") */
	for (i = 0; i < count; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		git_filemode_t m = git_tree_entry_filemode(e);

		snprintf(list[i].name, sizeof list[i].name, "%s", git_tree_entry_name(e));
		list[i].type = m == GIT_FILEMODE_TREE ? 'd' : m == GIT_FILEMODE_LINK ? 'l' : 'f';
	}
	*out = list;
	*n = count;
	list = NULL;
cleanup:
	free(list);
	git_tree_free(t);
	return rc;
}

int kd_git_store_read(kd_git_store *s, const char *rev, const char *path, size_t max,
		      kd_buf *out, kd_err *err)
{
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	git_object_size_t size;
	int rc;

	if ((rc = tree_at(s, rev, "", &root, err)))
		return rc;
	if (git_tree_entry_bypath(&e, root, path) || git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		rc = kd_err_set(err, KD_ENOTFOUND, "%s has no file %s", rev, path);
		goto cleanup;
	}
	if (git_blob_lookup(&blob, s->repo, git_tree_entry_id(e))) {
		rc = store_fail(s, err, KD_EIO, "reading a file");
		goto cleanup;
	}
	size = git_blob_rawsize(blob);
	if (size > max || size > KD_LIMIT_GIT_READ_BYTES) {
		rc = kd_err_set(err, KD_ELIMIT, "%s:%s is %llu bytes, over the %zu read here", rev,
				path, (unsigned long long)size, max < KD_LIMIT_GIT_READ_BYTES ?
				max : (size_t)KD_LIMIT_GIT_READ_BYTES);
		goto cleanup;
	}
	rc = kd_buf_put(out, git_blob_rawcontent(blob), (size_t)size);
	if (rc)
		kd_err_set(err, rc, "out of memory reading %s", path);
cleanup:
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(root);
	return rc;
}

int kd_git_store_resolve(kd_git_store *s, const char *rev, kd_git_branch *out, kd_err *err)
{
	git_object *obj = NULL, *c = NULL;
	int rc = 0;

	if (git_revparse_single(&obj, s->repo, rev) || git_object_peel(&c, obj, GIT_OBJECT_COMMIT)) {
		rc = store_fail(s, err, KD_ENOTFOUND, "no such ref or commit");
		goto cleanup;
	}
	snprintf(out->name, sizeof out->name, "%s", rev);
	git_oid_tostr(out->commit, sizeof out->commit, git_object_id(c));
	out->time = (int64_t)git_commit_time((git_commit *)c);
cleanup:
	git_object_free(c);
	git_object_free(obj);
	return rc;
}

int kd_git_store_ahead_behind(kd_git_store *s, const char *a, const char *b, size_t *ahead,
			      size_t *behind, kd_err *err)
{
	git_oid x, y;

	if (git_oid_fromstr(&x, a) || git_oid_fromstr(&y, b))
		return kd_err_set(err, KD_EINVAL, "not commit ids: %s, %s", a, b);
	if (git_graph_ahead_behind(ahead, behind, s->repo, &x, &y))
		return store_fail(s, err, KD_ENOTFOUND, "comparing commits");
	return 0;
}
