/* kd_git_sync: lock the state directory, fetch into the bare mirror,
 * resolve the ref, verify, check the tree out atomically and switch
 * `current`. Any failure before the switch leaves the state as it was. */
#include "git/internal.h"

#include "base/fs.h"
#include "base/limits.h"
#include "base/value.h"
#include "json/json.h"
#include "log/log.h"
#include "net/net.h"
#include "semver/semver.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH_MAX_KD 4096

typedef struct syncer {
	const kd_git_sync_opts *o;
	const char *state;
	kd_git_ctx ctx;
	git_repository *repo;
	int lock_fd;
	/* the resolution */
	git_oid commit;
	git_oid tag;        /* the annotated tag object, when there was one */
	int has_tag;
	char refname[256];
	/* the signature check */
	char sig_state[32]; /* "verified", "not-checked" */
	kd_git_sig_result sig;
	int64_t commit_time;
	int fetch_damaged;  /* the fetch failed on the mirror's own objects */
} syncer;

int kd_git_parse_verify(const char *s, kd_git_verify *out)
{
	if (!strcmp(s, "off"))
		*out = KD_GIT_VERIFY_OFF;
	else if (!strcmp(s, "head"))
		*out = KD_GIT_VERIFY_HEAD;
	else if (!strcmp(s, "tag"))
		*out = KD_GIT_VERIFY_TAG;
	else
		return -1;
	return 0;
}

/* --- files ------------------------------------------------------------ */

/* Paths under the state directory, whose length kd_git_sync bounds so
 * that these never truncate. */
static void pathf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static int io_error(kd_err *err, const char *what, const char *path)
{
	int e = errno;

	if (e == ENOSPC || e == EDQUOT)
		return kd_err_set(err, KD_GIT_ENOSPC, "disk full: cannot %s %s (%s); free space "
				  "on that file system, the state stays as it was", what, path,
				  strerror(e));
	return kd_err_set(err, KD_EIO, "cannot %s %s: %s", what, path, strerror(e));
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- the lock ---------------------------------------------------------- */

/* A disk-full or busy error from core/base/fs, in git's codes. */
static int fs_fail(int rc, kd_err *err)
{
	if (rc == KD_FS_ENOSPC)
		err->code = rc = KD_GIT_ENOSPC;
	else if (rc == KD_FS_EBUSY)
		err->code = rc = KD_GIT_EBUSY;
	return rc;
}

static int take_lock(syncer *s, kd_err *err)
{
	char path[PATH_MAX_KD];
	kd_err e = KD_ERR_INIT;
	int timeout = s->o->lock_timeout_s, rc;

	pathf(path, sizeof path, "%s/lock", s->state);
	rc = kd_fs_lock(&s->lock_fd, path, 0, "kedge sync", &e);
	if (rc == KD_FS_EBUSY && timeout > 0) {
		kd_log(KD_LOG_INFO, "waiting up to %d s: %s", timeout, e.msg);
		rc = kd_fs_lock(&s->lock_fd, path, timeout, "kedge sync", &e);
	}
	if (rc == KD_FS_EBUSY)
		kd_err_set(err, rc, "%s (--lock-timeout)", e.msg);
	else if (rc)
		kd_err_set(err, rc, "%s", e.msg);
	return fs_fail(rc, err);
}

/* --- libgit2 ------------------------------------------------------------- */

/* libgit2's last message, or the callbacks' own when they failed first,
 * turned into advice for the messages people meet most. `where` is the
 * local folder the operation writes to (named when the disk is full). */
int kd_git_fail(const kd_git_ctx *c, const char *where, kd_err *err,
		int gitrc, const char *what)
{
	const git_error *e = git_error_last();
	const char *m = e && e->message ? e->message : "unknown libgit2 error";
	const char *url = c->o->url;

	if (c->failed_code)
		return kd_err_set(err, c->failed_code, "%s", c->msg);
	if (strstr(m, "cannot redirect from") && (c->o->token || c->o->password))
		return kd_err_set(err, KD_EINVAL, "%s redirects to another host (%s); kedge "
				  "sends credentials only to the host named, so give the final URL",
				  url, m);
	if (strstr(m, "No space left") || strstr(m, "Disk quota"))
		return kd_err_set(err, KD_GIT_ENOSPC, "disk full while %s %s: %s; free space "
				  "under %s (the state stays as it was)", what, url, m, where);
	if (gitrc == GIT_EAUTH || strstr(m, "authentication") ||
	    strstr(m, "Authentication"))
		return kd_err_set(err, KD_GIT_EAUTH, "%s refused authentication: %s", url, m);
	if (strstr(m, "404") || strstr(m, "could not find repository") ||
	    strstr(m, "does not appear to be a git repository") ||
	    strstr(m, "failed to resolve path") || gitrc == GIT_ENOTFOUND)
		return kd_err_set(err, KD_ENOTFOUND, "repository not found: %s (%s); check --repo",
				  url, m);
	if (strstr(m, "Unable to exchange encryption keys") ||
	    strstr(m, "hostkey") || strstr(m, "Failed to retrieve list of SSH"))
		return kd_err_set(err, KD_GIT_EAUTH, "SSH with %s failed: %s; kedge's SSH "
				  "(libssh2 1.10 with mbedTLS) needs an ECDSA host key on the server "
				  "and an ECDSA client key (--ssh-key)", url, m);
	return kd_err_set(err, KD_EIO, "%s %s failed: %s", what, url, m);
}

static int git_fail(syncer *s, kd_err *err, int gitrc, const char *what)
{
	const git_error *e = git_error_last();

	/* the mirror's own objects failed (missing objects, a truncated pack
	 * or index), not the remote: kd_git_sync makes the mirror anew */
	/* "no match for id" is the remote's own missing object (a dangling
	 * upstream ref): fetching anew would not help */
	s->fetch_damaged = e && !s->ctx.failed_code &&
		!(e->message && strstr(e->message, "no match for id")) && (e->klass == GIT_ERROR_ODB ||
			   e->klass == GIT_ERROR_ZLIB ||
			   (e->message && (strstr(e->message, "object not found") ||
					   strstr(e->message, "packfile") ||
					   strstr(e->message, "corrupted"))));
	return kd_git_fail(&s->ctx, s->state, err, gitrc, what);
}

static int open_mirror(syncer *s, kd_err *err)
{
	char path[PATH_MAX_KD], tmp[PATH_MAX_KD];
	int rc;

	pathf(path, sizeof path, "%s/mirror.git", s->state);
	if (git_repository_open_bare(&s->repo, path) == 0)
		return 0;
	/* missing, or left half made by a crash, or damaged: make it anew */
	if (access(path, F_OK) == 0)
		kd_log(KD_LOG_WARN, "the mirror %s cannot be opened (%s): fetching it anew",
		       path, git_error_last() ? git_error_last()->message : "damaged");
	pathf(tmp, sizeof tmp, "%s/mirror.git.tmp", s->state);
	rm_tree(tmp);
	rm_tree(path);
	rc = git_repository_init(&s->repo, tmp, 1);
	if (rc)
		return git_fail(s, err, rc, "creating the mirror for");
	git_repository_free(s->repo);
	s->repo = NULL;
	rc = kd_fs_replace(tmp, path, err);
	if (rc)
		return fs_fail(rc, err);
	rc = git_repository_open_bare(&s->repo, path);
	return rc ? git_fail(s, err, rc, "opening the mirror of") : 0;
}

int kd_git_token_header(const kd_git_sync_opts *o, char *buf, size_t size, kd_err *err)
{
	if (!o->token)
		return 0;
	if ((size_t)snprintf(buf, size, "Authorization: Bearer %s", o->token) >= size ||
	    strpbrk(o->token, "\r\n"))
		return kd_err_set(err, KD_EINVAL, "the token is too long or has a line break");
	return 1;
}

/* A ref upstream that names an object the upstream does not have (a
 * dangling ref) fails the whole batch fetch. libgit2's local transport
 * says "no match for id"; git upload-pack (HTTP, SSH) dies before sending
 * a byte, which libgit2 reports as an early EOF: a pack cut short by the
 * network has bytes before its end. */
static int upstream_missing(git_remote *remote)
{
	const git_error *e = git_error_last();
	const char *m = e && e->message ? e->message : "";
	const git_indexer_progress *st = git_remote_stats(remote);

	return strstr(m, "no match for id") ||
	       (strstr(m, "early EOF") && st && !st->received_bytes);
}

typedef struct salvage {
	git_remote *remote;
	git_fetch_options *fo;
	char **specs;       /* "+NAME:NAME" for each advertised head and tag */
	char (*oids)[41];
	size_t n;
	char *broken;       /* 1 for each ref whose fetch failed on a missing object */
} salvage;

/* Fetch specs [lo, hi) in one go; when that fails on a missing object,
 * halve the range: one broken ref among N costs about 2 log2(N) fetches. */
static int fetch_range(syncer *s, salvage *v, size_t lo, size_t hi, kd_err *err)
{
	git_strarray a = {v->specs + lo, hi - lo};
	int rc = git_remote_fetch(v->remote, &a, v->fo, NULL);

	if (!rc)
		return 0;
	if (s->ctx.failed_code || !upstream_missing(v->remote))
		return git_fail(s, err, rc, "fetching");
	if (hi - lo == 1) {
		v->broken[lo] = 1;
		kd_log(KD_LOG_WARN, "upstream ref %s points to a missing object %s; skipped",
		       strchr(v->specs[lo], ':') + 1, v->oids[lo]);
		return 0;
	}
	rc = fetch_range(s, v, lo, lo + (hi - lo) / 2, err);
	return rc ? rc : fetch_range(s, v, lo + (hi - lo) / 2, hi, err);
}

/* Whether a ref of the mirror is one the upstream still has intact. */
static int keep_ref(const salvage *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(strchr(v->specs[i], ':') + 1, name))
			return !v->broken[i];
	return 0;
}

