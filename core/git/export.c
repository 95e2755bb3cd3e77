/* kd_git_export: one ref of a local repository as a new bare repository,
 * for kedge's packs (the config repo a USB stick carries) and for the copy
 * `kedge bootstrap` keeps in the state directory. The objects go through
 * libgit2's pack builder (the commit's history and the tag object), so
 * they are the very objects that were verified: signatures stay intact. */
#include "git/internal.h"

#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int fail(kd_err *err, int gitrc, const char *what, const char *path)
{
	const git_error *e = git_error_last();
	const char *m = e && e->message ? e->message : "unknown libgit2 error";

	if (strstr(m, "No space left") || strstr(m, "Disk quota"))
		return kd_err_set(err, KD_GIT_ENOSPC, "disk full while %s %s: %s", what, path, m);
	return kd_err_set(err, gitrc == GIT_ENOTFOUND ? KD_ENOTFOUND : KD_EIO, "%s %s: %s",
			  what, path, m);
}

/* rev in src: the object it names (a commit, or an annotated tag) and the
 * commit it peels to. */
static int resolve(git_repository *src, const kd_git_export_opts *o, git_oid *target,
		   git_oid *commit, kd_err *err)
{
	git_object *obj = NULL, *peeled = NULL;
	int rc;

	if (kd_git_is_hex40(o->rev))
		rc = git_oid_fromstr(target, o->rev);
	else
		rc = git_reference_name_to_id(target, src, o->rev);
	if (rc)
		return fail(err, rc, "resolving", o->rev);
	rc = git_object_lookup(&obj, src, target, GIT_OBJECT_ANY);
	if (!rc)
		rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	if (rc) {
		rc = fail(err, rc, "reading the commit of", o->rev);
	} else {
		git_oid_cpy(commit, git_object_id(peeled));
	}
	git_object_free(peeled);
	git_object_free(obj);
	return rc;
}

static int write_pack(git_repository *src, const git_oid *target, const git_oid *commit,
		      const char *out_dir, kd_err *err)
{
	git_packbuilder *pb = NULL;
	git_revwalk *walk = NULL;
	char packdir[4096];
	int rc;

	if ((size_t)snprintf(packdir, sizeof packdir, "%s/objects/pack", out_dir) >= sizeof packdir)
		return kd_err_set(err, KD_EINVAL, "%s: path too long", out_dir);
	if ((rc = git_packbuilder_new(&pb, src)) || (rc = git_revwalk_new(&walk, src)) ||
	    (rc = git_revwalk_push(walk, commit)) || (rc = git_packbuilder_insert_walk(pb, walk)) ||
	    (!git_oid_equal(target, commit) && (rc = git_packbuilder_insert(pb, target, NULL))) ||
	    (rc = git_packbuilder_write(pb, packdir, 0, NULL, NULL)))
		rc = fail(err, rc, "writing the objects to", out_dir);
	git_revwalk_free(walk);
	git_packbuilder_free(pb);
	return rc;
}

/* dest_ref at target in the new repository, and HEAD. */
static int set_refs(const kd_git_export_opts *o, const git_oid *target, const git_oid *commit,
		    kd_err *err)
{
	git_repository *dst = NULL;
	git_reference *ref = NULL;
	int rc = git_repository_open_bare(&dst, o->out_dir);

	if (!rc)
		rc = git_reference_create(&ref, dst, o->dest_ref, target, 1, "kedge pack");
	if (!rc)
		rc = strncmp(o->dest_ref, "refs/heads/", 11) ?
			git_repository_set_head_detached(dst, commit) :
			git_repository_set_head(dst, o->dest_ref);
	if (rc)
		rc = fail(err, rc, "making the ref in", o->out_dir);
	git_reference_free(ref);
	git_repository_free(dst);
	return rc;
}

int kd_git_export(const kd_git_export_opts *o, char commit_out[41], kd_err *err)
{
	git_repository *src = NULL, *dst = NULL;
	git_oid target, commit;
	int rc, made = 0;

	commit_out[0] = '\0';
	rc = kd_git_setup(o->src, NULL, err);
	if (rc)
		return rc;
	if (!git_reference_is_valid_name(o->dest_ref) ||
	    (strncmp(o->dest_ref, "refs/heads/", 11) && strncmp(o->dest_ref, "refs/tags/", 10)))
		return kd_err_set(err, KD_EINVAL, "%s is not a branch or tag ref name", o->dest_ref);
	if (access(o->out_dir, F_OK) == 0)
		return kd_err_set(err, KD_EINVAL, "%s exists already", o->out_dir);
	rc = git_repository_open_ext(&src, o->src, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc)
		return fail(err, rc, "opening", o->src);
	rc = resolve(src, o, &target, &commit, err);
	if (rc)
		goto cleanup;
	rc = git_repository_init(&dst, o->out_dir, 1);
	made = 1;
	if (rc) {
		rc = fail(err, rc, "creating", o->out_dir);
		goto cleanup;
	}
	git_repository_free(dst);
	dst = NULL;
	rc = write_pack(src, &target, &commit, o->out_dir, err);
	if (!rc)
		rc = set_refs(o, &target, &commit, err);
	if (!rc)
		git_oid_tostr(commit_out, 41, &commit);
cleanup:
	git_repository_free(src);
	if (rc && made)
		nftw(o->out_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
