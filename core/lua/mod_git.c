/* kedge.git: the config repo for Lua (core/git).
 *
 *   git.sync{repo=, ref=, state=, ca_file=, token_file=, username=,
 *            password_file=, ssh_key=, known_hosts=, trust_new_host=, verify=,
 *            trusted_keys=, lock_timeout=, ssh_key_passphrase_file=,
 *            token_env=, password_env=, progress=, timeout=, timeout_message=}
 *     -> {commit=, wanted=, ref=, tree=, changed=, verified=, objects=,
 *         bytes=, refused=<message or nil>, message=<refused, and what is
 *         still served>} or nil, err (and "busy"
 *         when another sync holds the state lock). token_env/password_env name the
 *         variables a secret comes from when its file is not given.
 *         timeout (seconds, 0 none) bounds the whole sync: past it,
 *         timeout_message goes to stderr and the process ends (see
 *         watchdog below).
 *   git.remote_head{sync's options} -> {commit=, ref=, current=, changed=}
 *     or nil, err: what the ref names on the remote now, from one ref
 *     advertisement (no fetch, no lock); current is what the state
 *     directory serves, changed whether they differ.
 *   git.DEFAULT_STATE: the state directory when none is given
 *   git.open(state [, commit]) -> repo or nil, err
 *   git.open_dir(path) -> a plain folder served as a repo (id() is nil,
 *                         commit() fails), or nil, err
 *   repo:read(path) -> bytes or nil, err
 *   repo:list([dir]) -> {{name=, type="file"|"dir"|"link"}, ...} or nil, err
 *   repo:commit() -> {id=, time=, author=, committer=, message=, ref=,
 *                     signature={state=, mode=, principal=, key=, key_type=}}
 *   repo:id(), repo:path(), repo:close() (also <close> and __gc)
 *   git.store(path) -> store or nil, err: a repository's branches read
 *     straight from its objects (no checkout, nothing written):
 *   store:branches(prefix) -> {{name=, commit=, time=}, ...}, broken
 *     (sorted by name; broken counts branches that name no commit)
 *   store:list(rev, dir) -> {{name=, type=}, ...} or nil, err
 *   store:read(rev, path [, max]) -> bytes or nil, err (max: bytes)
 *   store:resolve(rev) -> {commit=, time=} or nil, err
 *   store:ahead_behind(a, b) -> ahead, behind or nil, err
 *   store:close() (also <close> and __gc)
 *   git.push{repo=, branch=, work=, files={[path]=bytes, ...}, message=,
 *            author=, email=, attempts=, and sync's transport options:
 *            ca_file=, token_file=, username=, password_file=, ssh_key=,
 *            known_hosts=, trust_new_host=, lock_timeout=}
 *     -> {commit=, attempts=, unchanged=} or nil, err: one commit adding
 *     the files on top of the remote branch, pushed without force (see
 *     kd_git_push in core/git/git.h).
 *
 *   git.sshsig_sign(key_file, namespace, data) -> armored signature or nil,
 *     err: `ssh-keygen -Y sign -n NAMESPACE` with an unencrypted OpenSSH
 *     ed25519 key, read here (never a Lua string) and wiped after use
 *   git.sshsig_verify(armored, signers_text, principal|nil, namespace, data
 *     [, signers_name]) -> {principal=, fingerprint=, key_type=} or nil, err:
 *     as ssh-keygen -Y verify against an allowed-signers file's text
 *   git.sshsig_inspect(armored) -> {fingerprint=, key_type=, namespace=,
 *     public_key="TYPE BASE64"} or nil, err: what the signature claims,
 *     nothing checked (to match a pinned fingerprint, then verify)
 *   git.export{src=, rev=, ref=, out=} -> commit id or nil, err: a new bare
 *     repository at out holding rev (a refname or a commit) with its
 *     history as ref (kd_git_export)
 *
 * Secrets are read from files here too (token_file, password_file). */
#include "lua/klua.h"

#include "base/arena.h"
#include "base/fs.h"
#include "base/limits.h"
#include "git/git.h"
#include "json/json.h"

#include <errno.h>
#include <lauxlib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REV_MT "kedge.GitRepo"
#define STORE_MT "kedge.GitStore"

typedef struct lrev {
	kd_git_rev *rev;
} lrev;

