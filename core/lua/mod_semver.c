/* kedge.semver: semantic versions and Masterminds-style ranges for Lua
 * (the rules are in semver/semver.h). Versions are read leniently ("v1.2"
 * is 1.2.0) unless parse() is asked for strict SemVer. Bad versions and
 * ranges return nil, message; wrong argument types raise. */
#include "lua/klua.h"

#include "base/limits.h"
#include "semver/semver.h"

#include <lauxlib.h>
#include <string.h>

/* Small: a range holds its text and at most KD_LIMIT_SEMVER_TERMS terms. */
#define RANGE_ARENA_BYTES (64u << 10)

static void push_number(lua_State *L, uint64_t n)
{
	if (n <= (uint64_t)LUA_MAXINTEGER)
		lua_pushinteger(L, (lua_Integer)n);
	else
		lua_pushnumber(L, (lua_Number)n);
}

/* Pushes t[field] and returns it as a string ("" when nil). */
static const char *opt_field_string(lua_State *L, int idx, const char *field)
{
	int t = lua_getfield(L, idx, field);

	if (t == LUA_TNIL)
		return "";
	if (t != LUA_TSTRING)
		luaL_error(L, "version table: field '%s' must be a string, not a %s",
			   field, luaL_typename(L, -1));
	return lua_tostring(L, -1);
}

/* A table from parse(): its "original" text when it has one, else the
 * text rebuilt from its fields. Pushes that string and returns it. */
static const char *table_text(lua_State *L, int idx, size_t *len)
{
	lua_Integer part[3];
	static const char *const names[] = {"major", "minor", "patch"};
	const char *pre, *build;
	int k;

	if (lua_getfield(L, idx, "original") == LUA_TSTRING)
		return lua_tolstring(L, -1, len);
	lua_pop(L, 1);
	for (k = 0; k < 3; k++) {
		int isnum;

		lua_getfield(L, idx, names[k]);
		part[k] = lua_tointegerx(L, -1, &isnum);
		if (!isnum || part[k] < 0)
			luaL_error(L, "version table: field '%s' must be a non-negative integer",
				   names[k]);
		lua_pop(L, 1);
	}
	pre = opt_field_string(L, idx, "prerelease");
	build = opt_field_string(L, idx, "build");
	lua_pushfstring(L, "%I.%I.%I%s%s%s%s", (LUAI_UACINT)part[0],
			(LUAI_UACINT)part[1], (LUAI_UACINT)part[2],
			*pre ? "-" : "", pre, *build ? "+" : "", build);
	lua_replace(L, -3);
	lua_pop(L, 1);
	return lua_tolstring(L, -1, len);
}

/* The version at idx (a string or a parse() table). The text it points
 * into stays on the stack. Returns 0 or fills err. */
static int check_version(lua_State *L, int idx, kd_semver *v, int lenient,
			 kd_err *err)
{
	const char *s;
	size_t len;

	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		break;
	case LUA_TTABLE:
		s = table_text(L, idx, &len);
		break;
	default:
		return luaL_typeerror(L, idx, "version string or table");
	}
	return kd_semver_parse(v, s, len, lenient, err);
}

static void check_version_type(lua_State *L, int idx)
{
	int t = lua_type(L, idx);

	if (t != LUA_TSTRING && t != LUA_TTABLE)
		luaL_typeerror(L, idx, "version string or table");
}

/* Parses the range string at idx into a fresh arena pushed on the stack
 * (freed by the caller, or by __gc if a Lua error intervenes). */
static int check_range(lua_State *L, int idx, kd_semver_range **r,
		       kd_arena **a, kd_err *err)
{
	size_t len;
	const char *s = luaL_checklstring(L, idx, &len);

	*a = kd_lua_push_arena(L, RANGE_ARENA_BYTES);
	return kd_semver_range_parse(r, *a, s, len, err);
}

/* semver.parse(s [, {strict=bool}]) -> {major, minor, patch, prerelease,
 * build, original} */