/* Prune by hand (the fetches above name refs one by one): a ref deleted
 * upstream, or broken there, leaves the mirror; then name the requested
 * ref when it is one of the broken ones. */
static int salvage_finish(syncer *s, salvage *v, kd_err *err)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	const char *want = s->o->ref;
	char head[300], tag[300];

	if (git_reference_iterator_new(&it, s->repo) == 0) {
		while (git_reference_next(&ref, it) == 0) {
			const char *n = git_reference_name(ref);

			if ((!strncmp(n, "refs/heads/", 11) || !strncmp(n, "refs/tags/", 10)) &&
			    !keep_ref(v, n))
				git_reference_delete(ref);
			git_reference_free(ref);
		}
		git_reference_iterator_free(it);
	}
	snprintf(head, sizeof head, "refs/heads/%s", want);
	snprintf(tag, sizeof tag, "refs/tags/%s", want);
	for (size_t i = 0; i < v->n; i++) {
		const char *n = strchr(v->specs[i], ':') + 1;

		if (v->broken[i] && (!strcmp(n, want) || !strcmp(n, head) || !strcmp(n, tag)))
			return kd_err_set(err, KD_ENOTFOUND, "upstream ref %s points to object %s, "
					  "which the upstream repository %s does not have; repair "
					  "that ref there", n, v->oids[i], s->o->url);
	}
	return 0;
}

/* libgit2 1.5's local transport peels every tag while listing refs, so one
 * tag naming a missing object fails every fetch from a local path: name
 * that tag (read from the upstream repository itself) and what to do. */
static int local_broken_tag(syncer *s, kd_err *err, int gitrc)
{
	const char *path = !strncmp(s->o->url, "file://", 7) ? s->o->url + 7 : s->o->url;
	git_repository *up = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref;
	git_odb *odb = NULL;
	char id[41] = "", name[256] = "";

	if (git_repository_open_ext(&up, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0 &&
	    git_repository_odb(&odb, up) == 0 && git_reference_iterator_new(&it, up) == 0) {
		while (!name[0] && git_reference_next(&ref, it) == 0) {
			const git_oid *t = git_reference_target(ref);

			if (t && !strncmp(git_reference_name(ref), "refs/tags/", 10) &&
			    !git_odb_exists(odb, t)) {
				snprintf(name, sizeof name, "%s", git_reference_name(ref));
				git_oid_tostr(id, sizeof id, t);
			}
			git_reference_free(ref);
		}
	}
	git_reference_iterator_free(it);
	git_odb_free(odb);
	git_repository_free(up);
	if (!name[0])
		return git_fail(s, err, gitrc, "listing the refs of");
	return kd_err_set(err, KD_ENOTFOUND, "upstream ref %s points to object %s, which the "
			  "upstream repository %s does not have; kedge cannot fetch from a "
			  "local repository with a broken tag: repair or delete that tag there",
			  name, id, s->o->url);
}

/* The batch fetch failed on a missing upstream object: list the refs,
 * fetch the intact ones and warn about the broken ones. */
static int fetch_salvage(syncer *s, git_remote *remote, git_fetch_options *fo, kd_err *err)
{
	salvage v = {remote, fo, NULL, NULL, 0, NULL};
	const git_remote_head **heads;
	size_t nheads = 0;
	int rc;

	rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &fo->callbacks,
				&fo->proxy_opts, &fo->custom_headers);
	if (!rc)
		rc = git_remote_ls(&heads, &nheads, remote);
	if (rc && (!strncmp(s->o->url, "file://", 7) ||
		   (!strstr(s->o->url, "://") && !s->ctx.is_ssh)))
		return local_broken_tag(s, err, rc);
	if (rc)
		return git_fail(s, err, rc, "listing the refs of");
	if (nheads > KD_LIMIT_GIT_REMOTE_REFS)
		return kd_err_set(err, KD_ELIMIT, "%s advertises %zu refs, over the limit of %u",
				  s->o->url, nheads, KD_LIMIT_GIT_REMOTE_REFS);
	v.specs = calloc(nheads + 1, sizeof *v.specs);
	v.oids = calloc(nheads + 1, sizeof *v.oids);
	v.broken = calloc(nheads + 1, 1);
	if (!v.specs || !v.oids || !v.broken) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory listing the refs of %s", s->o->url);
		goto cleanup;
	}
	for (size_t i = 0; i < nheads; i++) {
		const char *n = heads[i]->name;
		size_t len = strlen(n);

		if ((strncmp(n, "refs/heads/", 11) && strncmp(n, "refs/tags/", 10)) ||
		    (len > 3 && !strcmp(n + len - 3, "^{}")))
			continue;
		v.specs[v.n] = malloc(2 * len + 3);
		if (!v.specs[v.n]) {
			rc = kd_err_set(err, KD_ENOMEM, "out of memory listing the refs of %s",
					s->o->url);
			goto cleanup;
		}
		sprintf(v.specs[v.n], "+%s:%s", n, n);
		git_oid_tostr(v.oids[v.n++], 41, &heads[i]->oid);
	}
	git_remote_disconnect(remote);
	fo->prune = GIT_FETCH_NO_PRUNE;
	rc = v.n ? fetch_range(s, &v, 0, v.n, err) : 0;
	if (!rc)
		rc = salvage_finish(s, &v, err);