static kd_git_rev *check_rev(lua_State *L)
{
	lrev *lr = luaL_checkudata(L, 1, REV_MT);

	if (!lr->rev)
		luaL_error(L, "the repo is closed");
	return lr->rev;
}

static int rev_close(lua_State *L)
{
	lrev *lr = luaL_checkudata(L, 1, REV_MT);

	kd_git_rev_free(lr->rev);
	lr->rev = NULL;
	return 0;
}

static int rev_read(lua_State *L)
{
	kd_git_rev *r = check_rev(L);
	const char *path = luaL_checkstring(L, 2);
	kd_buf out = KD_BUF_INIT(KD_LIMIT_GIT_READ_BYTES);
	kd_err err = KD_ERR_INIT;
	int rc = kd_git_rev_read(r, path, &out, &err);

	return kd_lua_return_buf(L, rc, &out, &err);
}

/* A tree listing as {{name=, type="file"|"dir"|"link"}, ...}; frees list. */
static int push_entries(lua_State *L, kd_git_entry *list, size_t n)
{
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 2);
		lua_pushstring(L, list[i].name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, list[i].type == 'd' ? "dir" : list[i].type == 'l' ? "link" : "file");
		lua_setfield(L, -2, "type");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	free(list);
	kd_lua_set_list(L, -1);
	return 1;
}

static int rev_list(lua_State *L)
{
	kd_git_rev *r = check_rev(L);
	const char *dir = luaL_optstring(L, 2, "");
	kd_git_entry *list = NULL;
	kd_err err = KD_ERR_INIT;
	size_t n;
	int rc = kd_git_rev_list(r, dir, &list, &n, &err);

	if (rc)
		return kd_lua_fail(L, &err);
	return push_entries(L, list, n);
}

static int rev_commit(lua_State *L)
{
	kd_git_rev *r = check_rev(L);
	kd_buf json = KD_BUF_INIT(16u << 20);
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL;
	kd_arena *a;
	int rc = kd_git_rev_meta(r, &json, &err);

	if (rc) {
		kd_buf_free(&json);
		return kd_lua_fail(L, &err);
	}
	a = kd_lua_push_arena(L, KD_LIMIT_ARENA_BYTES);
	rc = kd_json_decode(&v, a, json.ptr, json.len, kd_git_rev_id(r), NULL, &err);
	kd_buf_free(&json);
	return kd_lua_return_value(L, rc, v, a, &err);
}

static int rev_id(lua_State *L)
{
	const char *id = kd_git_rev_id(check_rev(L));

	if (id[0])
		lua_pushstring(L, id);
	else
		lua_pushnil(L);
	return 1;
}

static int rev_path(lua_State *L)
{
	lua_pushstring(L, kd_git_rev_dir(check_rev(L)));
	return 1;
}

static int git_open(lua_State *L)
{
	const char *state = luaL_checkstring(L, 1);
	const char *commit = luaL_optstring(L, 2, NULL);
	kd_err err = KD_ERR_INIT;
	lrev *lr = lua_newuserdatauv(L, sizeof *lr, 0);

	lr->rev = NULL;
	luaL_setmetatable(L, REV_MT);
	if (kd_git_rev_open(&lr->rev, state, commit, &err))
		return kd_lua_fail(L, &err);
	return 1;
}

static int git_open_dir(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	kd_err err = KD_ERR_INIT;
	lrev *lr = lua_newuserdatauv(L, sizeof *lr, 0);

	lr->rev = NULL;
	luaL_setmetatable(L, REV_MT);
	if (kd_git_rev_open_dir(&lr->rev, dir, &err))
		return kd_lua_fail(L, &err);
	return 1;
}

/* libgit2 1.5 has no network timeouts, so a server that stops answering
 * would hold a sync forever, and nothing can interrupt libgit2 inside a
 * read. The whole sync gets a deadline instead, watched by a thread; past
 * it the process ends at once (_exit: nothing may run on state libgit2
 * holds half-changed). That is safe because nothing is served until it is
 * complete (the next sync removes the leftovers) and the lock goes with
 * the process. */
typedef struct watchdog {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct timespec deadline; /* CLOCK_MONOTONIC */
	const char *msg;
	int done;
	int running;
	pthread_t th;
} watchdog;

