#include "lua/klua.h"

#include "base/buf.h"
#include "base/limits.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kd_lua {
	lua_State *L;
	kd_lua_heap heap; /* the allocator's count and cap (heap.c) */
};

/* Adds a traceback; copes with error objects that are not strings. */
static int msghandler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") &&
		    lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)",
				      luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

static int load_embedded(lua_State *L)
{
	const kd_lua_embedded *f = lua_touserdata(L, lua_upvalueindex(1));
	char chunkname[512];

	snprintf(chunkname, sizeof(chunkname), "@%s", f->path);
	/* Only the library compiled into the binary may be bytecode. */
	if (luaL_loadbufferx(L, f->data, f->len, chunkname,
			     f->binary ? "b" : "t") != LUA_OK)
		return lua_error(L);
	lua_pushstring(L, f->module);
	lua_pushstring(L, f->path);
	lua_call(L, 2, 1);
	return 1;
}

/* Leaves require with the preload searcher only, and empty search paths. */
static void restrict_package(lua_State *L)
{
	int i;

	lua_getglobal(L, "package");
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "path");
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "cpath");
	lua_pushnil(L);
	lua_setfield(L, -2, "loadlib");
	lua_getfield(L, -1, "searchers");
	for (i = (int)luaL_len(L, -1); i > 1; i--) {
		lua_pushnil(L);
		lua_rawseti(L, -2, i);
	}
	lua_pop(L, 1);
}

static void register_preload(lua_State *L)
{
	static const luaL_Reg cmods[] = {
		{"kedge.core", kd_lua_open_core},
		{"kedge.yaml", kd_lua_open_yaml},
		{"kedge.json", kd_lua_open_json},
		{"kedge.limits", kd_lua_open_limits},
		{"kedge.sandbox", kd_lua_open_sandbox},
		{"kedge.tmpl", kd_lua_open_tmpl},
		{"kedge.http", kd_lua_open_http},
		{"kedge.semver", kd_lua_open_semver},
		{"kedge.age", kd_lua_open_age},
		{"kedge.git", kd_lua_open_git},
		{"kedge.kubeconfig", kd_lua_open_kubeconfig},
		{"kedge.chart", kd_lua_open_chart},
		{"kedge.os", kd_lua_open_os},
		{"kedge.proc", kd_lua_open_proc},
		{"kedge.regex", kd_lua_open_regex},
		{"kedge.digest", kd_lua_open_digest},
		{NULL, NULL},
	};
	const kd_lua_embedded *f;
	const luaL_Reg *r;

	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	for (r = cmods; r->name; r++) {
		lua_pushcfunction(L, r->func);
		lua_setfield(L, -2, r->name);
	}
	for (f = kd_lua_embedded_files; f->path; f++) {
		lua_pushlightuserdata(L, (void *)f);
		lua_pushcclosure(L, load_embedded, 1);
		lua_setfield(L, -2, f->module);
	}
	lua_pop(L, 1);
}

static int setup(lua_State *L)
{
	luaL_openlibs(L);
	restrict_package(L);
	register_preload(L);
	return 0;
}

int kd_lua_new(kd_lua **out, size_t heap_limit, kd_err *err)
{
	kd_lua *kl = calloc(1, sizeof(*kl));
	int rc = 0;

	*out = NULL;
	if (!kl)
		return kd_err_set(err, KD_ENOMEM, "lua: out of memory");
	kl->heap.limit = heap_limit;
	kl->L = lua_newstate(kd_lua_heap_alloc, &kl->heap);
	if (!kl->L) {
		rc = kd_err_set(err, KD_ENOMEM, "lua: cannot create a state");
		goto cleanup;
	}
	lua_pushcfunction(kl->L, setup);
	if (lua_pcall(kl->L, 0, 0, 0) != LUA_OK) {
		rc = kd_err_set(err, KD_EINTERNAL, "lua: setup failed: %s",
				lua_tostring(kl->L, -1));
		goto cleanup;
	}
	*out = kl;
	kl = NULL;
cleanup:
	kd_lua_free(kl);
	return rc;
}

lua_State *kd_lua_state(kd_lua *kl)
{
	return kl->L;
}

void kd_lua_free(kd_lua *kl)
{
	if (!kl)
		return;
	if (kl->L)
		lua_close(kl->L);
	free(kl);
}

static void set_arg(lua_State *L, int argc, char **argv, const char *script)
{
	int i;

	lua_createtable(L, argc, 1);
	lua_pushstring(L, script);
	lua_rawseti(L, -2, 0);
	for (i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setglobal(L, "arg");
}

int kd_lua_run_main(kd_lua *kl, const char *module, const char *func,
		    int argc, char **argv, int *status, kd_err *err)
{
	lua_State *L = kl->L;
	int base, i, rc = 0;

	if (!lua_checkstack(L, 5))
		return kd_err_set(err, KD_ELIMIT, "lua: too many arguments");
	set_arg(L, argc, argv, module);
	base = lua_gettop(L);
	lua_pushcfunction(L, msghandler);
	lua_getglobal(L, "require");
	lua_pushstring(L, module);
	if (lua_pcall(L, 1, 1, base + 1) != LUA_OK) {
		rc = kd_err_set(err, KD_EINTERNAL, "%s", lua_tostring(L, -1));
		goto cleanup;
	}
	lua_getfield(L, -1, func);
	lua_remove(L, -2);
	lua_createtable(L, argc, 0);
	for (i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	if (lua_pcall(L, 1, 1, base + 1) != LUA_OK) {
		rc = kd_err_set(err, KD_EINVAL, "%s", lua_tostring(L, -1));
		goto cleanup;
	}
	*status = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 1;
cleanup:
	lua_settop(L, base);
	return rc;
}
