/* kedge.core: what the embedded Lua library builds on: versions, the null
 * sentinel, the list marker and the log primitives. */
#include "lua/klua.h"

#include "log/log.h"
#include "version/version.h"

#include <lauxlib.h>
#include <unistd.h>

static int core_list(lua_State *L)
{
	if (lua_isnoneornil(L, 1))
		lua_newtable(L);
	else
		luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	kd_lua_set_list(L, 1);
	return 1;
}

static int core_is_null(lua_State *L)
{
	luaL_checkany(L, 1);
	lua_pushboolean(L, kd_lua_is_null(L, 1));
	return 1;
}

/* core.log(level, msg [, fields]): level is "debug", "info", "warn" or
 * "error"; fields is a table of extra key/values. */
static int core_log(lua_State *L)
{
	const char *lvl = luaL_checkstring(L, 1);
	const char *msg = luaL_checkstring(L, 2);
	kd_arena *a;
	kd_err err = KD_ERR_INIT;
	kd_value *fields = NULL;
	kd_log_level level;
	int rc;

	if (kd_log_parse_level(lvl, &level) || level == KD_LOG_OFF)
		return luaL_argerror(L, 1, "expected \"debug\", \"info\", \"warn\" or \"error\"");
	if (lua_isnoneornil(L, 3)) {
		kd_log_fields(level, msg, NULL);
		return 0;
	}
	luaL_checktype(L, 3, LUA_TTABLE);
	a = kd_lua_push_arena(L, 16 << 20);
	rc = kd_lua_to_value(L, 3, a, &fields, &err);
	if (rc || fields->type != KD_MAP)
		return luaL_argerror(L, 3, rc ? err.msg : "fields must be a map, not a list");
	kd_log_fields(level, msg, fields);
	kd_arena_free(a);
	return 0;
}

/* core.log_secret(s): no log line shows s from now on (decrypted secrets) */
static int core_log_secret(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	int rc = kd_log_add_secret(s, n);

	if (rc)
		return luaL_error(L, "cannot hold another secret for the logger (%d)", rc);
	return 0;
}

static int core_log_enabled(lua_State *L)
{
	kd_log_level level;

	if (kd_log_parse_level(luaL_checkstring(L, 1), &level))
		return luaL_argerror(L, 1, "unknown log level");
	lua_pushboolean(L, level >= kd_log_min_level() && level != KD_LOG_OFF);
	return 1;
}

/* core.log_setup(level, format): the command line's --log-level and
 * --log-format (nil keeps the default); nil, msg naming the bad one. */
static int core_log_setup(lua_State *L)
{
	const char *lvl = luaL_optstring(L, 1, "info");
	const char *fmt = luaL_optstring(L, 2, "text");
	kd_log_level level;
	kd_log_format format;

	if (kd_log_parse_level(lvl, &level)) {
		lua_pushnil(L);
		lua_pushfstring(L, "unknown log level '%s'", lvl);
		return 2;
	}
	if (kd_log_parse_format(fmt, &format)) {
		lua_pushnil(L);
		lua_pushfstring(L, "unknown log format '%s'", fmt);
		return 2;
	}
	kd_log_setup(level, format);
	lua_pushboolean(L, 1);
	return 1;
}

/* core.isatty(fd): whether progress lines go to a person (fd 2: stderr). */
static int core_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)) == 1);
	return 1;
}

int kd_lua_open_core(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"list", core_list},
		{"is_null", core_is_null},
		{"log", core_log},
		{"log_enabled", core_log_enabled},
		{"log_secret", core_log_secret},
		{"log_setup", core_log_setup},
		{"isatty", core_isatty},
		{NULL, NULL},
	};
	kd_version_lib libs[KD_VERSION_LIBS];
	int i;

	luaL_newlib(L, funcs);
	lua_pushstring(L, kd_version());
	lua_setfield(L, -2, "version");
	lua_pushstring(L, kd_version_commit());
	lua_setfield(L, -2, "commit");
	lua_pushstring(L, kd_version_arch());
	lua_setfield(L, -2, "arch");
	kd_version_libs(libs);
	lua_createtable(L, 0, KD_VERSION_LIBS);
	for (i = 0; i < KD_VERSION_LIBS; i++) {
		lua_pushstring(L, libs[i].version);
		lua_setfield(L, -2, libs[i].name);
	}
	lua_setfield(L, -2, "libraries");
	/* the same names in kd_version_libs' order, for `kedge version` */
	lua_createtable(L, KD_VERSION_LIBS, 0);
	for (i = 0; i < KD_VERSION_LIBS; i++) {
		lua_pushstring(L, libs[i].name);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "library_names");
	kd_lua_push_null(L);
	lua_setfield(L, -2, "null");
	return 1;
}