cleanup:
	for (size_t i = 0; v.specs && i < v.n; i++)
		free(v.specs[i]);
	free(v.specs);
	free(v.oids);
	free(v.broken);
	return rc;
}

static int fetch(syncer *s, kd_git_sync_result *out, kd_err *err)
{
	static char *specs[] = {"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"};
	git_strarray refspecs = {specs, 2};
	git_fetch_options fo;
	git_remote *remote = NULL;
	char header[4096];
	char *headers[1] = {header};
	const git_indexer_progress *st;
	int rc;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.callbacks.certificate_check = kd_git_cert_check;
	fo.callbacks.credentials = kd_git_credentials;
	fo.callbacks.transfer_progress = kd_git_progress;
	fo.callbacks.payload = &s->ctx;
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	rc = kd_git_token_header(s->o, header, sizeof header, err);
	if (rc < 0)
		return rc;
	if (rc) {
		fo.custom_headers.strings = headers;
		fo.custom_headers.count = 1;
	}
	/* libgit2 sends custom headers, and answers a 401, wherever a
	 * redirect leads: secrets go only to the host named */
	if (s->o->token || s->o->password)
		fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	rc = git_remote_create_anonymous(&remote, s->repo, s->o->url);
	if (rc) {
		rc = git_fail(s, err, rc, "reading the URL");
		goto cleanup;
	}
	/* one fetch of every head and tag: the common case costs one connection */
	rc = git_remote_fetch(remote, &refspecs, &fo, NULL);
	if (rc && !s->ctx.failed_code && upstream_missing(remote))
		rc = fetch_salvage(s, remote, &fo, err);
	else if (rc)
		rc = git_fail(s, err, rc, "fetching");
	if (s->ctx.progress_shown && !rc)
		fputc('\n', stderr);
	if (rc)
		goto cleanup;
	st = git_remote_stats(remote);
	out->objects = st->received_objects;
	out->bytes = (unsigned long)st->received_bytes;
cleanup:
	git_remote_free(remote);
	return rc;
}

/* --- resolving the ref ------------------------------------------------- */

int kd_git_is_hex40(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 40;
}

static int peel(syncer *s, const git_oid *target, kd_err *err)
{
	git_object *obj = NULL, *commit = NULL;
	int rc;

	rc = git_object_lookup(&obj, s->repo, target, GIT_OBJECT_ANY);
	if (rc)
		return kd_err_set(err, KD_ENOTFOUND, "%s points at a missing object", s->refname);
	s->has_tag = git_object_type(obj) == GIT_OBJECT_TAG;
	if (s->has_tag)
		git_oid_cpy(&s->tag, target);
	rc = git_object_peel(&commit, obj, GIT_OBJECT_COMMIT);
	if (rc) {
		rc = kd_err_set(err, KD_EINVAL, "%s does not point at a commit", s->refname);
		goto cleanup;
	}
	git_oid_cpy(&s->commit, git_object_id(commit));
cleanup:
	git_object_free(commit);
	git_object_free(obj);
	return rc;
}

int kd_git_best_tag(const char *url, const char *range, const char *const *tags, size_t n,
		    char best_name[256], kd_err *err)
{
	kd_arena a = KD_ARENA_INIT(1u << 20);
	kd_semver_range *r = NULL;
	kd_semver best = {0}, v;
	kd_err perr = KD_ERR_INIT;
	int rc;

	best_name[0] = '\0';
	rc = kd_semver_range_parse(&r, &a, range, strlen(range), err);
	if (rc) {
		kd_err_prefix(err, "--ref semver:%s", range);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		const char *t = tags[i];

		/* "refs/tags/" and the name must fit a 256-byte ref name */
		if (strlen(t) >= 246 || kd_semver_parse(&v, t, strlen(t), 1, &perr) ||
		    !kd_semver_range_match(r, &v))
			continue;
		if (!best_name[0] || kd_semver_cmp(&v, &best) > 0) {
			/* v points into tags, which outlives this loop */
			best = v;
			snprintf(best_name, 256, "%s", t);
		}
	}
	if (!best_name[0])
		rc = kd_err_set(err, KD_ENOTFOUND, "no tag of %s matches semver range \"%s\" "
				"(%zu tags looked at)", url, range, n);
cleanup:
	kd_arena_free(&a);
	return rc;
}

static int resolve_semver(syncer *s, const char *range, kd_err *err)
{
	git_strarray tags = {0};
	char best_name[256];
	git_oid id;
	int rc;

	rc = git_tag_list(&tags, s->repo);
	if (rc)
		return git_fail(s, err, rc, "listing the tags of");
	rc = kd_git_best_tag(s->o->url, range, (const char *const *)tags.strings, tags.count,
			     best_name, err);
	if (rc)
		goto cleanup;
	snprintf(s->refname, sizeof s->refname, "refs/tags/%.245s", best_name);
	rc = git_reference_name_to_id(&id, s->repo, s->refname);
	rc = rc ? kd_err_set(err, KD_ENOTFOUND, "%s vanished", s->refname) : peel(s, &id, err);
cleanup:
	git_strarray_dispose(&tags);
	return rc;
}

static int resolve(syncer *s, kd_err *err)
{
	const char *ref = s->o->ref;
	static const char *const prefixes[] = {"refs/heads/", "refs/tags/", ""};
	git_oid id;

	if (!strncmp(ref, "semver:", 7))
		return resolve_semver(s, ref + 7, err);
	if (kd_git_is_hex40(ref)) {
		git_odb *odb = NULL;
		int there = 0;

		snprintf(s->refname, sizeof s->refname, "%s", ref);
		if (git_oid_fromstr(&id, ref) == 0 && git_repository_odb(&odb, s->repo) == 0) {
			there = git_odb_exists(odb, &id);
			git_odb_free(odb);
		}
		if (!there)
			return kd_err_set(err, KD_ENOTFOUND, "commit %s is not in %s "
					  "(no branch or tag of it reaches that commit)",
					  ref, s->o->url);
		return peel(s, &id, err);
	}
	for (size_t i = 0; i < 3; i++) {
		if ((size_t)snprintf(s->refname, sizeof s->refname, "%s%s", prefixes[i],
				     ref) >= sizeof s->refname)
			return kd_err_set(err, KD_EINVAL, "--ref is too long");
		if (git_reference_name_to_id(&id, s->repo, s->refname) == 0)
			return peel(s, &id, err);
	}
	return kd_err_set(err, KD_ENOTFOUND, "ref \"%s\" not found in %s: no branch, tag or "
			  "ref of that name (give a branch, a tag, a 40-hex commit id or "
			  "semver:RANGE)", ref, s->o->url);
}

