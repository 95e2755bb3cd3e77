/* kd_git_push: one commit with a few files on top of a remote branch,
 * pushed without force. Status reports use it (kedge/status/<site>): many
 * sites may share a repo, each on its own branch, and a branch may also be
 * moved by people, so a rejected push fetches the new tip and tries again.
 *
 * The work repo is a bare repo of kedge's own; only the pushed branch is
 * fetched into it (refs/remotes/origin/<branch>). */
#include "git/internal.h"

#include "base/fs.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REF_MAX 512

typedef struct pusher {
	const kd_git_push_opts *o;
	kd_git_ctx ctx;
	git_repository *repo;
	char local[REF_MAX];   /* refs/heads/<branch> */
	char tracking[REF_MAX]; /* refs/remotes/origin/<branch> */
	char rejected[REF_MAX + 256]; /* the server's reason (push callback) */
	char *headers[1];
	char header[4096];
	int nheaders;
} pusher;

/* Two pushes through one work repo at once would move each other's local
 * branch between commit and push. */
static int lock_work(const char *dir, int timeout_s, int *fd_out, kd_err *err)
{
	char path[4096];
	int rc;

	if ((size_t)snprintf(path, sizeof path, "%s.lock", dir) >= sizeof path)
		return kd_err_set(err, KD_EINVAL, "%s: path too long", dir);
	rc = kd_fs_lock(fd_out, path, timeout_s, "kedge push", err);
	if (rc == KD_FS_EBUSY)
		err->code = rc = KD_GIT_EBUSY;
	return rc;
}

static int valid_path(const char *p)
{
	const char *s = p;

	if (!*p || *p == '/' || strlen(p) > 1024)
		return 0;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') ||
		    (n == 4 && !strncmp(s, ".git", 4)))
			return 0;
		s += n;
		if (*s == '/')
			s++;
		else
			break;
	}
	return p[strlen(p) - 1] != '/';
}

static int open_work(pusher *p, kd_err *err)
{
	const char *dir = p->o->work_dir;
	int rc;

	if (git_repository_open_bare(&p->repo, dir) == 0)
		return 0;
	rc = git_repository_init(&p->repo, dir, 1);
	return rc ? kd_git_fail(&p->ctx, dir, err, rc, "creating a work repo for") : 0;
}

/* The payload of every callback is the pusher; the transport callbacks
 * take its kd_git_ctx. */
static int cert_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	return kd_git_cert_check(cert, valid, host, &((pusher *)payload)->ctx);
}

static int cred_cb(git_credential **out, const char *url, const char *user,
		   unsigned int allowed, void *payload)
{
	return kd_git_credentials(out, url, user, allowed, &((pusher *)payload)->ctx);
}

static int update_cb(const char *refname, const char *status, void *payload)
{
	pusher *p = payload;

	if (status && !p->rejected[0])
		snprintf(p->rejected, sizeof p->rejected, "%s: %s", refname, status);
	return 0;
}

static int fetch_branch(pusher *p, kd_err *err)
{
	char spec[2 * REF_MAX + 8];
	char *specs[1] = {spec};
	git_strarray refspecs = {specs, 1};
	git_fetch_options fo;
	git_remote *remote = NULL;
	int rc;

	snprintf(spec, sizeof spec, "+%s:%s", p->local, p->tracking);
	/* each connection gets one try of the credentials */
	p->ctx.cred_tries = 0;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.callbacks.certificate_check = cert_cb;
	fo.callbacks.credentials = cred_cb;
	fo.callbacks.payload = p;
	/* a branch deleted on the remote must not leave its old tip here */
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.custom_headers.strings = p->headers;
	fo.custom_headers.count = (size_t)p->nheaders;
	if (p->o->conn.token || p->o->conn.password)
		fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	rc = git_remote_create_anonymous(&remote, p->repo, p->o->conn.url);
	if (!rc)
		rc = git_remote_fetch(remote, &refspecs, &fo, NULL);
	if (rc)
		rc = kd_git_fail(&p->ctx, p->o->work_dir, err, rc, "fetching");
	git_remote_free(remote);
	return rc;
}

