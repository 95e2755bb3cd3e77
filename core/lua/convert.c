/* kd_value <-> Lua values, and the two markers that let tables stand for
 * every kd_value: the null sentinel and the list metatable. */
#include "lua/klua.h"

#include "base/buf.h"
#include "base/limits.h"
#include "base/num.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

static const char NULL_KEY[] = "kedge.null";
static const char LIST_MT[] = "kedge.list";

static int arena_gc(lua_State *L)
{
	kd_arena_free(luaL_checkudata(L, 1, "kedge.Arena"));
	return 0;
}

kd_arena *kd_lua_push_arena(lua_State *L, size_t limit)
{
	kd_arena *a = lua_newuserdatauv(L, sizeof(*a), 0);

	kd_arena_init(a, limit);
	if (luaL_newmetatable(L, "kedge.Arena")) {
		lua_pushcfunction(L, arena_gc);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, arena_gc);
		lua_setfield(L, -2, "__close");
	}
	lua_setmetatable(L, -2);
	return a;
}

static int null_tostring(lua_State *L)
{
	lua_pushliteral(L, "null");
	return 1;
}

void kd_lua_push_null(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, NULL_KEY) != LUA_TUSERDATA) {
		lua_pop(L, 1);
		lua_newuserdatauv(L, 0, 0);
		lua_createtable(L, 0, 3);
		lua_pushcfunction(L, null_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushstring(L, NULL_KEY);
		lua_setfield(L, -2, "__name");
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, "__metatable");
		lua_setmetatable(L, -2);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, NULL_KEY);
	}
}

int kd_lua_is_null(lua_State *L, int idx)
{
	int is;

	if (lua_type(L, idx) != LUA_TUSERDATA)
		return 0;
	idx = lua_absindex(L, idx);
	kd_lua_push_null(L);
	is = lua_rawequal(L, idx, -1);
	lua_pop(L, 1);
	return is;
}

void kd_lua_set_list(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	if (luaL_newmetatable(L, LIST_MT)) {
		lua_pushstring(L, LIST_MT);
		lua_setfield(L, -2, "__name");
	}
	lua_setmetatable(L, idx);
}

static void push_depth(lua_State *L, const kd_value *v, int depth)
{
	size_t i;

	if (depth > KD_LIMIT_DEPTH)
		luaL_error(L, "value nests deeper than %d levels", KD_LIMIT_DEPTH);
	luaL_checkstack(L, 3, "value too deep");
	switch (v->type) {
	case KD_NULL:
		kd_lua_push_null(L);
		break;
	case KD_BOOL:
		lua_pushboolean(L, v->u.b);
		break;
	case KD_INT:
		lua_pushinteger(L, (lua_Integer)v->u.i);
		break;
	case KD_FLOAT:
		lua_pushnumber(L, (lua_Number)v->u.f);
		break;
	case KD_STR:
		lua_pushlstring(L, v->u.str.ptr, v->u.str.len);
		break;
	case KD_LIST:
		if (v->u.list.len > INT_MAX)
			luaL_error(L, "list too long for Lua");
		lua_createtable(L, (int)v->u.list.len, 0);
		for (i = 0; i < v->u.list.len; i++) {
			push_depth(L, v->u.list.items[i], depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		kd_lua_set_list(L, -1);
		break;
	case KD_MAP:
		lua_createtable(L, 0, v->u.map.len > INT_MAX ? 0 : (int)v->u.map.len);
		for (i = 0; i < v->u.map.len; i++) {
			const kd_map_ent *e = &v->u.map.ents[i];

			lua_pushlstring(L, e->key, e->klen);
			push_depth(L, e->val, depth + 1);
			lua_rawset(L, -3);
		}
		break;
	}
}

void kd_lua_push_value(lua_State *L, const kd_value *v)
{
	push_depth(L, v, 0);
}

/* A table is a list when it carries the list metatable, or when its keys
 * are exactly the integers 1..n with n > 0. */
static int is_list(lua_State *L, int idx, lua_Integer *n_out)
{
	lua_Integer n = 0;
	int marked = 0;

	if (lua_getmetatable(L, idx)) {
		luaL_getmetatable(L, LIST_MT);
		marked = lua_rawequal(L, -1, -2);
		lua_pop(L, 2);
	}
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
			lua_pop(L, 1);
			*n_out = 0;
			return marked ? -1 : 0;
		}
		n++;
	}
	*n_out = n;
	if (n && (lua_Integer)lua_rawlen(L, idx) != n)
		return marked ? -1 : 0;
	return marked || n > 0;
}

