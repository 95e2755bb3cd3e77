/* kedge.kubecore: the file and clock helpers of kedge.kube
 * (lua/kedge/kube.lua); the kubeconfig is kedge.kubeconfig's
 * (mod_kubeconfig.c).
 *
 * write_atomic(path, data) → true or nil, err (temp file, fsync, rename;
 *   creates the file's folder when missing).
 * read_dir(path) → sorted list of the names in a folder (no dot files), or
 *   nil, err, why: "notdir" when path is not a folder, "missing" when it
 *   does not exist, else "error".
 * now() → monotonic seconds (a float); sleep(seconds) (at most 60). */
#include "lua/klua.h"

#include "kube/kube.h"
#include "net/net.h"

#include <lauxlib.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

static int write_atomic(lua_State *L)
{
	size_t len;
	const char *path = luaL_checkstring(L, 1);
	const char *data = luaL_checklstring(L, 2, &len);
	kd_err err = KD_ERR_INIT;

	if (kd_kube_write_atomic(path, data, len, &err)) {
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entries are collected in a Lua table first (so an error cannot leak
 * them), then sorted through a C array of pointers into that table. */
static int read_dir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char **names;
	struct dirent *e;
	DIR *d = opendir(path);
	lua_Integer n = 0, i;

	if (!d) {
		int eno = errno;

		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(eno));
		lua_pushstring(L, eno == ENOTDIR ? "notdir" :
				  eno == ENOENT ? "missing" : "error");
		return 3;
	}
	lua_newtable(L);
	while ((e = readdir(d)) && n < 100000) {
		if (e->d_name[0] == '.')
			continue;
		lua_pushstring(L, e->d_name);
		lua_rawseti(L, -2, ++n);
	}
	closedir(d);
	names = lua_newuserdatauv(L, sizeof *names * (size_t)(n ? n : 1), 0);
	for (i = 0; i < n; i++) {
		lua_rawgeti(L, -2, i + 1);
		names[i] = lua_tostring(L, -1);
		lua_pop(L, 1); /* still referenced by the table */
	}
	qsort(names, (size_t)n, sizeof *names, cmp_names);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_pushstring(L, names[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static int now(lua_State *L)
{
	lua_pushnumber(L, (lua_Number)kd_net_now_ms() / 1000.0);
	return 1;
}

static int sleep_s(lua_State *L)
{
	lua_Number s = luaL_checknumber(L, 1);
	struct timespec ts;

	luaL_argcheck(L, s >= 0 && s <= 60, 1, "seconds must be within 0..60");
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return 0;
}

int kd_lua_open_kube(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"now", now},
		{"read_dir", read_dir},
		{"sleep", sleep_s},
		{"write_atomic", write_atomic},
		{NULL, NULL},
	};

	luaL_newlib(L, funcs);
	return 1;
}