static void *watch(void *arg)
{
	watchdog *w = arg;
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	while (!w->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->cv, &w->mu, &w->deadline);
	if (!w->done) {
		(void)!write(2, w->msg, strlen(w->msg));
		_exit(1);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int watchdog_start(watchdog *w, double seconds, const char *msg)
{
	pthread_condattr_t ca;

	memset(w, 0, sizeof *w);
	if (seconds <= 0)
		return 0;
	w->msg = msg;
	clock_gettime(CLOCK_MONOTONIC, &w->deadline);
	w->deadline.tv_sec += (time_t)seconds;
	w->deadline.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (w->deadline.tv_nsec >= 1000000000L) {
		w->deadline.tv_sec++;
		w->deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->th, NULL, watch, w))
		return -1;
	w->running = 1;
	return 0;
}

static void watchdog_stop(watchdog *w)
{
	if (!w->running)
		return;
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	w->running = 0;
}

/* The secrets sync's and remote_head's options name (files, or the
 * variables token_env/password_env), wiped before they are freed. */
typedef struct secrets {
	kd_buf token, password, key_pass;
} secrets;

static void secrets_free(secrets *s)
{
	memset(s->token.ptr, 0, s->token.len);
	memset(s->password.ptr, 0, s->password.len);
	memset(s->key_pass.ptr, 0, s->key_pass.len);
	kd_buf_free(&s->token);
	kd_buf_free(&s->password);
	kd_buf_free(&s->key_pass);
}

/* Reads the options table at index 1 into o (raises on a bad one). */
static void read_opts(lua_State *L, kd_git_sync_opts *o)
{
	const char *verify;

	luaL_checktype(L, 1, LUA_TTABLE);
	o->url = kd_lua_opt_string(L, 1, "repo", NULL);
	o->ref = kd_lua_opt_string(L, 1, "ref", NULL);
	if (!o->url || !o->ref)
		luaL_argerror(L, 1, "repo and ref are required");
	o->state_dir = kd_lua_opt_string(L, 1, "state", NULL);
	o->ca_file = kd_lua_opt_string(L, 1, "ca_file", NULL);
	o->username = kd_lua_opt_string(L, 1, "username", NULL);
	o->ssh_key = kd_lua_opt_string(L, 1, "ssh_key", NULL);
	o->known_hosts = kd_lua_opt_string(L, 1, "known_hosts", NULL);
	o->trust_new_host = kd_lua_opt_bool(L, 1, "trust_new_host", 0);
	o->trusted_keys = kd_lua_opt_string(L, 1, "trusted_keys", NULL);
	o->lock_timeout_s = (int)kd_lua_opt_integer(L, 1, "lock_timeout", 60);
	o->progress = kd_lua_opt_bool(L, 1, "progress", 0);
	verify = kd_lua_opt_string(L, 1, "verify", "off");
	if (kd_git_parse_verify(verify, &o->verify))
		luaL_argerror(L, 1, "verify is \"off\", \"head\" or \"tag\"");
}

/* Reads the secrets the options at index 1 name; call after read_opts
 * and before anything else may raise (sec holds heap memory). */
static int read_secrets(lua_State *L, kd_git_sync_opts *o, secrets *sec, kd_err *err)
{
	const char *token_env = kd_lua_opt_string(L, 1, "token_env", NULL);
	const char *password_env = kd_lua_opt_string(L, 1, "password_env", NULL);
	const char *token_file = kd_lua_opt_string(L, 1, "token_file", NULL);
	const char *password_file = kd_lua_opt_string(L, 1, "password_file", NULL);
	const char *pass_file = kd_lua_opt_string(L, 1, "ssh_key_passphrase_file", NULL);
	int rc;

	sec->token = (kd_buf)KD_BUF_INIT(8192);
	sec->password = (kd_buf)KD_BUF_INIT(8192);
	sec->key_pass = (kd_buf)KD_BUF_INIT(8192);
	if ((rc = kd_git_read_secret(token_file, token_env, &sec->token, err)) ||
	    (rc = kd_git_read_secret(password_file, password_env, &sec->password, err)) ||
	    (rc = kd_git_read_secret(pass_file, NULL, &sec->key_pass, err)))
		return rc;
	o->token = sec->token.len ? sec->token.ptr : NULL;
	o->password = sec->password.len ? sec->password.ptr : NULL;
	o->ssh_key_pass = sec->key_pass.len ? sec->key_pass.ptr : NULL;
	return 0;
}

static void push_sync_result(lua_State *L, const kd_git_sync_result *r, int rc, const kd_err *err)
{
	lua_createtable(L, 0, 8);
	if (r->current[0]) {
		lua_pushstring(L, r->current);
		lua_setfield(L, -2, "commit");
		lua_pushstring(L, r->tree);
		lua_setfield(L, -2, "tree");
	}
	lua_pushstring(L, r->wanted);
	lua_setfield(L, -2, "wanted");
	lua_pushstring(L, r->ref);
	lua_setfield(L, -2, "ref");
	lua_pushboolean(L, r->changed);
	lua_setfield(L, -2, "changed");
	lua_pushboolean(L, r->current_verified);
	lua_setfield(L, -2, "verified");
	lua_pushinteger(L, (lua_Integer)r->objects);
	lua_setfield(L, -2, "objects");
	lua_pushinteger(L, (lua_Integer)r->bytes);
	lua_setfield(L, -2, "bytes");
	if (rc == KD_GIT_EREFUSED) {
		lua_pushstring(L, r->refusal);
		lua_setfield(L, -2, "refused");
		lua_pushstring(L, err->msg);
		lua_setfield(L, -2, "message");
	}
}

static int git_sync(lua_State *L)
{
	kd_git_sync_opts o = {0};
	kd_git_sync_result *r;
	secrets sec;
	kd_err err = KD_ERR_INIT;
	const char *timeout_msg;
	watchdog w;
	double timeout;
	int rc;

	read_opts(L, &o);
	timeout_msg = kd_lua_opt_string(L, 1, "timeout_message", "git sync: timed out\n");
	lua_getfield(L, 1, "timeout");
	timeout = luaL_optnumber(L, -1, 0);
	lua_pop(L, 1);
	r = lua_newuserdatauv(L, sizeof *r, 0);
	/* every option is read (and may raise) before anything is allocated */
	rc = read_secrets(L, &o, &sec, &err);
	if (rc)
		goto cleanup;
	if (watchdog_start(&w, timeout, timeout_msg)) {
		rc = kd_err_set(&err, KD_EINTERNAL, "cannot start the --timeout watchdog");
		goto cleanup;
	}
	rc = kd_git_sync(&o, r, &err);
	watchdog_stop(&w);
cleanup:
	secrets_free(&sec);
	if (rc && rc != KD_GIT_EREFUSED) {
		kd_lua_fail(L, &err);
		if (rc != KD_GIT_EBUSY)
			return 2;
		lua_pushliteral(L, "busy");
		return 3;
	}
	push_sync_result(L, r, rc, &err);
	return 1;
}

/* git.remote_head{sync's options} -> {commit=, ref=, current=, changed=}
 * or nil, err: one ref advertisement, no fetch (kd_git_remote_head). */
static int git_remote_head(lua_State *L)
{
	kd_git_sync_opts o = {0};
	kd_git_head_result *r;
	secrets sec;
	kd_err err = KD_ERR_INIT;
	int rc;

	read_opts(L, &o);
	r = lua_newuserdatauv(L, sizeof *r, 0);
	rc = read_secrets(L, &o, &sec, &err);
	if (!rc)
		rc = kd_git_remote_head(&o, r, &err);
	secrets_free(&sec);
	if (rc)
		return kd_lua_fail(L, &err);
	lua_createtable(L, 0, 4);
	lua_pushstring(L, r->commit);
	lua_setfield(L, -2, "commit");
	lua_pushstring(L, r->ref);
	lua_setfield(L, -2, "ref");
	if (r->current[0]) {
		lua_pushstring(L, r->current);
		lua_setfield(L, -2, "current");
	}
	lua_pushboolean(L, r->changed);
	lua_setfield(L, -2, "changed");
	return 1;
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const kd_git_push_file *)a)->path, ((const kd_git_push_file *)b)->path);
}

