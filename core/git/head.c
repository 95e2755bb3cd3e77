/* kd_git_remote_head: the agent's cheap check. One connection and the
 * remote's ref advertisement answer "did the ref move?" without fetching
 * a pack, taking the state lock or writing anything. */
#include "git/internal.h"

#include "base/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STATE(o) ((o)->state_dir ? (o)->state_dir : KD_GIT_DEFAULT_STATE)

typedef struct adverts {
	const git_remote_head **heads;
	size_t n;
} adverts;

/* The commit an advertised ref names: an annotated tag's peeled entry
 * ("NAME^{}") when the remote sent one, else the ref's own id. */
static int find(const adverts *ad, const char *name, git_oid *out)
{
	size_t len = strlen(name);
	int found = 0;

	for (size_t i = 0; i < ad->n; i++) {
		const char *h = ad->heads[i]->name;

		if (!strcmp(h, name) && !found) {
			git_oid_cpy(out, &ad->heads[i]->oid);
			found = 1;
		} else if (!strncmp(h, name, len) && !strcmp(h + len, "^{}")) {
			git_oid_cpy(out, &ad->heads[i]->oid);
			return 1;
		}
	}
	return found;
}

static int resolve_semver(const kd_git_sync_opts *o, const adverts *ad, const char *range,
			  kd_git_head_result *out, git_oid *id, kd_err *err)
{
	const char **tags = calloc(ad->n ? ad->n : 1, sizeof *tags);
	char best[256];
	size_t n = 0;
	int rc;

	if (!tags)
		return kd_err_set(err, KD_ENOMEM, "out of memory listing the tags of %s", o->url);
	for (size_t i = 0; i < ad->n; i++) {
		const char *h = ad->heads[i]->name;

		if (!strncmp(h, "refs/tags/", 10) && !strstr(h, "^{}"))
			tags[n++] = h + 10;
	}
	rc = kd_git_best_tag(o->url, range, tags, n, best, err);
	free(tags);
	if (rc)
		return rc;
	snprintf(out->ref, sizeof out->ref, "refs/tags/%.245s", best);
	find(ad, out->ref, id);
	return 0;
}

static int resolve(const kd_git_sync_opts *o, const adverts *ad, kd_git_head_result *out,
		   kd_err *err)
{
	static const char *const prefixes[] = {"refs/heads/", "refs/tags/", ""};
	git_oid id;

	if (!strncmp(o->ref, "semver:", 7)) {
		int rc = resolve_semver(o, ad, o->ref + 7, out, &id, err);

		if (rc)
			return rc;
	} else {
		size_t i;

		for (i = 0; i < 3; i++) {
			if ((size_t)snprintf(out->ref, sizeof out->ref, "%s%s", prefixes[i],
					     o->ref) >= sizeof out->ref)
				return kd_err_set(err, KD_EINVAL, "--ref is too long");
			if (find(ad, out->ref, &id))
				break;
		}
		if (i == 3)
			return kd_err_set(err, KD_ENOTFOUND, "ref \"%s\" not found in %s: no "
					  "branch, tag or ref of that name", o->ref, o->url);
	}
	git_oid_tostr(out->commit, sizeof out->commit, &id);
	return 0;
}

static int advertise(const kd_git_sync_opts *o, kd_git_ctx *ctx, kd_git_head_result *out,
		     kd_err *err)
{
	git_remote_connect_options co;
	git_remote *remote = NULL;
	char header[4096];
	char *headers[1] = {header};
	adverts ad = {0};
	int rc;

	git_remote_connect_options_init(&co, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
	co.callbacks.certificate_check = kd_git_cert_check;
	co.callbacks.credentials = kd_git_credentials;
	co.callbacks.payload = ctx;
	rc = kd_git_token_header(o, header, sizeof header, err);
	if (rc < 0)
		return rc;
	if (rc) {
		co.custom_headers.strings = headers;
		co.custom_headers.count = 1;
	}
	/* secrets go only to the host named (see fetch in sync.c) */
	if (o->token || o->password)
		co.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	rc = git_remote_create_detached(&remote, o->url);
	if (rc)
		return kd_git_fail(ctx, STATE(o), err, rc, "reading the URL");
	rc = git_remote_connect_ext(remote, GIT_DIRECTION_FETCH, &co);
	if (rc) {
		rc = kd_git_fail(ctx, STATE(o), err, rc, "asking for the refs of");
		goto cleanup;
	}
	rc = git_remote_ls(&ad.heads, &ad.n, remote);
	if (rc) {
		rc = kd_git_fail(ctx, STATE(o), err, rc, "listing the refs of");
		goto cleanup;
	}
	if (ad.n > KD_LIMIT_GIT_REMOTE_REFS) {
		rc = kd_err_set(err, KD_ELIMIT, "%s advertises %zu refs, over the limit of %u",
				o->url, ad.n, KD_LIMIT_GIT_REMOTE_REFS);
		goto cleanup;
	}
	rc = resolve(o, &ad, out, err);
cleanup:
	git_remote_free(remote);
	return rc;
}

int kd_git_remote_head(const kd_git_sync_opts *o, kd_git_head_result *out,
		       kd_err *err)
{
	kd_git_ctx ctx;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&ctx, 0, sizeof ctx);
	ctx.o = o;
	if (!o->url || !o->ref)
		return kd_err_set(err, KD_EINVAL, "a repository URL and a ref are needed");
	kd_git_read_current(STATE(o), out->current);
	if (kd_git_is_hex40(o->ref)) {
		/* a commit id names itself: nothing to ask */
		snprintf(out->commit, sizeof out->commit, "%s", o->ref);
		snprintf(out->ref, sizeof out->ref, "%s", o->ref);
	} else {
		kd_git_ctx_url(&ctx, o->url);
		if (!strstr(o->url, "://") && !ctx.is_ssh) {
			struct stat st;

			if (stat(o->url, &st) || !S_ISDIR(st.st_mode))
				return kd_err_set(err, KD_ENOTFOUND, "repository not found: %s is "
						  "not a folder; check --repo", o->url);
		}
		rc = kd_git_setup(o->url, o->ca_file, err);
		if (rc)
			return rc;
		rc = advertise(o, &ctx, out, err);
		if (rc)
			return rc;
	}
	out->changed = strcmp(out->commit, out->current) != 0;
	return 0;
}