/* 1 when the tree holds every file with the same content already. */
static int tree_has_files(pusher *p, git_tree *tree)
{
	for (size_t i = 0; i < p->o->nfiles; i++) {
		const kd_git_push_file *f = &p->o->files[i];
		git_tree_entry *e = NULL;
		git_oid want;
		int same;

		if (git_blob_create_from_buffer(&want, p->repo, f->data, f->len) ||
		    git_tree_entry_bypath(&e, tree, f->path))
			return 0;
		same = git_oid_equal(git_tree_entry_id(e), &want);
		git_tree_entry_free(e);
		if (!same)
			return 0;
	}
	return 1;
}

/* Commits the files on top of the fetched tip (or as the first commit)
 * and points refs/heads/<branch> at it. */
static int make_commit(pusher *p, kd_git_push_result *out, kd_err *err)
{
	const kd_git_push_opts *o = p->o;
	git_reference *tip = NULL, *local = NULL;
	git_commit *parent = NULL;
	git_tree *ptree = NULL, *tree = NULL;
	git_index *idx = NULL;
	git_signature *sig = NULL;
	git_oid tree_id, commit_id;
	const git_commit *parents[1];
	int rc;

	rc = git_reference_lookup(&tip, p->repo, p->tracking);
	if (rc == 0) {
		rc = git_commit_lookup(&parent, p->repo, git_reference_target(tip));
		if (!rc)
			rc = git_commit_tree(&ptree, parent);
		if (rc) {
			rc = kd_git_fail(&p->ctx, o->work_dir, err, rc, "reading the branch of");
			goto cleanup;
		}
		if (tree_has_files(p, ptree)) {
			git_oid_tostr(out->commit, sizeof out->commit, git_commit_id(parent));
			out->unchanged = 1;
			goto cleanup;
		}
	} else if (rc != GIT_ENOTFOUND) {
		rc = kd_git_fail(&p->ctx, o->work_dir, err, rc, "reading the branch of");
		goto cleanup;
	}
	rc = git_index_new(&idx);
	if (!rc && ptree)
		rc = git_index_read_tree(idx, ptree);
	for (size_t i = 0; !rc && i < o->nfiles; i++) {
		git_index_entry e;

		memset(&e, 0, sizeof e);
		e.mode = GIT_FILEMODE_BLOB;
		e.path = o->files[i].path;
		rc = git_blob_create_from_buffer(&e.id, p->repo, o->files[i].data,
						 o->files[i].len);
		if (!rc)
			rc = git_index_add(idx, &e);
	}
	if (!rc)
		rc = git_index_write_tree_to(&tree_id, idx, p->repo);
	if (!rc)
		rc = git_tree_lookup(&tree, p->repo, &tree_id);
	if (!rc)
		rc = git_signature_now(&sig, o->author_name ? o->author_name : "kedge",
				       o->author_email ? o->author_email : "kedge@localhost");
	parents[0] = parent;
	if (!rc)
		rc = git_commit_create(&commit_id, p->repo, NULL, sig, sig, NULL,
				       o->message ? o->message : "kedge: status",
				       tree, parent ? 1 : 0, parents);
	if (!rc)
		rc = git_reference_create(&local, p->repo, p->local, &commit_id, 1,
					  "kedge: status commit");
	if (rc) {
		rc = kd_git_fail(&p->ctx, o->work_dir, err, rc, "committing for");
		goto cleanup;
	}
	git_oid_tostr(out->commit, sizeof out->commit, &commit_id);
cleanup:
	git_reference_free(tip);
	git_reference_free(local);
	git_commit_free(parent);
	git_tree_free(ptree);
	git_tree_free(tree);
	git_index_free(idx);
	git_signature_free(sig);
	return rc;
}

/* 0 pushed; 1 the server rejected the ref (p->rejected says why); or an
 * error. */
