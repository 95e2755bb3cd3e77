/* kedge.os, the resident agent's part: signals, children, one poll over
 * them, a TCP listener for metrics and systemd's notify socket (core/proc
 * and core/net underneath). Registered into the same kedge.os table as
 * mod_os.c's functions; none of it reaches a recipe, whose sandbox has no
 * require and only the pass's view (core/lua/sandbox.c).
 *
 *   signals{"TERM", "INT", ...} → sig: blocks them and opens a signalfd;
 *     sig:fd(), sig:read() → the names pending (drained, never waits; {}
 *     when none), sig:close(). They stay blocked once closed.
 *   poll(fds, timeout) → the fds readable, hung up or in error (at most
 *     KD_LIMIT_POLL_FDS fds); timeout in seconds, negative: no end, 0: a
 *     look. An interrupted wait returns {}.
 *   spawn(argv, {stdout = "pipe"|nil, env = {NAME = value}, setsid = bool})
 *     → child, or nil, err naming argv[1]. stdin /dev/null, stderr kedge's,
 *     env on top of kedge's environment, default signals and mask.
 *     child.pid; child:read([max]) → bytes now, "" when none yet, nil at
 *     end of file (the pipe is then closed); child:stdout_fd() → fd, or nil
 *     without a pipe; child:wait(block) → nil while it runs (block false),
 *     else {status = code or 128 + n, signal = 0 or n}, the same table ever
 *     after; child:kill(name) → true or nil, err: to its process group with
 *     setsid, a no-op once reaped. The garbage collector closes the pipe
 *     and leaves the child running.
 *   exe() → the absolute path of the running binary, or nil, err
 *   notify(text) → true sent, false without NOTIFY_SOCKET, or nil, err
 *   narrow{dirs = {...}, files = {...}} → {no_new_privs = true, landlock_abi
 *     = N, landlock = bool, rules = N, why = text when Landlock is not
 *     enforced} or nil, err: kd_proc_narrow, for the rest of the process
 *     and its children (at most NARROW_PATHS paths in all)
 *   listen(host, port) → lis or nil, err: a numeric address or
 *     "localhost", port 0 for any. lis:fd(), lis:port(), lis:accept() →
 *     conn, or nil when none waits (nil, err on failure), lis:close().
 *     conn:read_request([max[, timeout]]) → the request head through its
 *     blank line, or nil, err (past max bytes, default 8192, at most
 *     KD_LIMIT_LISTEN_REQUEST_BYTES; past timeout seconds, default 5;
 *     the peer closed); conn:write(data[, timeout]) → true or nil, err;
 *     conn:close(). Listeners and connections close on __gc and <close>.
 *
 * Names of signals are without "SIG"; an unknown one raises, as do wrong
 * argument types. */
#include "lua/klua.h"

#include "base/fs.h"
#include "base/limits.h"
#include "net/net.h"
#include "proc/proc.h"

#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#define SIG_MT "kedge.Signals"
#define CHILD_MT "kedge.Child"
#define LIS_MT "kedge.Listener"
#define CONN_MT "kedge.Conn"
#define MAX_ARGS 4096
#define STR_(x) #x
#define STR(x) STR_(x)

static int signo_of(lua_State *L, int idx)
{
	const char *name = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
	int signo = kd_proc_signal_number(name);

	if (!name)
		luaL_error(L, "a signal name must be a string, not %s", luaL_typename(L, idx));

	if (!signo)
		luaL_error(L, "unknown signal '%s' (give names such as TERM, HUP, USR1)", name);
	return signo;
}

/* Milliseconds of a timeout in seconds, rounded up so that a short wait
 * never becomes a busy 0; negative is -1 (no end). */
static int ms_of(lua_State *L, int idx)
{
	lua_Number s = luaL_checknumber(L, idx);

	luaL_argcheck(L, s == s, idx, "a number of seconds, not NaN");
	if (s < 0)
		return -1;
	return s * 1000 >= INT_MAX ? INT_MAX : (int)ceil(s * 1000);
}

/* An optional timeout within (0, KD_LIMIT_LISTEN_WAIT_S] seconds. */
static int wait_ms_of(lua_State *L, int idx, double def)
{
	lua_Number s = luaL_optnumber(L, idx, def);

	luaL_argcheck(L, s > 0 && s <= KD_LIMIT_LISTEN_WAIT_S, idx,
		      "seconds above 0, at most " STR(KD_LIMIT_LISTEN_WAIT_S));
	return (int)ceil(s * 1000);
}

