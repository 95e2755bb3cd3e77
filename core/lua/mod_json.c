/* kedge.json: JSON decode/encode for Lua. Expected failures (malformed
 * input, NaN) return nil, message; wrong argument types raise. */
#include "lua/klua.h"

#include "base/buf.h"
#include "base/limits.h"
#include "json/json.h"

#include <lauxlib.h>

/* json.decode(text [, {name=, numbers="native"|"float"}]) */
static int json_decode(lua_State *L)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	const char *name = kd_lua_opt_string(L, 2, "name", "<input>");
	kd_json_decode_opts opts = {0};
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL;
	kd_arena *a;
	int rc;

	opts.numbers_as_float = kd_lua_opt_numbers_as_float(L, 2);
	a = kd_lua_push_arena(L, KD_LIMIT_ARENA_BYTES);
	rc = kd_json_decode(&v, a, text, len, name, &opts, &err);
	return kd_lua_return_value(L, rc, v, a, &err);
}

/* json.encode(value [, {indent=n, sort_keys=bool, escape_html=bool}]) */
static int json_encode(lua_State *L)
{
	kd_json_encode_opts opts = {0};
	kd_buf out = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_err err = KD_ERR_INIT;
	lua_Integer indent;
	kd_value *v;
	kd_arena *a;
	int rc;

	luaL_checkany(L, 1);
	indent = kd_lua_opt_integer(L, 2, "indent", 0);
	if (indent < 0 || indent > 16)
		return luaL_error(L, "option 'indent' must be between 0 and 16");
	opts.indent = (int)indent;
	opts.sort_keys = kd_lua_opt_bool(L, 2, "sort_keys", 0);
	opts.escape_html = kd_lua_opt_bool(L, 2, "escape_html", 0);
	a = kd_lua_push_arena(L, KD_LIMIT_ARENA_BYTES);
	rc = kd_lua_to_value(L, 1, a, &v, &err);
	if (rc)
		return luaL_argerror(L, 1, err.msg);
	rc = kd_json_encode(&out, v, &opts, &err);
	kd_arena_free(a);
	return kd_lua_return_buf(L, rc, &out, &err);
}

int kd_lua_open_json(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"decode", json_decode},
		{"encode", json_encode},
		{NULL, NULL},
	};

	luaL_newlib(L, funcs);
	kd_lua_push_null(L);
	lua_setfield(L, -2, "null");
	return 1;
}