static int git_push(lua_State *L)
{
	kd_git_push_opts o;
	kd_git_push_result r;
	kd_git_push_file *files;
	kd_buf token = KD_BUF_INIT(8192), password = KD_BUF_INIT(8192);
	kd_err err = KD_ERR_INIT;
	const char *token_file, *password_file;
	size_t n = 0, max = 64;
	int rc;

	luaL_checktype(L, 1, LUA_TTABLE);
	memset(&o, 0, sizeof o);
	o.conn.url = kd_lua_opt_string(L, 1, "repo", NULL);
	o.branch = kd_lua_opt_string(L, 1, "branch", NULL);
	o.work_dir = kd_lua_opt_string(L, 1, "work", NULL);
	if (!o.conn.url || !o.branch || !o.work_dir)
		return luaL_argerror(L, 1, "repo, branch and work are required");
	o.message = kd_lua_opt_string(L, 1, "message", NULL);
	o.author_name = kd_lua_opt_string(L, 1, "author", NULL);
	o.author_email = kd_lua_opt_string(L, 1, "email", NULL);
	o.attempts = (int)kd_lua_opt_integer(L, 1, "attempts", 5);
	o.conn.ca_file = kd_lua_opt_string(L, 1, "ca_file", NULL);
	o.conn.username = kd_lua_opt_string(L, 1, "username", NULL);
	o.conn.ssh_key = kd_lua_opt_string(L, 1, "ssh_key", NULL);
	o.conn.known_hosts = kd_lua_opt_string(L, 1, "known_hosts", NULL);
	o.conn.trust_new_host = kd_lua_opt_bool(L, 1, "trust_new_host", 0);
	o.conn.lock_timeout_s = (int)kd_lua_opt_integer(L, 1, "lock_timeout", 60);
	token_file = kd_lua_opt_string(L, 1, "token_file", NULL);
	password_file = kd_lua_opt_string(L, 1, "password_file", NULL);
	if (o.attempts < 1 || o.attempts > 100)
		return luaL_argerror(L, 1, "attempts must be 1 to 100");
	if (lua_getfield(L, 1, "files") != LUA_TTABLE)
		return luaL_argerror(L, 1, "files must be a table of path = bytes");
	/* the strings stay alive in the files table, on the stack */
	files = lua_newuserdatauv(L, sizeof *files * max, 0);
	lua_pushnil(L);
	while (lua_next(L, -3)) {
		if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
			return luaL_argerror(L, 1, "files must map path strings to byte strings");
		if (n == max)
			return luaL_argerror(L, 1, "at most 64 files per push");
		files[n].path = lua_tostring(L, -2);
		files[n].data = lua_tolstring(L, -1, &files[n].len);
		n++;
		lua_pop(L, 1);
	}
	/* a stable order, so the same files give the same tree */
	qsort(files, n, sizeof *files, cmp_files);
	o.files = files;
	o.nfiles = n;
	if ((rc = kd_git_read_secret(token_file, NULL, &token, &err)) ||
	    (rc = kd_git_read_secret(password_file, NULL, &password, &err)))
		goto cleanup;
	o.conn.token = token.len ? token.ptr : NULL;
	o.conn.password = password.len ? password.ptr : NULL;
	rc = kd_git_push(&o, &r, &err);
cleanup:
	memset(token.ptr, 0, token.len);
	memset(password.ptr, 0, password.len);
	kd_buf_free(&token);
	kd_buf_free(&password);
	if (rc)
		return kd_lua_fail(L, &err);
	lua_createtable(L, 0, 3);
	lua_pushstring(L, r.commit);
	lua_setfield(L, -2, "commit");
	lua_pushinteger(L, r.attempts);
	lua_setfield(L, -2, "attempts");
	lua_pushboolean(L, r.unchanged);
	lua_setfield(L, -2, "unchanged");
	return 1;
}

