/* kd_git_push (core/git/push.c) against a bare repo on a local path:
 * refused arguments, the first commit of a branch, a retry that finds its
 * files on the tip already, two work repos adding to one branch, and the
 * other branches left alone. Over HTTPS and SSH: tests/e2e/t0750-report.sh. */
#include "base/err.h"
#include "git/git.h"
#include "tap.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[256];

static int push(const char *work, const char *path, const char *data,
		kd_git_push_result *res, kd_err *err)
{
	kd_git_push_file f = {path, data, strlen(data)};
	kd_git_push_opts o;
	char remote[300], wdir[300];

	memset(&o, 0, sizeof o);
	snprintf(remote, sizeof remote, "%s/remote.git", root);
	snprintf(wdir, sizeof wdir, "%s/%s", root, work);
	o.conn.url = remote;
	o.work_dir = wdir;
	o.branch = "kedge/status/berlin-01";
	o.files = &f;
	o.nfiles = 1;
	o.message = "kedge report";
	return kd_git_push(&o, res, err);
}

/* The blob at path on the remote's status branch, into buf ("" when absent). */
static void remote_file(const char *path, char *buf, size_t size)
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	char spec[512], dir[300];

	buf[0] = '\0';
	snprintf(dir, sizeof dir, "%s/remote.git", root);
	snprintf(spec, sizeof spec, "refs/heads/kedge/status/berlin-01:%s", path);
	if (git_repository_open_bare(&repo, dir) == 0 &&
	    git_revparse_single(&obj, repo, spec) == 0 &&
	    git_object_type(obj) == GIT_OBJECT_BLOB) {
		const git_blob *b = (const git_blob *)obj;
		size_t n = (size_t)git_blob_rawsize(b);

		if (n >= size)
			n = size - 1;
		memcpy(buf, git_blob_rawcontent(b), n);
		buf[n] = '\0';
	}
	git_object_free(obj);
	git_repository_free(repo);
}

static int commit_count(void)
{
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	git_oid oid;
	char dir[300];
	int n = 0;

	snprintf(dir, sizeof dir, "%s/remote.git", root);
	if (git_repository_open_bare(&repo, dir) == 0 && git_revwalk_new(&walk, repo) == 0 &&
	    git_revwalk_push_ref(walk, "refs/heads/kedge/status/berlin-01") == 0)
		while (git_revwalk_next(&oid, walk) == 0)
			n++;
	git_revwalk_free(walk);
	git_repository_free(repo);
	return n;
}

int main(void)
{
	kd_git_push_result res, res2;
	kd_err err = KD_ERR_INIT;
	git_repository *remote = NULL;
	kd_git_push_opts o;
	char dir[300], file[256], cmd[300];
	const char *buf = file;

	snprintf(root, sizeof root, "%s/kedge-push-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		return 1;
	git_libgit2_init();
	snprintf(dir, sizeof dir, "%s/remote.git", root);
	ok(git_repository_init(&remote, dir, 1) == 0, "a bare remote");
	git_repository_free(remote);

	memset(&o, 0, sizeof o);
	is_int(kd_git_push(&o, &res, &err), KD_EINVAL, "no URL: refused");
	is_int(push("w1", "../escape", "x", &res, &err), KD_EINVAL, "a path with .. is refused");
	ok(strstr(err.msg, "../escape: not a path") != NULL, "naming the path");
	is_int(push("w1", ".git/config", "x", &res, &err), KD_EINVAL, "a path into .git is refused");
	is_int(push("w1", "/abs", "x", &res, &err), KD_EINVAL, "an absolute path is refused");
	is_int(push("w1", "a//b", "x", &res, &err), KD_EINVAL, "an empty path component is refused");

	is_int(push("w1", "reports/a.json", "{\"id\": \"a\"}\n", &res, &err), 0, "first push");
	ok(strlen(res.commit) == 40 && res.attempts == 1 && !res.unchanged,
	   "one round, a new commit");
	remote_file("reports/a.json", file, sizeof file);
	is_strz(buf, "{\"id\": \"a\"}\n", "the branch holds the file");
	is_int(commit_count(), 1, "the branch starts with that commit");

	is_int(push("w1", "reports/a.json", "{\"id\": \"a\"}\n", &res2, &err), 0, "the same file again");
	ok(res2.unchanged && !strcmp(res.commit, res2.commit), "finds it on the tip: nothing pushed");
	is_int(commit_count(), 1, "still one commit");

	is_int(push("w2", "reports/b.json", "{\"id\": \"b\"}\n", &res, &err), 0,
	       "another work repo adds a file");
	is_int(push("w1", "reports/c.json", "{\"id\": \"c\"}\n", &res, &err), 0,
	       "the first work repo, behind now, adds one more");
	is_int(res.attempts, 1, "it fetched the tip first: no rejected round");
	is_int(commit_count(), 3, "one commit per push");
	remote_file("reports/b.json", file, sizeof file);
	is_strz(buf, "{\"id\": \"b\"}\n", "no file of another push is lost");
	remote_file("reports/a.json", file, sizeof file);
	is_strz(buf, "{\"id\": \"a\"}\n", "the first file is still there");

	memset(&o, 0, sizeof o);
	o.conn.url = dir;
	o.work_dir = root;
	o.branch = "bad..name";
	is_int(kd_git_push(&o, &res, &err), KD_EINVAL, "an invalid branch name is refused");
	o.branch = "kedge/status/x";
	o.conn.url = "/nonexistent/repo.git";
	snprintf(cmd, sizeof cmd, "%s/w3", root);
	o.work_dir = cmd;
	is_int(kd_git_push(&o, &res, &err), KD_ENOTFOUND, "a remote that is not there fails");
	is_strz(err.msg, "repository not found: /nonexistent/repo.git is not a folder; "
		"check the report's repo", "naming it");

	git_libgit2_shutdown();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd))
		return 1;
	return tap_done();
}