/* --- verification ------------------------------------------------------ */

static int verify(syncer *s, kd_err *err)
{
	kd_buf signers = KD_BUF_INIT(4u << 20);
	git_buf sig = GIT_BUF_INIT, data = GIT_BUF_INIT;
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_commit *commit = NULL;
	int rc;

	snprintf(s->sig_state, sizeof s->sig_state, "not-checked");
	rc = git_commit_lookup(&commit, s->repo, &s->commit);
	if (rc)
		return git_fail(s, err, rc, "reading the commit of");
	s->commit_time = git_commit_time(commit);
	if (s->o->verify == KD_GIT_VERIFY_OFF)
		goto cleanup;
	if (!s->o->trusted_keys) {
		rc = kd_err_set(err, KD_EINVAL, "--verify needs --trusted-keys FILE "
				"(an OpenSSH allowed-signers file)");
		goto cleanup;
	}
	rc = kd_fs_read_file(s->o->trusted_keys, 4u << 20, &signers, err);
	if (rc) {
		kd_err_prefix(err, "--trusted-keys");
		goto cleanup;
	}
	if (s->o->verify == KD_GIT_VERIFY_HEAD) {
		char id[41];

		git_oid_tostr(id, sizeof id, &s->commit);
		rc = git_commit_extract_signature(&sig, &data, s->repo, &s->commit, NULL);
		if (rc == GIT_ENOTFOUND) {
			rc = kd_err_set(err, KD_GIT_EREFUSED, "commit %s is not signed", id);
			goto cleanup;
		}
		if (rc) {
			rc = git_fail(s, err, rc, "reading the signature of a commit of");
			goto cleanup;
		}
		rc = kd_git_sshsig_verify(sig.ptr, sig.size, data.ptr, data.size, signers.ptr,
					  signers.len, s->o->trusted_keys, s->commit_time,
					  &s->sig, err);
		if (rc)
			kd_err_prefix(err, "commit %s", id);
	} else {
		char id[41];
		const char *raw, *b;
		size_t n;
		git_tag *tag = NULL;
		int64_t when = 0;

		if (!s->has_tag) {
			rc = kd_err_set(err, KD_GIT_EREFUSED, "--verify tag: %s is not an annotated "
					"tag (give a tag or semver: ref, or --verify head)", s->refname);
			goto cleanup;
		}
		git_oid_tostr(id, sizeof id, &s->tag);
		if (git_tag_lookup(&tag, s->repo, &s->tag) == 0) {
			const git_signature *t = git_tag_tagger(tag);

			when = t ? t->when.time : 0;
			git_tag_free(tag);
		}
		if ((rc = git_repository_odb(&odb, s->repo)) ||
		    (rc = git_odb_read(&obj, odb, &s->tag))) {
			rc = git_fail(s, err, rc, "reading a tag of");
			goto cleanup;
		}
		raw = git_odb_object_data(obj);
		n = git_odb_object_size(obj);
		b = memmem(raw, n, "-----BEGIN SSH SIGNATURE-----", 29);
		if (!b && memmem(raw, n, "-----BEGIN PGP SIGNATURE-----", 29)) {
			rc = kd_err_set(err, KD_GIT_EREFUSED, "tag %s (%s) has a PGP signature; kedge "
					"verifies SSH signatures (gpg.format=ssh)", s->refname, id);
			goto cleanup;
		}
		if (!b) {
			rc = kd_err_set(err, KD_GIT_EREFUSED, "tag %s (%s) is not signed", s->refname, id);
			goto cleanup;
		}
		rc = kd_git_sshsig_verify(b, n - (size_t)(b - raw), raw, (size_t)(b - raw),
					  signers.ptr, signers.len, s->o->trusted_keys, when,
					  &s->sig, err);
		if (rc)
			kd_err_prefix(err, "tag %s (%s)", s->refname, id);
	}
	if (rc == 0)
		snprintf(s->sig_state, sizeof s->sig_state, "verified");
cleanup:
	git_commit_free(commit);
	git_odb_object_free(obj);
	git_odb_free(odb);
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	kd_buf_free(&signers);
	return rc;
}

/* --- checkout ------------------------------------------------------------ */

typedef struct writer {
	syncer *s;
	size_t root_len; /* of the temporary folder's path */
	unsigned long files, linked;
	unsigned long long bytes;
} writer;

static int safe_name(const char *n)
{
	return n[0] && strcmp(n, ".") && strcmp(n, "..") && !strchr(n, '/');
}

/* A symlink may point only inside the tree: relative, and never climbing
 * above the root from where it sits (depth: its folder's depth). */
static int safe_link(const char *target, size_t len, int depth)
{
	int d = depth;
	size_t i = 0;

	if (!len || target[0] == '/' || memchr(target, '\0', len))
		return 0;
	while (i < len) {
		size_t n = 0;

		while (i + n < len && target[i + n] != '/')
			n++;
		if (n == 2 && !memcmp(target + i, "..", 2)) {
			if (--d < 0)
				return 0;
		} else if (n && !(n == 1 && target[i] == '.')) {
			d++;
		}
		i += n + 1;
	}
	return 1;
}

/* Same content, same mode, same path as in the tree served before: a hard
 * link to that file instead of a copy (trees are read-only), which makes
 * an incremental sync cost what changed, not the whole tree. */
static int link_unchanged(const git_tree_entry *e, const git_tree *old,
			  const char *olddir, const char *path)
{
	const git_tree_entry *oe;
	char oldpath[PATH_MAX_KD];

	if (!old || !olddir)
		return -1;
	oe = git_tree_entry_byname(old, git_tree_entry_name(e));
	if (!oe || git_tree_entry_filemode(oe) != git_tree_entry_filemode(e) ||
	    !git_oid_equal(git_tree_entry_id(oe), git_tree_entry_id(e)))
		return -1;
	if (strlen(olddir) + strlen(git_tree_entry_name(e)) + 2 > sizeof oldpath)
		return -1;
	pathf(oldpath, sizeof oldpath, "%s/%s", olddir, git_tree_entry_name(e));
	return link(oldpath, path);
}