/* --- SSH signatures over any data, and export ------------------------------ */

static int git_sshsig_sign(lua_State *L)
{
	const char *file = luaL_checkstring(L, 1);
	const char *ns = luaL_checkstring(L, 2);
	size_t len;
	const char *data = luaL_checklstring(L, 3, &len);
	kd_buf key = KD_BUF_INIT(64 * 1024), out = KD_BUF_INIT(64 * 1024);
	kd_err err = KD_ERR_INIT;
	int rc;

	rc = kd_fs_read_file(file, key.limit, &key, &err);
	if (rc)
		kd_err_prefix(&err, "--sign-key");
	else
		rc = kd_git_sshsig_sign(key.ptr, key.len, file, ns, data, len, &out, &err);
	memset(key.ptr, 0, key.len);
	kd_buf_free(&key);
	if (rc) {
		kd_buf_free(&out);
		return kd_lua_fail(L, &err);
	}
	lua_pushlstring(L, out.ptr, out.len);
	kd_buf_free(&out);
	return 1;
}

static void push_sig(lua_State *L, const kd_git_sig_result *r)
{
	lua_createtable(L, 0, 4);
	if (r->principal[0]) {
		lua_pushstring(L, r->principal);
		lua_setfield(L, -2, "principal");
	}
	lua_pushstring(L, r->fingerprint);
	lua_setfield(L, -2, "fingerprint");
	lua_pushstring(L, r->key_type);
	lua_setfield(L, -2, "key_type");
	lua_pushstring(L, r->ns);
	lua_setfield(L, -2, "namespace");
}