typedef struct key_ref {
	const char *s;
	size_t n;
} key_ref;

static int key_cmp(const void *x, const void *y)
{
	const key_ref *a = x, *b = y;

	return kd_bytes_cmp(a->s, a->n, b->s, b->n);
}

/* path is where the conversion is ("labels.env", "list[3]"); it is left
 * pointing at the failing value when an error returns, so the outermost
 * call can name it once. */
static int to_value_depth(lua_State *L, int idx, kd_arena *a, kd_value **out,
			  kd_err *err, int depth, kd_buf *path);

/* Pushes the map-key form of the string or number at idx. */
static void push_key_string(lua_State *L, int idx, kd_buf *kb)
{
	if (lua_type(L, idx) == LUA_TSTRING) {
		lua_pushvalue(L, idx);
		return;
	}
	kd_buf_reset(kb);
	if (lua_isinteger(L, idx))
		kd_num_format_int(kb, (int64_t)lua_tointeger(L, idx));
	else
		kd_num_format_float(kb, lua_tonumber(L, idx), 'g', -1);
	lua_pushlstring(L, kb->ptr, kb->len);
}

static int map_from_table(lua_State *L, int idx, kd_arena *a, kd_value **out,
			  kd_err *err, int depth, kd_buf *path)
{
	size_t n = 0, i;
	key_ref *keys = NULL;
	kd_value *map = NULL, *item;
	kd_buf kb = KD_BUF_INIT(64);
	int rc = 0, tmp;

	/* A temporary table maps each key's string form to the original key:
	 * it detects keys that collide (1 and "1") and keeps the strings alive
	 * while they are sorted. */
	lua_newtable(L);
	tmp = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
			rc = kd_err_set(err, KD_ETYPE,
					"a table key of type %s cannot become a map key",
					luaL_typename(L, -1));
			goto cleanup;
		}
		push_key_string(L, -1, &kb);
		lua_pushvalue(L, -1);
		if (lua_rawget(L, tmp) != LUA_TNIL) {
			rc = kd_err_set(err, KD_ETYPE,
					"two table keys become the same map key \"%s\"",
					lua_tostring(L, -2));
			goto cleanup;
		}
		lua_pop(L, 1);
		lua_pushvalue(L, -2);
		lua_rawset(L, tmp);
		n++;
	}
	keys = malloc(n ? n * sizeof(*keys) : 1);
	map = kd_value_map(a, n);
	if (!keys || !map) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory converting a table");
		goto cleanup;
	}
	i = 0;
	lua_pushnil(L);
	while (lua_next(L, tmp)) {
		lua_pop(L, 1);
		keys[i].s = lua_tolstring(L, -1, &keys[i].n);
		i++;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 0; i < n; i++) {
		size_t plen = path->len;

		lua_pushlstring(L, keys[i].s, keys[i].n);
		lua_rawget(L, tmp);
		lua_rawget(L, idx);
		kd_buf_printf(path, "%s%.*s", plen ? "." : "", (int)keys[i].n, keys[i].s);
		rc = to_value_depth(L, -1, a, &item, err, depth + 1, path);
		lua_pop(L, 1);
		if (rc)
			goto cleanup;
		path->len = plen;
		path->ptr[plen] = '\0';
		if (kd_map_set(a, map, keys[i].s, keys[i].n, item)) {
			rc = kd_err_set(err, KD_ENOMEM, "out of memory converting a table");
			goto cleanup;
		}
	}
	*out = map;
cleanup:
	lua_settop(L, tmp - 1);
	free(keys);
	kd_buf_free(&kb);
	return rc;
}

