/* kedge.regex: the RE2-syntax matcher (core/regex) for
 * Lua, so smoke tests check bodies with the same regular expressions a
 * chart's regexMatch uses.
 *
 * regex.match(re, s) → true or false; nil, message for a bad pattern
 *   (Go's message). Matching is linear in the input. */
#include "lua/klua.h"

#include "regex/regex.h"

#include <lauxlib.h>

static int regex_match(lua_State *L)
{
	size_t rn, sn;
	const char *re = luaL_checklstring(L, 1, &rn);
	const char *s = luaL_checklstring(L, 2, &sn);
	kd_err err = KD_ERR_INIT;
	int rc = kd_regex_match(re, rn, s, sn, &err);

	if (rc < 0) {
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	lua_pushboolean(L, rc);
	return 1;
}

int kd_lua_open_regex(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"match", regex_match},
		{NULL, NULL},
	};

	luaL_newlib(L, funcs);
	return 1;
}