static int git_sshsig_verify(lua_State *L)
{
	size_t alen, slen, dlen;
	const char *armored = luaL_checklstring(L, 1, &alen);
	const char *signers = luaL_checklstring(L, 2, &slen);
	const char *principal = luaL_optstring(L, 3, NULL);
	const char *ns = luaL_checkstring(L, 4);
	const char *data = luaL_checklstring(L, 5, &dlen);
	const char *name = luaL_optstring(L, 6, "the allowed signers");
	kd_git_sig_result *r = lua_newuserdatauv(L, sizeof *r, 0);
	kd_err err = KD_ERR_INIT;

	if (kd_git_sshsig_verify_ns(armored, alen, data, dlen, ns, signers, slen, name,
				    principal, (int64_t)time(NULL), r, &err))
		return kd_lua_fail(L, &err);
	push_sig(L, r);
	return 1;
}

static int git_sshsig_inspect(lua_State *L)
{
	size_t alen;
	const char *armored = luaL_checklstring(L, 1, &alen);
	kd_git_sig_result *r = lua_newuserdatauv(L, sizeof *r, 0);
	kd_buf pub = KD_BUF_INIT(64 * 1024);
	kd_err err = KD_ERR_INIT;

	if (kd_git_sshsig_inspect(armored, alen, r, &pub, &err)) {
		kd_buf_free(&pub);
		return kd_lua_fail(L, &err);
	}
	push_sig(L, r);
	lua_pushlstring(L, pub.ptr, pub.len);
	lua_setfield(L, -2, "public_key");
	kd_buf_free(&pub);
	return 1;
}

static int git_export(lua_State *L)
{
	kd_git_export_opts o;
	kd_err err = KD_ERR_INIT;
	char commit[41];

	luaL_checktype(L, 1, LUA_TTABLE);
	o.src = kd_lua_opt_string(L, 1, "src", NULL);
	o.rev = kd_lua_opt_string(L, 1, "rev", NULL);
	o.dest_ref = kd_lua_opt_string(L, 1, "ref", NULL);
	o.out_dir = kd_lua_opt_string(L, 1, "out", NULL);
	if (!o.src || !o.rev || !o.dest_ref || !o.out_dir)
		return luaL_argerror(L, 1, "src, rev, ref and out are required");
	if (kd_git_export(&o, commit, &err))
		return kd_lua_fail(L, &err);
	lua_pushstring(L, commit);
	return 1;
}

/* --- git.store: branches without a checkout ---------------------------- */

typedef struct lstore {
	kd_git_store *s;
} lstore;

static kd_git_store *check_store(lua_State *L)
{
	lstore *ls = luaL_checkudata(L, 1, STORE_MT);

	if (!ls->s)
		luaL_error(L, "the store is closed");
	return ls->s;
}

static int store_close(lua_State *L)
{
	lstore *ls = luaL_checkudata(L, 1, STORE_MT);

	kd_git_store_free(ls->s);
	ls->s = NULL;
	return 0;
}

static int store_branches(lua_State *L)
{
	kd_git_store *s = check_store(L);
	const char *prefix = luaL_optstring(L, 2, "");
	kd_git_branch *list = NULL;
	kd_err err = KD_ERR_INIT;
	size_t n, broken = 0;

	if (kd_git_store_branches(s, prefix, &list, &n, &broken, &err))
		return kd_lua_fail(L, &err);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 3);
		lua_pushstring(L, list[i].name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, list[i].commit);
		lua_setfield(L, -2, "commit");
		lua_pushinteger(L, list[i].time);
		lua_setfield(L, -2, "time");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	free(list);
	kd_lua_set_list(L, -1);
	lua_pushinteger(L, (lua_Integer)broken);
	return 2;
}