static int semver_parse(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	int strict = kd_lua_opt_bool(L, 2, "strict", 0);
	kd_err err = KD_ERR_INIT;
	kd_semver v;

	if (kd_semver_parse(&v, s, len, !strict, &err))
		return kd_lua_fail(L, &err);
	lua_createtable(L, 0, 6);
	push_number(L, v.major);
	lua_setfield(L, -2, "major");
	push_number(L, v.minor);
	lua_setfield(L, -2, "minor");
	push_number(L, v.patch);
	lua_setfield(L, -2, "patch");
	lua_pushlstring(L, v.pre ? v.pre : "", v.pre_len);
	lua_setfield(L, -2, "prerelease");
	lua_pushlstring(L, v.build ? v.build : "", v.build_len);
	lua_setfield(L, -2, "build");
	lua_pushvalue(L, 1);
	lua_setfield(L, -2, "original");
	return 1;
}

/* semver.compare(a, b) -> -1 | 0 | 1 */
static int semver_compare(lua_State *L)
{
	kd_err err = KD_ERR_INIT;
	kd_semver a, b;

	check_version_type(L, 1);
	check_version_type(L, 2);
	if (check_version(L, 1, &a, 1, &err) ||
	    check_version(L, 2, &b, 1, &err))
		return kd_lua_fail(L, &err);
	lua_pushinteger(L, kd_semver_cmp(&a, &b));
	return 1;
}

/* semver.satisfies(version, range) -> bool */
static int semver_satisfies(lua_State *L)
{
	kd_err err = KD_ERR_INIT;
	kd_semver_range *r;
	kd_semver v;
	kd_arena *a;
	int rc;

	check_version_type(L, 1);
	luaL_checkstring(L, 2);
	if (check_version(L, 1, &v, 1, &err))
		return kd_lua_fail(L, &err);
	rc = check_range(L, 2, &r, &a, &err);
	if (!rc)
		lua_pushboolean(L, kd_semver_range_match(r, &v));
	kd_arena_free(a);
	return rc ? kd_lua_fail(L, &err) : 1;
}

/* semver.max_satisfying(list, range) -> the highest matching entry, or nil.
 * Entries that are not versions are skipped; among equal versions the
 * first one wins. */
static int semver_max_satisfying(lua_State *L)
{
	kd_err err = KD_ERR_INIT;
	kd_semver_range *r;
	kd_semver best, v;
	lua_Integer i, n;
	int best_idx = 0, rc;
	kd_arena *a;

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checkstring(L, 2);
	rc = check_range(L, 2, &r, &a, &err);
	if (rc) {
		kd_arena_free(a);
		return kd_lua_fail(L, &err);
	}
	n = luaL_len(L, 1);
	for (i = 1; i <= n; i++) {
		size_t len;
		const char *s;

		if (lua_rawgeti(L, 1, i) != LUA_TSTRING)
			luaL_error(L, "bad argument #1 to 'max_satisfying' (item %I is a %s, not a string)",
				   (LUAI_UACINT)i, luaL_typename(L, -1));
		s = lua_tolstring(L, -1, &len);
		if (!kd_semver_parse(&v, s, len, 1, NULL) &&
		    kd_semver_range_match(r, &v) &&
		    (!best_idx || kd_semver_cmp(&v, &best) > 0)) {
			/* Keep the winner on the stack so its text stays alive. */
			if (best_idx)
				lua_remove(L, best_idx);
			best = v;
			best_idx = lua_gettop(L);
		} else {
			lua_pop(L, 1);
		}
	}
	kd_arena_free(a);
	if (!best_idx)
		lua_pushnil(L);
	return 1;
}

/* semver.valid_range(range) -> true */
static int semver_valid_range(lua_State *L)
{
	kd_err err = KD_ERR_INIT;
	kd_semver_range *r;
	kd_arena *a;
	int rc = check_range(L, 1, &r, &a, &err);

	kd_arena_free(a);
	if (rc)
		return kd_lua_fail(L, &err);
	lua_pushboolean(L, 1);
	return 1;
}

int kd_lua_open_semver(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"parse", semver_parse},
		{"compare", semver_compare},
		{"satisfies", semver_satisfies},
		{"max_satisfying", semver_max_satisfying},
		{"valid_range", semver_valid_range},
		{NULL, NULL},
	};

	luaL_newlib(L, funcs);
	return 1;
}