static int push_branch(pusher *p, kd_err *err)
{
	char spec[2 * REF_MAX + 8];
	char *specs[1] = {spec};
	git_strarray refspecs = {specs, 1};
	git_push_options po;
	git_remote *remote = NULL;
	int rc;

	snprintf(spec, sizeof spec, "%s:%s", p->local, p->local);
	p->rejected[0] = '\0';
	p->ctx.cred_tries = 0;
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	po.callbacks.certificate_check = cert_cb;
	po.callbacks.credentials = cred_cb;
	po.callbacks.push_update_reference = update_cb;
	po.callbacks.payload = p;
	po.custom_headers.strings = p->headers;
	po.custom_headers.count = (size_t)p->nheaders;
	if (p->o->conn.token || p->o->conn.password)
		po.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	rc = git_remote_create_anonymous(&remote, p->repo, p->o->conn.url);
	if (!rc)
		rc = git_remote_push(remote, &refspecs, &po);
	git_remote_free(remote);
	/* a rejected ref is most often a branch that moved meanwhile (the
	 * server says "fetch first", "non-fast-forward" or "failed to
	 * update ref"); a refusal for good (a hook, a protected branch) fails
	 * the same way on every round, and its reason ends in the error */
	if (rc == GIT_ENONFASTFORWARD) {
		snprintf(p->rejected, sizeof p->rejected, "not a fast-forward");
		rc = 1;
	} else if (rc) {
		rc = kd_git_fail(&p->ctx, p->o->work_dir, err, rc, "pushing to");
	} else if (p->rejected[0]) {
		rc = 1;
	}
	return rc;
}

int kd_git_push(const kd_git_push_opts *o, kd_git_push_result *out, kd_err *err)
{
	pusher p;
	int rc, lock_fd = -1, max = o->attempts > 0 ? o->attempts : 5;

	memset(out, 0, sizeof *out);
	memset(&p, 0, sizeof p);
	p.o = o;
	p.ctx.o = &o->conn;
	if (!o->conn.url || !o->work_dir || !o->branch || (!o->files && o->nfiles))
		return kd_err_set(err, KD_EINVAL, "a URL, a work folder and a branch are needed");
	for (size_t i = 0; i < o->nfiles; i++)
		if (!valid_path(o->files[i].path))
			return kd_err_set(err, KD_EINVAL, "%s: not a path kedge writes into a "
					  "branch (relative, no \"..\" or \".git\")",
					  o->files[i].path);
	if ((size_t)snprintf(p.local, sizeof p.local, "refs/heads/%s", o->branch) >= sizeof p.local ||
	    (size_t)snprintf(p.tracking, sizeof p.tracking, "refs/remotes/origin/%s", o->branch) >=
	    sizeof p.tracking)
		return kd_err_set(err, KD_EINVAL, "branch name too long: %s", o->branch);
	rc = kd_git_setup(o->conn.url, o->conn.ca_file, err);
	if (rc)
		return rc;
	if (!git_reference_is_valid_name(p.local))
		return kd_err_set(err, KD_EINVAL, "\"%s\" is not a valid branch name", o->branch);
	kd_git_ctx_url(&p.ctx, o->conn.url);
	if (!strstr(o->conn.url, "://") && !p.ctx.is_ssh) {
		struct stat st;

		if (stat(o->conn.url, &st) || !S_ISDIR(st.st_mode))
			return kd_err_set(err, KD_ENOTFOUND, "repository not found: %s is not a "
					  "folder; check the report's repo", o->conn.url);
	}
	if (o->conn.token) {
		if ((size_t)snprintf(p.header, sizeof p.header, "Authorization: Bearer %s",
				     o->conn.token) >= sizeof p.header ||
		    strpbrk(o->conn.token, "\r\n")) {
			rc = kd_err_set(err, KD_EINVAL, "the token is too long or has a line break");
			goto cleanup;
		}
		p.headers[0] = p.header;
		p.nheaders = 1;
	}
	rc = lock_work(o->work_dir, o->conn.lock_timeout_s, &lock_fd, err);
	if (rc)
		goto cleanup;
	rc = open_work(&p, err);
	while (!rc && out->attempts < max) {
		out->attempts++;
		rc = fetch_branch(&p, err);
		if (!rc)
			rc = make_commit(&p, out, err);
		if (rc || out->unchanged)
			break;
		rc = push_branch(&p, err);
		if (rc == 1 && out->attempts < max) {
			/* no URL here: it may carry a user name and password */
			kd_log(KD_LOG_INFO, "the server refused the push (%s); fetching %s again "
			       "and committing on its tip", p.rejected, o->branch);
			rc = 0;
			continue;
		}
		if (rc == 1)
			rc = kd_err_set(err, KD_EIO, "%s refused %d pushes to %s, the last: %s; "
					"when the branch is protected or a hook refuses it, allow "
					"kedge to push there", o->conn.url, max, o->branch, p.rejected);
		break;
	}
cleanup:
	memset(p.header, 0, sizeof p.header);
	git_repository_free(p.repo);
	kd_fs_unlock(lock_fd);
	return rc;
}
