/* kedge.proc: the node-side primitives of smoke tests.
 *
 * proc.run{argv = {"prog", "arg", ...}, timeout = seconds,
 *          max_output = bytes}
 *   → {exited=, status=, signal=, timed_out=, truncated=, total=,
 *      output=, duration=}
 *   or nil, message when the command cannot be started (not found, not
 *   executable). No shell: argv[1] is looked up in PATH. stdout and stderr
 *   are one stream; output is its last max_output bytes (default
 *   KD_LIMIT_PROC_OUTPUT_BYTES). Past the timeout the command's process
 *   group is killed: timed_out is true, signal 9.
 * proc.tcp_connect(host, port, timeout) → true, or nil, message (refused,
 *   timed out, unknown host).
 *
 * Wrong argument types raise. Whether exec is allowed at all is policy:
 * kedge.smoke refuses exec tests unless the site allows them. */
#include "lua/klua.h"

#include "net/net.h"
#include "proc/proc.h"

#include <lauxlib.h>
#include <stdlib.h>

#define MAX_ARGS 4096

static int timeout_ms_of(lua_State *L, int idx, const char *what)
{
	double d;

	if (lua_type(L, idx) != LUA_TNUMBER)
		luaL_error(L, "%s must be a number of seconds, not a %s", what,
			   luaL_typename(L, idx));
	d = lua_tonumber(L, idx);
	if (!(d > 0 && d <= 86400))
		luaL_error(L, "%s must be more than 0 and at most 86400 seconds", what);
	return (int)(d * 1000 + 0.5) > 0 ? (int)(d * 1000 + 0.5) : 1;
}

static void put_bool(lua_State *L, const char *k, int v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

static void put_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static int proc_run(lua_State *L)
{
	kd_proc_opts opts = {0, 0};
	kd_proc_result res;
	kd_err err = KD_ERR_INIT;
	const char **argv;
	lua_Integer n, i, max;
	int rc;

	luaL_checktype(L, 1, LUA_TTABLE);
	if (lua_getfield(L, 1, "argv") != LUA_TTABLE)
		return luaL_error(L, "proc.run: argv must be a list of strings");
	n = luaL_len(L, -1);
	if (n < 1 || n > MAX_ARGS)
		return luaL_error(L, "proc.run: argv must hold 1 to %d strings", MAX_ARGS);
	lua_getfield(L, 1, "timeout");
	if (lua_isnil(L, -1))
		return luaL_error(L, "proc.run: timeout (seconds) is required");
	opts.timeout_ms = timeout_ms_of(L, -1, "proc.run: timeout");
	lua_pop(L, 1);
	max = kd_lua_opt_integer(L, 1, "max_output", KD_LIMIT_PROC_OUTPUT_BYTES);
	if (max < 1 || max > KD_LIMIT_PROC_OUTPUT_BYTES)
		return luaL_error(L, "proc.run: max_output must be 1 to %d bytes",
				  (int)KD_LIMIT_PROC_OUTPUT_BYTES);
	opts.max_output = (size_t)max;
	/* the strings stay referenced by the argv table on the stack */
	argv = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *argv, 0);
	for (i = 1; i <= n; i++) {
		if (lua_rawgeti(L, -2, i) != LUA_TSTRING)
			return luaL_error(L, "proc.run: argv[%d] must be a string, not a %s",
					  (int)i, luaL_typename(L, -1));
		argv[i - 1] = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	argv[n] = NULL;
	rc = kd_proc_run(argv, &opts, &res, &err);
	if (rc) {
		kd_proc_result_free(&res);
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	lua_createtable(L, 0, 8);
	put_bool(L, "exited", res.exited);
	put_int(L, "status", res.status);
	put_int(L, "signal", res.signal);
	put_bool(L, "timed_out", res.timed_out);
	put_bool(L, "truncated", res.truncated);
	put_int(L, "total", (lua_Integer)res.total);
	lua_pushnumber(L, (lua_Number)res.duration_ms / 1000.0);
	lua_setfield(L, -2, "duration");
	lua_pushlstring(L, res.output.ptr, res.output.len);
	kd_proc_result_free(&res);
	lua_setfield(L, -2, "output");
	return 1;
}

static int proc_tcp_connect(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	lua_Integer port = luaL_checkinteger(L, 2);
	int ms = timeout_ms_of(L, 3, "proc.tcp_connect: timeout");
	kd_err err = KD_ERR_INIT;

	if (port < 1 || port > 65535)
		return luaL_error(L, "proc.tcp_connect: port must be 1 to 65535, not %d", (int)port);
	if (kd_net_tcp_probe(host, (unsigned)port, ms, &err)) {
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

int kd_lua_open_proc(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"run", proc_run},
		{"tcp_connect", proc_tcp_connect},
		{NULL, NULL},
	};

	luaL_newlib(L, funcs);
	return 1;
}