static int write_blob(writer *w, const git_tree_entry *e, const char *path,
		      int depth, kd_err *err)
{
	git_filemode_t mode = git_tree_entry_filemode(e);
	git_object *obj = NULL;
	const git_blob *b;
	git_object_size_t size;
	git_odb *odb = NULL;
	size_t hsize = 0;
	git_object_t htype;
	int rc = git_repository_odb(&odb, w->s->repo);

	/* the header alone gives the size: a huge blob is never loaded */
	if (!rc)
		rc = git_odb_read_header(&hsize, &htype, odb, git_tree_entry_id(e));
	git_odb_free(odb);
	if (rc)
		return git_fail(w->s, err, rc, "reading the tree of");
	if (hsize > KD_LIMIT_GIT_FILE_BYTES)
		return kd_err_set(err, KD_ELIMIT, "%s is %zu bytes, over the per-file limit of "
				  "%u bytes (KD_LIMIT_GIT_FILE_BYTES): keep large files out of the "
				  "config repo", path + w->root_len + 1, hsize, KD_LIMIT_GIT_FILE_BYTES);
	rc = git_tree_entry_to_object(&obj, w->s->repo, e);
	if (rc)
		return git_fail(w->s, err, rc, "reading the tree of");
	b = (git_blob *)obj;
	size = git_blob_rawsize(b);
	if ((w->bytes += size) > KD_LIMIT_GIT_TREE_BYTES) {
		rc = kd_err_set(err, KD_ELIMIT, "the tree holds more than %llu bytes "
				"(KD_LIMIT_GIT_TREE_BYTES)",
				(unsigned long long)KD_LIMIT_GIT_TREE_BYTES);
	} else if (mode == GIT_FILEMODE_LINK) {
		char target[PATH_MAX_KD];

		if (size >= sizeof target ||
		    !safe_link(git_blob_rawcontent(b), (size_t)size, depth)) {
			rc = kd_err_set(err, KD_EPARSE, "symlink %s points outside the "
					"repository", path + w->root_len + 1);
		} else {
			memcpy(target, git_blob_rawcontent(b), (size_t)size);
			target[size] = '\0';
			if (symlink(target, path))
				rc = io_error(err, "create", path);
		}
	} else {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			      mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644);

		if (fd < 0) {
			rc = io_error(err, "create", path);
		} else {
			if (write_all(fd, git_blob_rawcontent(b), (size_t)size))
				rc = io_error(err, "write", path);
			close(fd);
		}
	}
	git_object_free(obj);
	return rc;
}

/* Writes tree into dir; old and olddir are the same folder of the tree
 * served before (both NULL when there is none). Nothing is fsynced here:
 * the caller syncs the whole file system once before the rename. */
static int write_tree(writer *w, const git_tree *tree, const git_tree *old,
		      const char *dir, const char *olddir, int depth, kd_err *err)
{
	size_t count = git_tree_entrycount(tree);
	char path[PATH_MAX_KD], oldsub[PATH_MAX_KD];
	int rc = 0;

	if (depth > 64)
		return kd_err_set(err, KD_ELIMIT, "the tree is nested deeper than 64 folders");
	for (size_t i = 0; i < count && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		git_filemode_t mode = git_tree_entry_filemode(e);

		if (!safe_name(name))
			return kd_err_set(err, KD_EPARSE, "the tree has an entry named \"%s\"", name);
		/* git itself refuses such trees: a checkout would carry a
		 * repository's hooks and config into the tree */
		if (!strcasecmp(name, ".git"))
			return kd_err_set(err, KD_EPARSE, "the tree has an entry named \"%s\" in "
					  "\"%s\", which git refuses: remove it from the config repo",
					  name, dir[w->root_len] ? dir + w->root_len + 1 : "/");
		if (strlen(dir) + strlen(name) + 2 > sizeof path)
			return kd_err_set(err, KD_ELIMIT, "path too long: %s/%s", dir, name);
		pathf(path, sizeof path, "%s/%s", dir, name);
		if (mode == GIT_FILEMODE_COMMIT) {
			kd_log(KD_LOG_WARN, "submodule %s is not checked out (kedge does not "
			       "fetch submodules)", path + w->root_len + 1);
		} else if (mode == GIT_FILEMODE_TREE) {
			git_object *sub = NULL, *oldtree = NULL;
			const git_tree_entry *oe = old ? git_tree_entry_byname(old, name) : NULL;

			rc = git_tree_entry_to_object(&sub, w->s->repo, e);
			if (rc)
				return git_fail(w->s, err, rc, "reading the tree of");
			if (oe && olddir && git_tree_entry_filemode(oe) == GIT_FILEMODE_TREE &&
			    strlen(olddir) + strlen(name) + 2 <= sizeof oldsub &&
			    git_tree_entry_to_object(&oldtree, w->s->repo, oe) == 0)
				pathf(oldsub, sizeof oldsub, "%s/%s", olddir, name);
			if (mkdir(path, 0755))
				rc = io_error(err, "create", path);
			else
				rc = write_tree(w, (git_tree *)sub, (git_tree *)oldtree, path,
						oldtree ? oldsub : NULL, depth + 1, err);
			git_object_free(oldtree);
			git_object_free(sub);
		} else if (++w->files > KD_LIMIT_GIT_TREE_FILES) {
			rc = kd_err_set(err, KD_ELIMIT, "the tree has more than %u files "
					"(KD_LIMIT_GIT_TREE_FILES)", KD_LIMIT_GIT_TREE_FILES);
		} else if (link_unchanged(e, old, olddir, path)) {
			rc = write_blob(w, e, path, depth, err);
		} else {
			w->linked++;
		}
	}
	return rc;
}

static void put_sig(kd_arena *a, kd_value *m, const char *name, const git_signature *sig)
{
	kd_value *v = kd_value_map(a, 3);

	if (!v || !sig)
		return;
	kd_map_setz(a, v, "name", kd_value_strz(a, sig->name));
	kd_map_setz(a, v, "email", kd_value_strz(a, sig->email));
	kd_map_setz(a, v, "time", kd_value_int(a, sig->when.time));
	kd_map_setz(a, m, name, v);
}

static int write_meta(syncer *s, const char *revdir, const char *id, kd_err *err)
{
	kd_arena a = KD_ARENA_INIT(16u << 20);
	kd_buf json = KD_BUF_INIT(16u << 20);
	git_commit *c = NULL;
	kd_value *m, *sig;
	char path[PATH_MAX_KD];
	int rc;

	rc = git_commit_lookup(&c, s->repo, &s->commit);
	if (rc)
		return git_fail(s, err, rc, "reading the commit of");
	m = kd_value_map(&a, 8);
	sig = kd_value_map(&a, 5);
	if (!m || !sig) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory");
		goto cleanup;
	}
	kd_map_setz(&a, m, "id", kd_value_strz(&a, id));
	kd_map_setz(&a, m, "ref", kd_value_strz(&a, s->refname));
	kd_map_setz(&a, m, "time", kd_value_int(&a, git_commit_time(c)));
	put_sig(&a, m, "author", git_commit_author(c));
	put_sig(&a, m, "committer", git_commit_committer(c));
	kd_map_setz(&a, m, "message", kd_value_strz(&a, git_commit_message(c)));
	kd_map_setz(&a, sig, "state", kd_value_strz(&a, s->sig_state));
	kd_map_setz(&a, sig, "mode", kd_value_strz(&a, s->o->verify == KD_GIT_VERIFY_HEAD ? "head"
						 : s->o->verify == KD_GIT_VERIFY_TAG ? "tag" : "off"));
	if (!strcmp(s->sig_state, "verified")) {
		kd_map_setz(&a, sig, "principal", kd_value_strz(&a, s->sig.principal));
		kd_map_setz(&a, sig, "key", kd_value_strz(&a, s->sig.fingerprint));
		kd_map_setz(&a, sig, "key_type", kd_value_strz(&a, s->sig.key_type));
	}
	kd_map_setz(&a, m, "signature", sig);
	if (a.failed) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory");
		goto cleanup;
	}
	rc = kd_json_encode(&json, m, &(kd_json_encode_opts){.indent = 2}, err);
	if (!rc)
		kd_buf_putc(&json, '\n');
	pathf(path, sizeof path, "%s/%s.json", revdir, id);
	if (!rc)
		rc = fs_fail(kd_fs_write_atomic(path, json.ptr, json.len, 0644, err), err);
