/* kedge.yaml: YAML decode/encode for Lua. Expected failures (malformed
 * input) return nil, "name:line:col: message"; wrong argument types raise.
 * decode(text, {positions = true}) returns a second table, from each
 * node's path ("spec.ports.0.name", see kd_yaml_decode_opts) to
 * {line =, col =}. */
#include "lua/klua.h"

#include "base/buf.h"
#include "base/limits.h"
#include "yaml/yaml.h"

#include <lauxlib.h>
#include <string.h>

/* positions: path -> {line = L, col = C} */
static void push_positions(lua_State *L, const kd_value *pos)
{
	size_t i;

	lua_createtable(L, 0, (int)pos->u.map.len);
	for (i = 0; i < pos->u.map.len; i++) {
		const kd_map_ent *e = &pos->u.map.ents[i];

		lua_pushlstring(L, e->key, e->klen);
		lua_createtable(L, 0, 2);
		lua_pushinteger(L, (lua_Integer)e->val->u.list.items[0]->u.i);
		lua_setfield(L, -2, "line");
		lua_pushinteger(L, (lua_Integer)e->val->u.list.items[1]->u.i);
		lua_setfield(L, -2, "col");
		lua_rawset(L, -3);
	}
}

static int decode_common(lua_State *L, int all)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	const char *name = kd_lua_opt_string(L, 2, "name", "<input>");
	kd_yaml_decode_opts opts = {0};
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL, *pos = NULL;
	kd_arena *a;
	int rc;

	opts.numbers_as_float = kd_lua_opt_numbers_as_float(L, 2);
	if (kd_lua_opt_bool(L, 2, "positions", 0))
		opts.positions = &pos;
	a = kd_lua_push_arena(L, KD_LIMIT_ARENA_BYTES);
	if (all)
		rc = kd_yaml_decode_all(&v, a, text, len, name, &opts, &err);
	else
		rc = kd_yaml_decode(&v, a, text, len, name, &opts, &err);
	if (rc || !pos)
		return kd_lua_return_value(L, rc, v, a, &err);
	kd_lua_push_value(L, v);
	push_positions(L, pos);
	kd_arena_free(a);
	return 2;
}

static int yaml_decode(lua_State *L)
{
	return decode_common(L, 0);
}

static int yaml_decode_all(lua_State *L)
{
	return decode_common(L, 1);
}

static int encode_common(lua_State *L, int all)
{
	kd_yaml_encode_opts opts = {0};
	kd_buf out = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_err err = KD_ERR_INIT;
	kd_value *v;
	kd_arena *a;
	int rc;

	luaL_checkany(L, 1);
	opts.sort_keys = kd_lua_opt_bool(L, 2, "sort_keys", 0);
	a = kd_lua_push_arena(L, KD_LIMIT_ARENA_BYTES);
	rc = kd_lua_to_value(L, 1, a, &v, &err);
	if (rc)
		return luaL_argerror(L, 1, err.msg);
	if (all && v->type != KD_LIST)
		return luaL_argerror(L, 1, "expected a list of documents");
	rc = all ? kd_yaml_encode_all(&out, v, &opts, &err)
		 : kd_yaml_encode(&out, v, &opts, &err);
	kd_arena_free(a);
	return kd_lua_return_buf(L, rc, &out, &err);
}

static int yaml_encode(lua_State *L)
{
	return encode_common(L, 0);
}

static int yaml_encode_all(lua_State *L)
{
	return encode_common(L, 1);
}

int kd_lua_open_yaml(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"decode", yaml_decode},
		{"decode_all", yaml_decode_all},
		{"encode", yaml_encode},
		{"encode_all", yaml_encode_all},
		{NULL, NULL},
	};

	luaL_newlib(L, funcs);
	kd_lua_push_null(L);
	lua_setfield(L, -2, "null");
	return 1;
}