/* ---- signals ---- */

static int *sig_check(lua_State *L)
{
	int *fd = luaL_checkudata(L, 1, SIG_MT);

	if (*fd < 0)
		luaL_error(L, "the signals are closed");
	return fd;
}

static int os_signals(lua_State *L)
{
	int signos[64], *fd;
	lua_Integer n, i;
	kd_err err = KD_ERR_INIT;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = luaL_len(L, 1);
	luaL_argcheck(L, n >= 1 && n <= 64, 1, "a list of 1 to 64 signal names");
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, 1, i);
		signos[i - 1] = signo_of(L, -1);
		lua_pop(L, 1);
	}
	fd = lua_newuserdatauv(L, sizeof *fd, 0);
	*fd = -1;
	luaL_setmetatable(L, SIG_MT);
	if (kd_proc_signals_open(fd, signos, (size_t)n, &err))
		return luaL_error(L, "kedge.os.signals: %s", err.msg);
	return 1;
}

static int sig_fd(lua_State *L)
{
	lua_pushinteger(L, *sig_check(L));
	return 1;
}

static int sig_read(lua_State *L)
{
	int got[KD_LIMIT_SIGNALS_READ];
	size_t n, i;
	kd_err err = KD_ERR_INIT;

	if (kd_proc_signals_read(*sig_check(L), got, KD_LIMIT_SIGNALS_READ, &n, &err))
		return luaL_error(L, "%s", err.msg);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		const char *name = kd_proc_signal_name(got[i]);

		if (name)
			lua_pushstring(L, name);
		else
			lua_pushfstring(L, "%d", got[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static int fd_close(lua_State *L, const char *mt)
{
	int *fd = luaL_checkudata(L, 1, mt);

	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return 0;
}

static int sig_close(lua_State *L)
{
	return fd_close(L, SIG_MT);
}

/* ---- poll ---- */

static int os_poll(lua_State *L)
{
	lua_Integer n, i;
	int ms, *fds;
	size_t *ready, nready, k;
	kd_err err = KD_ERR_INIT;

	luaL_checktype(L, 1, LUA_TTABLE);
	ms = ms_of(L, 2);
	n = luaL_len(L, 1);
	if (n < 0 || n > KD_LIMIT_POLL_FDS)
		return luaL_error(L, "kedge.os.poll: %d fds, at most %d (KD_LIMIT_POLL_FDS)",
				  (int)n, KD_LIMIT_POLL_FDS);
	/* userdata, so a raise below frees them */
	fds = lua_newuserdatauv(L, sizeof *fds * (size_t)(n ? n : 1), 0);
	ready = lua_newuserdatauv(L, sizeof *ready * (size_t)(n ? n : 1), 0);
	for (i = 1; i <= n; i++) {
		int isint;
		lua_Integer fd;

		lua_rawgeti(L, 1, i);
		fd = lua_tointegerx(L, -1, &isint);
		if (!isint || fd > INT_MAX || fd < INT_MIN)
			return luaL_error(L, "kedge.os.poll: fds[%d] must be an fd (an integer), not %s",
					  (int)i, luaL_typename(L, -1));
		fds[i - 1] = (int)fd;
		lua_pop(L, 1);
	}
	if (kd_proc_poll(fds, (size_t)n, ms, ready, &nready, &err))
		return luaL_error(L, "kedge.os.poll: %s", err.msg);
	lua_createtable(L, (int)nready, 0);
	for (k = 0; k < nready; k++) {
		lua_pushinteger(L, fds[ready[k]]);
		lua_rawseti(L, -2, (lua_Integer)k + 1);
	}
	return 1;
}

/* ---- children ---- */

static kd_proc_child *child_check(lua_State *L)
{
	return luaL_checkudata(L, 1, CHILD_MT);
}

/* opts.env as "NAME=value" strings, kept alive in a table left on the
 * stack; the pointers go to a NULL-ended userdata array (also left). */
static const char *const *env_of(lua_State *L, int opts)
{
	const char **env;
	lua_Integer n = 0, i = 0;

	if (lua_isnoneornil(L, opts) || lua_getfield(L, opts, "env") == LUA_TNIL) {
		lua_pushnil(L);
		lua_pushnil(L);
		return NULL;
	}
	luaL_argcheck(L, lua_istable(L, -1), opts, "env must be a table of NAME = value");
	lua_newtable(L); /* the strings */
	lua_pushnil(L);
	while (lua_next(L, -3)) {
		const char *name;

		/* lua_tostring on a number key would break lua_next */
		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_error(L, "kedge.os.spawn: env names must be strings");
		name = lua_tostring(L, -2);
		if (!name[0] || strchr(name, '='))
			luaL_error(L, "kedge.os.spawn: env name '%s' is empty or holds '='", name);
		if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
			luaL_error(L, "kedge.os.spawn: env.%s must be a string, not %s", name,
				   luaL_typename(L, -1));
		lua_pushfstring(L, "%s=%s", name, lua_tostring(L, -1));
		lua_rawseti(L, -4, ++n);
		lua_pop(L, 1);
	}
	env = lua_newuserdatauv(L, sizeof *env * (size_t)(n + 1), 0);
	for (i = 0; i < n; i++) {
		lua_rawgeti(L, -2, i + 1);
		env[i] = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	env[n] = NULL;
	return env;
}

static int os_spawn(lua_State *L)
{
	kd_proc_spawn_opts o = {0, 0, NULL};
	kd_proc_child *c;
	const char **argv;
	const char *out;
	lua_Integer n, i;
	kd_err err = KD_ERR_INIT;

	luaL_checktype(L, 1, LUA_TTABLE);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	n = luaL_len(L, 1);
	luaL_argcheck(L, n >= 1 && n <= MAX_ARGS, 1, "a list of 1 to " STR(MAX_ARGS) " strings");
	out = kd_lua_opt_string(L, 2, "stdout", NULL);
	if (out && strcmp(out, "pipe"))
		return luaL_error(L, "kedge.os.spawn: stdout must be \"pipe\" or nil, not \"%s\"", out);
	o.pipe_stdout = out != NULL;
	o.setsid = kd_lua_opt_bool(L, 2, "setsid", 0);
	o.env = env_of(L, 2);
	/* the strings stay referenced by the argv table */
	argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *argv, 0);
	for (i = 1; i <= n; i++) {
		if (lua_rawgeti(L, 1, i) != LUA_TSTRING)
			return luaL_error(L, "kedge.os.spawn: argv[%d] must be a string, not %s",
					  (int)i, luaL_typename(L, -1));
		argv[i - 1] = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	argv[n] = NULL;
	/* made ended first, so that an error below leaves nothing to reap */
	c = lua_newuserdatauv(L, sizeof *c, 1);
	memset(c, 0, sizeof *c);
	c->pid = -1;
	c->out_fd = -1;
	luaL_setmetatable(L, CHILD_MT);
	if (kd_proc_spawn(c, argv, &o, &err))
		return kd_lua_fail(L, &err);
	return 1;
}

/* child.pid, and the methods */
static int child_index(lua_State *L)
{
	kd_proc_child *c = child_check(L);
	const char *k = lua_tostring(L, 2);

	if (k && !strcmp(k, "pid")) {
		lua_pushinteger(L, c->pid);
		return 1;
	}
	lua_pushvalue(L, 2);
	lua_rawget(L, lua_upvalueindex(1));
	return 1;
}

static int child_read(lua_State *L)
{
	kd_proc_child *c = child_check(L);
	lua_Integer max = luaL_optinteger(L, 2, 65536);
	luaL_Buffer b;
	size_t got;
	int eof;
	char *p;
	kd_err err = KD_ERR_INIT;

	luaL_argcheck(L, max >= 1 && max <= KD_LIMIT_CHILD_READ_BYTES, 2,
		      "1 to KD_LIMIT_CHILD_READ_BYTES bytes");
	p = luaL_buffinitsize(L, &b, (size_t)max);
	if (kd_proc_child_read(c, p, (size_t)max, &got, &eof, &err))
		return kd_lua_fail(L, &err);
	if (eof) {
		lua_pushnil(L);
		return 1;
	}
	luaL_pushresultsize(&b, got);
	return 1;
}

static int child_stdout_fd(lua_State *L)
{
	kd_proc_child *c = child_check(L);

	if (c->out_fd < 0)
		lua_pushnil(L);
	else
		lua_pushinteger(L, c->out_fd);
	return 1;
}

static int child_wait(lua_State *L)
{
	kd_proc_child *c = child_check(L);
	int done;
	kd_err err = KD_ERR_INIT;

	if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE)
		return 1;
	if (kd_proc_child_wait(c, lua_toboolean(L, 2), &done, &err))
		return luaL_error(L, "%s", err.msg); /* only when another reaped it: a bug */
	if (!done) {
		lua_pushnil(L);
		return 1;
	}
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, c->status);
	lua_setfield(L, -2, "status");
	lua_pushinteger(L, c->signal);
	lua_setfield(L, -2, "signal");
	lua_pushvalue(L, -1);
	lua_setiuservalue(L, 1, 1);
	return 1;
}

static int child_kill(lua_State *L)
{
	kd_proc_child *c = child_check(L);
	kd_err err = KD_ERR_INIT;

	if (kd_proc_child_kill(c, signo_of(L, 2), &err))
		return kd_lua_fail(L, &err);
	lua_pushboolean(L, 1);
	return 1;
}

static int child_gc(lua_State *L)
{
	kd_proc_child_close(child_check(L));
	return 0;
}

/* ---- narrow ---- */

#define NARROW_PATHS 64

/* The strings of the list at t[key] into out (room for max), their count
 * returned. The list stays reachable from the argument table for the whole
 * call, and Lua never moves a string, so the pointers hold until it ends. */
static size_t path_list(lua_State *L, int t, const char *key, const char **out, size_t max)
{
	size_t n = 0;
	lua_Integer i, len;

	if (lua_getfield(L, t, key) == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	luaL_argcheck(L, lua_istable(L, -1), 1, "dirs and files are lists of paths");
	len = luaL_len(L, -1);
	luaL_argcheck(L, len >= 0 && (size_t)len <= max, 1, "too many paths (at most " STR(NARROW_PATHS) ")");
	for (i = 1; i <= len; i++) {
		lua_rawgeti(L, -1, i);
		luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, 1, "a path must be a string");
		out[n++] = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return n;
}

static int os_narrow(lua_State *L)
{
	const char *paths[NARROW_PATHS];
	size_t nd, nf;
	kd_proc_narrowed out;
	kd_err err = KD_ERR_INIT;

	luaL_checktype(L, 1, LUA_TTABLE);
	nd = path_list(L, 1, "dirs", paths, NARROW_PATHS);
	nf = path_list(L, 1, "files", paths + nd, NARROW_PATHS - nd);
	if (kd_proc_narrow(paths, nd, paths + nd, nf, &out, &err))
		return kd_lua_fail(L, &err);
	lua_createtable(L, 0, 5);
	lua_pushboolean(L, out.no_new_privs);
	lua_setfield(L, -2, "no_new_privs");
	lua_pushinteger(L, out.landlock_abi);
	lua_setfield(L, -2, "landlock_abi");
	lua_pushboolean(L, out.landlock);
	lua_setfield(L, -2, "landlock");
	lua_pushinteger(L, out.rules);
	lua_setfield(L, -2, "rules");
	if (out.why[0]) {
		lua_pushstring(L, out.why);
		lua_setfield(L, -2, "why");
	}
	return 1;
}

/* ---- exe, notify ---- */

static int os_exe(lua_State *L)
{
	char path[KD_FS_PATH_MAX + 2];
	kd_err err = KD_ERR_INIT;

	if (kd_proc_exe(path, sizeof path, &err))
		return kd_lua_fail(L, &err);
	lua_pushstring(L, path);
	return 1;
}

static int os_notify(lua_State *L)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	int sent;
	kd_err err = KD_ERR_INIT;

	if (kd_proc_notify(text, len, &sent, &err))
		return kd_lua_fail(L, &err);
	lua_pushboolean(L, sent);
	return 1;
}

/* ---- the listener and its connections ---- */

typedef struct listener {
	int fd;
	unsigned port;
} listener;

static listener *lis_check(lua_State *L)
{
	listener *l = luaL_checkudata(L, 1, LIS_MT);

	if (l->fd < 0)
		luaL_error(L, "the listener is closed");
	return l;
}

static int *conn_check(lua_State *L)
{
	int *fd = luaL_checkudata(L, 1, CONN_MT);

	if (*fd < 0)
		luaL_error(L, "the connection is closed");
	return fd;
}

static int os_listen(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	lua_Integer port = luaL_checkinteger(L, 2);
	listener *l;
	kd_err err = KD_ERR_INIT;

	luaL_argcheck(L, port >= 0 && port <= 65535, 2, "a port from 0 (any) to 65535");
	l = lua_newuserdatauv(L, sizeof *l, 0);
	l->fd = -1;
	l->port = 0;
	luaL_setmetatable(L, LIS_MT);
	if (kd_net_listen(&l->fd, host, (unsigned)port, &err) ||
	    kd_net_listen_port(l->fd, &l->port, &err))
		return kd_lua_fail(L, &err);
	return 1;
}

static int lis_fd(lua_State *L)
{
	lua_pushinteger(L, lis_check(L)->fd);
	return 1;
}

static int lis_port(lua_State *L)
{
	lua_pushinteger(L, lis_check(L)->port);
	return 1;
}

static int lis_accept(lua_State *L)
{
	listener *l = lis_check(L);
	int *fd = lua_newuserdatauv(L, sizeof *fd, 0);
	kd_err err = KD_ERR_INIT;

	*fd = -1;
	luaL_setmetatable(L, CONN_MT);
	if (kd_net_accept(l->fd, fd, &err))
		return kd_lua_fail(L, &err);
	if (*fd < 0)
		lua_pushnil(L);
	return 1;
}

static int lis_close(lua_State *L)
{
	listener *l = luaL_checkudata(L, 1, LIS_MT);

	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	return 0;
}

static int conn_read_request(lua_State *L)
{
	int fd = *conn_check(L);
	lua_Integer max = luaL_optinteger(L, 2, 8192);
	int ms = wait_ms_of(L, 3, 5);
	luaL_Buffer b;
	size_t len;
	char *p;
	kd_err err = KD_ERR_INIT;

	luaL_argcheck(L, max >= 4 && max <= KD_LIMIT_LISTEN_REQUEST_BYTES, 2,
		      "4 to KD_LIMIT_LISTEN_REQUEST_BYTES bytes");
	p = luaL_buffinitsize(L, &b, (size_t)max);
	if (kd_net_read_head(fd, p, (size_t)max, ms, &len, &err))
		return kd_lua_fail(L, &err);
	luaL_pushresultsize(&b, len);
	return 1;
}

static int conn_write(lua_State *L)
{
	int fd = *conn_check(L);
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);
	kd_err err = KD_ERR_INIT;

	if (kd_net_write_all(fd, data, len, wait_ms_of(L, 3, 5), &err))
		return kd_lua_fail(L, &err);
	lua_pushboolean(L, 1);
	return 1;
}

static int conn_close(lua_State *L)
{
	return fd_close(L, CONN_MT);
}

/* ---- registration ---- */

/* A metatable whose __index is methods (or, with index, index with the
 * methods as its upvalue), closed by close on __gc and __close. */
static void new_type(lua_State *L, const char *mt, const luaL_Reg *methods,
		     lua_CFunction index, lua_CFunction close_fn)
{
	if (!luaL_newmetatable(L, mt)) {
		lua_pop(L, 1);
		return;
	}
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	if (index)
		lua_pushcclosure(L, index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, close_fn);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, close_fn);
	lua_setfield(L, -2, "__close");
	lua_pop(L, 1);
}