cleanup:
	git_commit_free(c);
	kd_buf_free(&json);
	kd_arena_free(&a);
	return rc;
}

/* rev/<id>.json is a tree's completion record: written before the tree is
 * renamed into place and removed only after the tree is renamed away, so a
 * tree without it is the leftover of an interrupted prune (or of a kedge
 * that pruned in place) and may miss files: it is never served. */
static int rev_complete(const char *state, const char *id)
{
	char path[PATH_MAX_KD];
	struct stat st;

	pathf(path, sizeof path, "%s/rev/%s.json", state, id);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Removes a tree atomically as far as readers can tell: renamed aside
 * first (rev/.tmp-*, which every prune removes), then deleted. */
static void remove_rev(const char *revdir, const char *name)
{
	char path[PATH_MAX_KD], aside[PATH_MAX_KD];
	kd_err err = KD_ERR_INIT;
	struct stat st;

	pathf(path, sizeof path, "%s/%s", revdir, name);
	pathf(aside, sizeof aside, "%s/.tmp-prune-%s-%ld", revdir, name, (long)getpid());
	rm_tree(aside);
	if (lstat(path, &st))
		return;
	if (kd_fs_replace(path, aside, &err) == 0)
		rm_tree(aside);
	else
		kd_log(KD_LOG_WARN, "cannot move %s aside to remove it: %s", path, err.msg);
}

static int checkout(syncer *s, const char *id, const char *cur, kd_err *err)
{
	char revdir[PATH_MAX_KD], final[PATH_MAX_KD], tmp[PATH_MAX_KD];
	git_commit *c = NULL;
	git_tree *tree = NULL;
	writer w = {s, 0, 0, 0, 0};
	git_commit *oldc = NULL;
	git_tree *oldtree = NULL;
	git_oid oldid;
	char olddir[PATH_MAX_KD];
	int fd;
	struct stat st;
	int rc;

	pathf(revdir, sizeof revdir, "%s/rev", s->state);
	pathf(final, sizeof final, "%s/%s", revdir, id);
	if (mkdir(revdir, 0755) && errno != EEXIST)
		return io_error(err, "create", revdir);
	/* the tree exists already: it was made whole before its rename; the
	 * metadata is rewritten since the signature state may differ */
	if (stat(final, &st) == 0) {
		if (rev_complete(s->state, id))
			return write_meta(s, revdir, id, err);
		kd_log(KD_LOG_WARN, "%s has no completion record (rev/%s.json; an interrupted "
		       "prune?) and may miss files: checking it out again", final, id);
		remove_rev(revdir, id);
	}
	pathf(tmp, sizeof tmp, "%s/.tmp-%s-%ld", revdir, id, (long)getpid());
	rm_tree(tmp);
	if ((rc = git_commit_lookup(&c, s->repo, &s->commit)) ||
	    (rc = git_commit_tree(&tree, c))) {
		rc = git_fail(s, err, rc, "reading the tree of");
		goto cleanup;
	}
	if (mkdir(tmp, 0755)) {
		rc = io_error(err, "create", tmp);
		goto cleanup;
	}
	w.root_len = strlen(tmp);
	pathf(olddir, sizeof olddir, "%s/%s", revdir, cur);
	if (cur[0] && stat(olddir, &st) == 0 && rev_complete(s->state, cur) &&
	    git_oid_fromstr(&oldid, cur) == 0 &&
	    git_commit_lookup(&oldc, s->repo, &oldid) == 0)
		git_commit_tree(&oldtree, oldc);
	rc = write_tree(&w, tree, oldtree, tmp, oldtree ? olddir : NULL, 0, err);
	if (rc)
		goto cleanup;
	/* one sync of the file system instead of one fsync per file */
	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd)) {
		rc = io_error(err, "sync", tmp);
		if (fd >= 0)
			close(fd);
		goto cleanup;
	}
	close(fd);
	rc = write_meta(s, revdir, id, err);
	if (rc)
		goto cleanup;
	rc = fs_fail(kd_fs_replace(tmp, final, err), err);
	if (rc)
		goto cleanup;
	kd_log(KD_LOG_DEBUG, "checked out %s: %lu files (%lu unchanged, linked), %llu bytes written",
	       id, w.files, w.linked, w.bytes);
cleanup:
	if (rc) {
		rm_tree(tmp);
		/* metadata without its tree would outlive every prune */
		if (stat(final, &st)) {
			pathf(olddir, sizeof olddir, "%s/%s.json", revdir, id);
			unlink(olddir);
		}
	}
	git_tree_free(oldtree);
	git_commit_free(oldc);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

static int switch_current(syncer *s, const char *id, kd_err *err)
{
	char link[PATH_MAX_KD], tmp[PATH_MAX_KD], target[128];
	int rc;

	pathf(link, sizeof link, "%s/current", s->state);
	pathf(tmp, sizeof tmp, "%s/.current.tmp", s->state);
	pathf(target, sizeof target, "rev/%s", id);
	unlink(tmp);
	if (symlink(target, tmp))
		return io_error(err, "create", tmp);
	rc = kd_fs_replace(tmp, link, err);
	if (rc)
		unlink(tmp);
	return fs_fail(rc, err);
}

void kd_git_read_current(const char *state, char out[41])
{
	char link[PATH_MAX_KD], target[128];
	ssize_t n;

	out[0] = '\0';
	pathf(link, sizeof link, "%s/current", state);
	n = readlink(link, target, sizeof target - 1);
	if (n == 44 && !strncmp(target, "rev/", 4)) {
		memcpy(out, target + 4, 40);
		out[40] = '\0';
	}
}

/* Was rev/<id> verified when it was checked out (its metadata says so)? */
static int rev_verified(const char *state, const char *id)
{
	char path[PATH_MAX_KD];
	kd_buf text = KD_BUF_INIT(16u << 20);
	kd_arena a = KD_ARENA_INIT(32u << 20);
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL, *sig, *st;
	int yes = 0;

	pathf(path, sizeof path, "%s/rev/%s.json", state, id);
	if (kd_fs_read_file(path, 16u << 20, &text, &err) == 0 &&
	    kd_json_decode(&v, &a, text.ptr, text.len, path, NULL, &err) == 0 &&
	    v->type == KD_MAP && (sig = kd_map_getz(v, "signature")) && sig->type == KD_MAP &&
	    (st = kd_map_getz(sig, "state")) && st->type == KD_STR)
		yes = st->u.str.len == 8 && !memcmp(st->u.str.ptr, "verified", 8);
	kd_buf_free(&text);
	kd_arena_free(&a);
	return yes;
}

typedef struct revent {
	char id[41];
	time_t mtime;
} revent;

static int by_mtime_desc(const void *a, const void *b)
{
	const revent *x = a, *y = b;

	return (x->mtime < y->mtime) - (x->mtime > y->mtime);
}