static int store_list(lua_State *L)
{
	kd_git_store *s = check_store(L);
	const char *rev = luaL_checkstring(L, 2);
	const char *dir = luaL_optstring(L, 3, "");
	kd_git_entry *list = NULL;
	kd_err err = KD_ERR_INIT;
	size_t n;

	if (kd_git_store_list(s, rev, dir, &list, &n, &err))
		return kd_lua_fail(L, &err);
	return push_entries(L, list, n);
}

static int store_read(lua_State *L)
{
	kd_git_store *s = check_store(L);
	const char *rev = luaL_checkstring(L, 2);
	const char *path = luaL_checkstring(L, 3);
	lua_Integer max = luaL_optinteger(L, 4, KD_LIMIT_GIT_READ_BYTES);
	kd_buf out = KD_BUF_INIT(KD_LIMIT_GIT_READ_BYTES);
	kd_err err = KD_ERR_INIT;
	int rc;

	luaL_argcheck(L, max >= 0, 4, "a byte count");
	rc = kd_git_store_read(s, rev, path, (size_t)max, &out, &err);
	return kd_lua_return_buf(L, rc, &out, &err);
}

static int store_ahead_behind(lua_State *L)
{
	kd_git_store *s = check_store(L);
	size_t ahead, behind;
	kd_err err = KD_ERR_INIT;

	if (kd_git_store_ahead_behind(s, luaL_checkstring(L, 2), luaL_checkstring(L, 3), &ahead,
				      &behind, &err))
		return kd_lua_fail(L, &err);
	lua_pushinteger(L, (lua_Integer)ahead);
	lua_pushinteger(L, (lua_Integer)behind);
	return 2;
}

static int store_resolve(lua_State *L)
{
	kd_git_store *s = check_store(L);
	kd_git_branch b;
	kd_err err = KD_ERR_INIT;

	if (kd_git_store_resolve(s, luaL_checkstring(L, 2), &b, &err))
		return kd_lua_fail(L, &err);
	lua_createtable(L, 0, 2);
	lua_pushstring(L, b.commit);
	lua_setfield(L, -2, "commit");
	lua_pushinteger(L, b.time);
	lua_setfield(L, -2, "time");
	return 1;
}

static int git_store(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	kd_err err = KD_ERR_INIT;
	lstore *ls = lua_newuserdatauv(L, sizeof *ls, 0);

	ls->s = NULL;
	luaL_setmetatable(L, STORE_MT);
	if (kd_git_store_open(&ls->s, path, &err))
		return kd_lua_fail(L, &err);
	return 1;
}

static void store_metatable(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"branches", store_branches},
		{"list", store_list},
		{"read", store_read},
		{"resolve", store_resolve},
		{"ahead_behind", store_ahead_behind},
		{"close", store_close},
		{NULL, NULL},
	};

	if (luaL_newmetatable(L, STORE_MT)) {
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, store_close);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, store_close);
		lua_setfield(L, -2, "__close");
	}
	lua_pop(L, 1);
}

int kd_lua_open_git(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"push", git_push},
		{"sync", git_sync},
		{"remote_head", git_remote_head},
		{"open", git_open},
		{"open_dir", git_open_dir},
		{"store", git_store},
		{"sshsig_sign", git_sshsig_sign},
		{"sshsig_verify", git_sshsig_verify},
		{"sshsig_inspect", git_sshsig_inspect},
		{"export", git_export},
		{NULL, NULL},
	};
	static const luaL_Reg methods[] = {
		{"read", rev_read},
		{"list", rev_list},
		{"commit", rev_commit},
		{"id", rev_id},
		{"path", rev_path},
		{"close", rev_close},
		{NULL, NULL},
	};

	if (luaL_newmetatable(L, REV_MT)) {
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, rev_close);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, rev_close);
		lua_setfield(L, -2, "__close");
	}
	lua_pop(L, 1);
	store_metatable(L);
	luaL_newlib(L, funcs);
	lua_pushliteral(L, KD_GIT_DEFAULT_STATE);
	lua_setfield(L, -2, "DEFAULT_STATE");
	return 1;
}