static int to_value_depth(lua_State *L, int idx, kd_arena *a, kd_value **out,
			  kd_err *err, int depth, kd_buf *path)
{
	lua_Integer n, i;
	kd_value *v = NULL, *item;
	size_t len;
	const char *s;
	int list, rc;

	idx = lua_absindex(L, idx);
	if (depth > KD_LIMIT_DEPTH)
		return kd_err_set(err, KD_ELIMIT,
				  "value nests deeper than %d levels (a table that contains itself?)",
				  KD_LIMIT_DEPTH);
	if (!lua_checkstack(L, 8))
		return kd_err_set(err, KD_ELIMIT, "Lua stack exhausted");
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		v = kd_value_null(a);
		break;
	case LUA_TBOOLEAN:
		v = kd_value_bool(a, lua_toboolean(L, idx));
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			v = kd_value_int(a, (int64_t)lua_tointeger(L, idx));
		else
			v = kd_value_float(a, (double)lua_tonumber(L, idx));
		break;
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		v = kd_value_str(a, s, len);
		break;
	case LUA_TUSERDATA:
		if (kd_lua_is_null(L, idx)) {
			v = kd_value_null(a);
			break;
		}
		/* fall through */
	case LUA_TFUNCTION:
	case LUA_TTHREAD:
	case LUA_TLIGHTUSERDATA:
		return kd_err_set(err, KD_ETYPE, "a %s cannot become a value",
				  luaL_typename(L, idx));
	case LUA_TTABLE:
		list = is_list(L, idx, &n);
		if (list < 0)
			return kd_err_set(err, KD_ETYPE,
					  "a table marked as a list has keys other than 1..n");
		if (!list)
			return map_from_table(L, idx, a, out, err, depth, path);
		v = kd_value_list(a, (size_t)n);
		if (!v)
			break;
		for (i = 1; i <= n; i++) {
			size_t plen = path->len;

			lua_rawgeti(L, idx, i);
			kd_buf_printf(path, "[%lld]", (long long)i);
			rc = to_value_depth(L, -1, a, &item, err, depth + 1, path);
			lua_pop(L, 1);
			if (rc)
				return rc;
			path->len = plen;
			path->ptr[plen] = '\0';
			if (kd_list_push(a, v, item))
				return kd_err_set(err, KD_ENOMEM, "out of memory converting a table");
		}
		break;
	}
	if (!v)
		return kd_err_set(err, a->failed ? a->failed : KD_ENOMEM,
				  "out of memory converting a Lua value");
	*out = v;
	return 0;
}

int kd_lua_to_value(lua_State *L, int idx, kd_arena *a, kd_value **out,
		    kd_err *err)
{
	kd_buf path = KD_BUF_INIT(256);
	int rc = to_value_depth(L, idx, a, out, err, 0, &path);

	if (rc && path.len)
		kd_err_prefix(err, "at %s%s", path.ptr, path.failed ? "..." : "");
	kd_buf_free(&path);
	return rc;
}

/* Leaves the field on the stack; 0 when the options or the field are
 * absent (nothing pushed then). */
static int opt_field(lua_State *L, int idx, const char *field)
{
	if (lua_isnoneornil(L, idx))
		return 0;
	luaL_checktype(L, idx, LUA_TTABLE);
	if (lua_getfield(L, idx, field) == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	return 1;
}

const char *kd_lua_opt_string(lua_State *L, int idx, const char *field,
			      const char *def)
{
	const char *s;

	if (!opt_field(L, idx, field))
		return def;
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "option '%s' must be a string, not a %s", field,
			   luaL_typename(L, -1));
	/* The options table keeps the string alive. */
	s = lua_tostring(L, -1);
	lua_pop(L, 1);
	return s;
}

int kd_lua_opt_bool(lua_State *L, int idx, const char *field, int def)
{
	int b;

	if (!opt_field(L, idx, field))
		return def;
	if (lua_type(L, -1) != LUA_TBOOLEAN)
		luaL_error(L, "option '%s' must be a boolean, not a %s", field,
			   luaL_typename(L, -1));
	b = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return b;
}