/* Keeps the current tree and the most recent others, up to
 * KD_GIT_KEEP_REVS; removes leftovers of interrupted checkouts. */
static void prune_revs(syncer *s, const char *current)
{
	char revdir[PATH_MAX_KD], path[PATH_MAX_KD];
	revent *list = NULL;
	size_t n = 0, cap = 0, kept = 1;
	struct dirent *d;
	DIR *dir;

	pathf(revdir, sizeof revdir, "%s/rev", s->state);
	dir = opendir(revdir);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		struct stat st;

		pathf(path, sizeof path, "%s/%s", revdir, d->d_name);
		if (!strncmp(d->d_name, ".tmp-", 5)) {
			rm_tree(path);
			continue;
		}
		if (strlen(d->d_name) != 40 || !kd_git_is_hex40(d->d_name) ||
		    !strcmp(d->d_name, current) || lstat(path, &st))
			continue;
		if (!rev_complete(s->state, d->d_name)) {
			remove_rev(revdir, d->d_name);
			continue;
		}
		if (n == cap) {
			revent *nl = realloc(list, (cap = cap ? cap * 2 : 16) * sizeof *list);

			if (!nl)
				break;
			list = nl;
		}
		memcpy(list[n].id, d->d_name, 41);
		list[n++].mtime = st.st_mtime;
	}
	closedir(dir);
	qsort(list, n, sizeof *list, by_mtime_desc);
	for (size_t i = 0; i < n; i++) {
		if (kept < KD_GIT_KEEP_REVS) {
			kept++;
			continue;
		}
		/* the tree goes first: a record without its tree is absent,
		 * a tree without its record would be a half tree */
		remove_rev(revdir, list[i].id);
		pathf(path, sizeof path, "%s/%s.json", revdir, list[i].id);
		unlink(path);
	}
	free(list);
}

typedef struct repack_ctx {
	git_repository *repo;
	git_packbuilder *pb;
	int rc;
} repack_ctx;

static int add_tag_object(const char *name, git_oid *oid, void *payload)
{
	repack_ctx *r = payload;
	git_object *o = NULL;

	if (git_object_lookup(&o, r->repo, oid, GIT_OBJECT_TAG) == 0 && !r->rc)
		r->rc = git_packbuilder_insert(r->pb, oid, name);
	git_object_free(o);
	return 0;
}

static int count_packs(const char *dir)
{
	struct dirent *d;
	DIR *dh = opendir(dir);
	int n = 0;

	if (!dh)
		return 0;
	while ((d = readdir(dh)))
		if (strlen(d->d_name) > 5 && !strcmp(d->d_name + strlen(d->d_name) - 5, ".pack"))
			n++;
	closedir(dh);
	return n;
}

/* Every fetch adds a pack, and a force push leaves objects nothing
 * reaches. Past KD_LIMIT_GIT_PACKS packs, the mirror is repacked to what
 * its branches and tags reach, and the rest is deleted: the disk used
 * stays near the size of the repo's live history. The new pack is
 * complete before anything is deleted, so a crash loses nothing. */
static void maybe_repack(syncer *s)
{
	char dir[PATH_MAX_KD], path[PATH_MAX_KD], keep[128];
	repack_ctx r = {s->repo, NULL, 0};
	git_revwalk *walk = NULL;
	struct dirent *d;
	DIR *dh;
	int rc;

	pathf(dir, sizeof dir, "%s/mirror.git/objects/pack", s->state);
	if (count_packs(dir) <= KD_LIMIT_GIT_PACKS)
		return;
	if ((rc = git_packbuilder_new(&r.pb, s->repo)) ||
	    (rc = git_revwalk_new(&walk, s->repo)) ||
	    (rc = git_revwalk_push_glob(walk, "refs/*")) ||
	    (rc = git_packbuilder_insert_walk(r.pb, walk)) ||
	    (rc = git_tag_foreach(s->repo, add_tag_object, &r)) || (rc = r.rc) ||
	    (rc = git_packbuilder_write(r.pb, NULL, 0, NULL, NULL))) {
		const git_error *e = git_error_last();

		kd_log(KD_LOG_WARN, "repacking the mirror in %s failed, it keeps its old packs: %s",
		       s->state, e && e->message ? e->message : "unknown error");
		goto cleanup;
	}
	snprintf(keep, sizeof keep, "pack-%s.", git_packbuilder_name(r.pb));
	dh = opendir(dir);
	if (!dh)
		goto cleanup;
	/* the index before its pack, so no pack is ever left without one */
	for (int pass = 0; pass < 2; pass++) {
		rewinddir(dh);
		while ((d = readdir(dh))) {
			size_t n = strlen(d->d_name);
			const char *ext = pass ? ".pack" : ".idx";

			if (strncmp(d->d_name, "pack-", 5) || !strncmp(d->d_name, keep, strlen(keep)) ||
			    n < strlen(ext) || strcmp(d->d_name + n - strlen(ext), ext))
				continue;
			pathf(path, sizeof path, "%s/%s", dir, d->d_name);
			unlink(path);
		}
	}
	closedir(dh);
	kd_log(KD_LOG_DEBUG, "repacked the mirror: %zu objects", git_packbuilder_written(r.pb));
cleanup:
	git_revwalk_free(walk);
	git_packbuilder_free(r.pb);
}

static void write_status(syncer *s, const kd_git_sync_result *r, const char *refusal)
{
	kd_arena a = KD_ARENA_INIT(1u << 20);
	kd_buf json = KD_BUF_INIT(1u << 20);
	kd_err err = KD_ERR_INIT;
	kd_value *m = kd_value_map(&a, 10);
	char path[PATH_MAX_KD];

	if (!m)
		goto cleanup;
	kd_map_setz(&a, m, "time", kd_value_int(&a, (int64_t)time(NULL)));
	kd_map_setz(&a, m, "ref", kd_value_strz(&a, s->o->ref));
	kd_map_setz(&a, m, "resolved_ref", kd_value_strz(&a, s->refname));
	kd_map_setz(&a, m, "wanted", kd_value_strz(&a, r->wanted));
	kd_map_setz(&a, m, "current", r->current[0] ? kd_value_strz(&a, r->current)
						    : kd_value_null(&a));
	kd_map_setz(&a, m, "verify", kd_value_strz(&a, s->o->verify == KD_GIT_VERIFY_HEAD ? "head"
						 : s->o->verify == KD_GIT_VERIFY_TAG ? "tag" : "off"));
	kd_map_setz(&a, m, "current_verified", kd_value_bool(&a, r->current_verified));
	kd_map_setz(&a, m, "refusal", refusal ? kd_value_strz(&a, refusal) : kd_value_null(&a));
	if (a.failed || kd_json_encode(&json, m, &(kd_json_encode_opts){.indent = 2}, &err))
		goto cleanup;
	kd_buf_putc(&json, '\n');
	pathf(path, sizeof path, "%s/status.json", s->state);
	if (kd_fs_write_atomic(path, json.ptr, json.len, 0644, &err))
		kd_log(KD_LOG_ERROR, "%s", err.msg);
cleanup:
	kd_buf_free(&json);
	kd_arena_free(&a);
}