void kd_lua_os_events(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"signals", os_signals}, {"poll", os_poll},     {"spawn", os_spawn},
		{"exe", os_exe},         {"notify", os_notify}, {"listen", os_listen},
		{"narrow", os_narrow},
		{NULL, NULL},
	};
	static const luaL_Reg sig_m[] = {
		{"fd", sig_fd}, {"read", sig_read}, {"close", sig_close}, {NULL, NULL},
	};
	static const luaL_Reg child_m[] = {
		{"read", child_read}, {"stdout_fd", child_stdout_fd}, {"wait", child_wait},
		{"kill", child_kill}, {NULL, NULL},
	};
	static const luaL_Reg lis_m[] = {
		{"fd", lis_fd},         {"port", lis_port}, {"accept", lis_accept},
		{"close", lis_close},   {NULL, NULL},
	};
	static const luaL_Reg conn_m[] = {
		{"read_request", conn_read_request}, {"write", conn_write},
		{"close", conn_close}, {NULL, NULL},
	};

	new_type(L, SIG_MT, sig_m, NULL, sig_close);
	new_type(L, CHILD_MT, child_m, child_index, child_gc);
	new_type(L, LIS_MT, lis_m, NULL, lis_close);
	new_type(L, CONN_MT, conn_m, NULL, conn_close);
	luaL_setfuncs(L, funcs, 0);
}