lua_Integer kd_lua_opt_integer(lua_State *L, int idx, const char *field,
			       lua_Integer def)
{
	lua_Integer i;
	int isnum;

	if (!opt_field(L, idx, field))
		return def;
	i = lua_tointegerx(L, -1, &isnum);
	if (!isnum || lua_type(L, -1) != LUA_TNUMBER)
		luaL_error(L, "option '%s' must be a whole number, not %s", field,
			   lua_type(L, -1) == LUA_TNUMBER ? "a fraction"
							  : luaL_typename(L, -1));
	lua_pop(L, 1);
	return i;
}

int kd_lua_opt_number(lua_State *L, int idx, const char *field, double *out)
{
	if (!opt_field(L, idx, field))
		return 0;
	if (lua_type(L, -1) != LUA_TNUMBER)
		luaL_error(L, "option '%s' must be a number of seconds, not a %s",
			   field, luaL_typename(L, -1));
	*out = lua_tonumber(L, -1);
	lua_pop(L, 1);
	return 1;
}

int kd_lua_opt_numbers_as_float(lua_State *L, int idx)
{
	const char *s = kd_lua_opt_string(L, idx, "numbers", "native");

	if (!strcmp(s, "float"))
		return 1;
	if (strcmp(s, "native"))
		luaL_error(L, "option 'numbers' must be \"native\" or \"float\", not \"%s\"", s);
	return 0;
}

int kd_lua_return_value(lua_State *L, int rc, const kd_value *v, kd_arena *a,
			const kd_err *err)
{
	if (rc) {
		kd_arena_free(a);
		lua_pushnil(L);
		lua_pushstring(L, err->msg);
		return 2;
	}
	kd_lua_push_value(L, v);
	kd_arena_free(a);
	return 1;
}

int kd_lua_return_buf(lua_State *L, int rc, kd_buf *out, const kd_err *err)
{
	if (rc) {
		kd_buf_free(out);
		lua_pushnil(L);
		lua_pushstring(L, err->msg);
		return 2;
	}
	lua_pushlstring(L, out->ptr, out->len);
	kd_buf_free(out);
	return 1;
}

static void to_float_depth(kd_value *v, int depth)
{
	size_t i;

	if (depth > KD_LIMIT_DEPTH)
		return;
	if (v->type == KD_INT) {
		v->u.f = (double)v->u.i;
		v->type = KD_FLOAT;
	} else if (v->type == KD_LIST) {
		for (i = 0; i < v->u.list.len; i++)
			to_float_depth(v->u.list.items[i], depth + 1);
	} else if (v->type == KD_MAP) {
		for (i = 0; i < v->u.map.len; i++)
			to_float_depth(v->u.map.ents[i].val, depth + 1);
	}
}

void kd_lua_values_to_float(kd_value *v)
{
	to_float_depth(v, 0);
}

int kd_lua_fail(lua_State *L, const kd_err *err)
{
	lua_pushnil(L);
	lua_pushstring(L, err->msg);
	return 2;
}

/* opts.lookup (the table at stack index 3) called from inside a render. */
int kd_lua_opts_lookup(void *ud, const char *api_version, const char *kind,
		       const char *ns, const char *name, kd_arena *a,
		       kd_value **out, kd_err *err)
{
	lua_State *L = ud;
	int rc = 0;

	if (!lua_checkstack(L, 8))
		return kd_err_set(err, KD_ELIMIT, "lookup: Lua stack exhausted");
	lua_getfield(L, 3, "lookup");
	lua_pushstring(L, api_version);
	lua_pushstring(L, kind);
	lua_pushstring(L, ns);
	lua_pushstring(L, name);
	if (lua_pcall(L, 4, 2, 0) != LUA_OK) {
		rc = kd_err_set(err, KD_EINVAL, "%s", lua_tostring(L, -1));
		lua_pop(L, 1);
		return rc;
	}
	if (lua_isnil(L, -2))
		rc = kd_err_set(err, KD_EIO, "%s",
				lua_isstring(L, -1) ? lua_tostring(L, -1) : "failed");
	else
		rc = kd_lua_to_value(L, lua_gettop(L) - 1, a, out, err);
	lua_pop(L, 2);
	return rc;
}