static int global_init(kd_err *err)
{
	static int done;
	int rc;

	if (done)
		return 0;
	rc = git_libgit2_init();
	if (rc < 0)
		return kd_err_set(err, KD_EINTERNAL, "libgit2 failed to start");
	/* the host's git configuration (url.insteadOf, proxies, ...) must not
	 * change what kedge fetches; the mirror is kedge's own, so libgit2's
	 * safe.directory ownership check has nothing to protect */
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, "");
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, "");
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	git_libgit2_opts(GIT_OPT_SET_USER_AGENT, "kedge");
	done = 1;
	return 0;
}

/* The CA file libgit2 holds (it is process-wide). */
static char ca_loaded[PATH_MAX_KD] = KD_NET_SYSTEM_CA;

int kd_git_setup(const char *url, const char *ca_file, kd_err *err)
{
	int rc = global_init(err);

	if (rc)
		return rc;
	if (ca_file && access(ca_file, R_OK))
		return kd_err_set(err, KD_EINVAL, "--ca-file %s: %s", ca_file, strerror(errno));
	/* libgit2 loaded the system bundle when it started (its build names
	 * it); parsing a bundle costs milliseconds, so it is replaced only
	 * for HTTPS and only when another one is wanted than the one loaded
	 * (a Lua caller may sync several repos in one process) */
	if (!strncmp(url, "https://", 8)) {
		const char *want = ca_file ? ca_file : KD_NET_SYSTEM_CA;

		if (strcmp(want, ca_loaded) &&
		    git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, want, NULL))
			return kd_err_set(err, KD_EINVAL, "%s holds no usable CA certificate%s",
					  want, ca_file ? " (--ca-file)" : "");
		snprintf(ca_loaded, sizeof ca_loaded, "%s", want);
	}
	return 0;
}

/* A mirror whose own objects fail (missing objects, a truncated pack or
 * index) is moved aside to mirror.git.damaged and fetched anew, once, with
 * a warning: otherwise every later sync would fail the same way. */
static int rebuild_mirror(syncer *s, kd_git_sync_result *out, kd_err *err)
{
	char path[PATH_MAX_KD], aside[PATH_MAX_KD];
	int rc;

	kd_log(KD_LOG_WARN, "the mirror in %s is damaged (%s): moved aside to "
	       "mirror.git.damaged, fetching it anew", s->state, err->msg);
	s->fetch_damaged = 0;
	git_repository_free(s->repo);
	s->repo = NULL;
	pathf(path, sizeof path, "%s/mirror.git", s->state);
	pathf(aside, sizeof aside, "%s/mirror.git.damaged", s->state);
	rm_tree(aside);
	kd_err_clear(err);
	rc = fs_fail(kd_fs_replace(path, aside, err), err);
	if (!rc)
		rc = open_mirror(s, err);
	if (!rc)
		rc = fetch(s, out, err);
	return rc;
}

int kd_git_sync(const kd_git_sync_opts *o, kd_git_sync_result *out,
		kd_err *err)
{
	syncer s;
	char cur[41], id[41];
	int rc, have_commit = 0;

	memset(out, 0, sizeof *out);
	memset(&s, 0, sizeof s);
	s.o = o;
	s.state = o->state_dir ? o->state_dir : KD_GIT_DEFAULT_STATE;
	s.lock_fd = -1;
	s.ctx.o = o;
	if (!o->url || !o->ref)
		return kd_err_set(err, KD_EINVAL, "a repository URL and a ref are needed");
	if (strlen(s.state) > PATH_MAX_KD - 200)
		return kd_err_set(err, KD_EINVAL, "--state path is too long");
	kd_git_ctx_url(&s.ctx, o->url);
	if (!strncmp(o->url, "http://", 7))
		kd_log(KD_LOG_WARN, "%s is plain HTTP: anyone on the path can change what "
		       "kedge fetches; use HTTPS, SSH or --verify", o->url);
	rc = kd_git_setup(o->url, o->ca_file, err);
	if (rc)
		return rc;
	if (mkdir(s.state, 0755) && errno != EEXIST)
		return io_error(err, "create the state directory", s.state);
	rc = take_lock(&s, err);
	if (rc)
		goto cleanup;
	rc = open_mirror(&s, err);
	if (rc)
		goto cleanup;
	kd_git_read_current(s.state, cur);
	/* a commit id that is here already needs no network at all */
	if (kd_git_is_hex40(o->ref)) {
		git_oid oid;
		git_commit *c = NULL;

		if (git_oid_fromstr(&oid, o->ref) == 0 &&
		    git_commit_lookup(&c, s.repo, &oid) == 0) {
			have_commit = 1;
			git_commit_free(c);
		}
	}
	if (!have_commit && !strstr(o->url, "://") && !s.ctx.is_ssh) {
		const char *path = o->url;
		struct stat st;

		if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
			rc = kd_err_set(err, KD_ENOTFOUND, "repository not found: %s is not a "
					"folder; check --repo", path);
			goto cleanup;
		}
	}
	if (!have_commit)
		rc = fetch(&s, out, err);
	if (!rc)
		rc = resolve(&s, err);
	if (rc && s.fetch_damaged) {
		rc = rebuild_mirror(&s, out, err);
		if (!rc)
			rc = resolve(&s, err);
	}
	if (rc)
		goto cleanup;
	git_oid_tostr(id, sizeof id, &s.commit);
	memcpy(out->wanted, id, 41);
	snprintf(out->ref, sizeof out->ref, "%s", s.refname);
	rc = verify(&s, err);
	if (rc == KD_GIT_EREFUSED) {
		snprintf(out->refusal, sizeof out->refusal, "%s", err->msg);
		memcpy(out->current, cur, 41);
		if (cur[0])
			snprintf(out->tree, sizeof out->tree, "%s/rev/%s", s.state, cur);
		out->current_verified = cur[0] && rev_verified(s.state, cur);
		kd_log(KD_LOG_ERROR, "REFUSED %s (%s): %s; %s", id, s.refname, err->msg,
		       !cur[0] ? "nothing is served yet"
		       : out->current_verified ? "still serving the last verified commit"
		       : "still serving a commit that was NOT verified (synced without --verify)");
		if (cur[0])
			kd_err_prefix(err, "refused %s, still serving %s%s", id, cur,
				      out->current_verified ? "" : " (itself never verified)");
		else
			kd_err_prefix(err, "refused %s, nothing verified to serve", id);
		write_status(&s, out, out->refusal);
		goto cleanup;
	}
	if (rc)
		goto cleanup;
	rc = checkout(&s, id, cur, err);
	if (rc && s.fetch_damaged) {
		rc = rebuild_mirror(&s, out, err);
		if (!rc)
			rc = checkout(&s, id, cur, err);
	}
	if (rc)
		goto cleanup;
	if (strcmp(cur, id)) {
		rc = switch_current(&s, id, err);
		if (rc)
			goto cleanup;
		out->changed = 1;
	}
	memcpy(out->current, id, 41);
	out->current_verified = !strcmp(s.sig_state, "verified");
	snprintf(out->tree, sizeof out->tree, "%s/rev/%s", s.state, id);
	write_status(&s, out, NULL);
	prune_revs(&s, id);
	maybe_repack(&s);
cleanup:
	git_repository_free(s.repo);
	kd_fs_unlock(s.lock_fd);
	return rc;
}
