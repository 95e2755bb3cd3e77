/* kedge.chart: Helm charts for Lua.
 *
 *   chart.load(path) -> chart | nil, err     (a directory or a .tgz)
 *   chart.load_tgz(bytes, name) -> chart | nil, err  (a .tgz in memory)
 *   c:info() -> {meta=, lock=, subcharts={names}}  (Chart.yaml, Chart.lock)
 *   c:add_subchart(bytes, name) -> true | nil, err (a .tgz, as in charts/)
 *   c:name(), c:version()
 *   c:render([values [, opts]]) -> manifests | nil, err
 *   c:template([values [, opts]]) -> text | nil, err  (what kedge render prints)
 *   c:close() (also __close / __gc)
 *   chart.helm_template{chart=, release=, ...} -> text | nil, {kind=, msg=}
 *                                            (kedge render, see below)
 *   chart.merge_values{layer, ...} -> merged  (the values-layer merge)
 *   chart.INSTALL_ORDER, chart.DEFAULT_KUBE_VERSION
 *
 * values is a table (chart defaults are coalesced under it as Helm does);
 * opts: release, namespace, kube_version, api_versions (list),
 * api_versions_only (they replace the default set), is_upgrade,
 * include_crds, skip_tests, no_hooks, show_only (list, template only),
 * numbers ("native" or "float": how Lua numbers in values arrive; Helm
 * reads values files as floats), lookup (a function for Helm's lookup:
 * apiVersion, kind, namespace, name -> the object, or nil, err;
 * kedge.kube's client:lookup() makes one; without it, an empty map). A manifest is {source=, text=, kind=,
 * hook=, test=, crd=, value=} where value is the document decoded (a list
 * of documents for a CRD file that holds several). Render failures return
 * nil and the message; no partial list is ever returned. */
#include "lua/klua.h"

#include "base/limits.h"
#include "chart/chart.h"
#include "chart/funcs.h"
#include "yaml/yaml.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define CHART_MT "kedge.Chart"

typedef struct lchart {
	kd_chart *c;
} lchart;

static lchart *check_chart(lua_State *L)
{
	lchart *lc = luaL_checkudata(L, 1, CHART_MT);

	if (!lc->c)
		luaL_error(L, "the chart is closed");
	return lc;
}

static int chart_gc(lua_State *L)
{
	lchart *lc = luaL_checkudata(L, 1, CHART_MT);

	kd_chart_free(lc->c);
	lc->c = NULL;
	return 0;
}

static int chart_load(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lchart *lc = lua_newuserdatauv(L, sizeof *lc, 0);
	kd_err err = KD_ERR_INIT;

	/* closed first, so an error while loading leaves it consistent */
	lc->c = NULL;
	luaL_setmetatable(L, CHART_MT);
	if (kd_chart_load(&lc->c, path, &err)) {
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	return 1;
}

static int chart_load_tgz(lua_State *L)
{
	size_t len;
	const char *data = luaL_checklstring(L, 1, &len);
	const char *name = luaL_checkstring(L, 2);
	lchart *lc = lua_newuserdatauv(L, sizeof *lc, 0);
	kd_err err = KD_ERR_INIT;

	lc->c = NULL;
	luaL_setmetatable(L, CHART_MT);
	if (kd_chart_load_tgz(&lc->c, data, len, name, &err))
		return kd_lua_fail(L, &err);
	return 1;
}

static int chart_info(lua_State *L)
{
	const kd_chart *c = check_chart(L)->c;
	size_t i, n = kd_chart_nsubs(c);

	lua_createtable(L, 0, 3);
	kd_lua_push_value(L, kd_chart_meta(c));
	lua_setfield(L, -2, "meta");
	if (kd_chart_lock(c)) {
		kd_lua_push_value(L, kd_chart_lock(c));
		lua_setfield(L, -2, "lock");
	}
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_pushstring(L, kd_chart_sub_name(c, i));
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	kd_lua_set_list(L, -1);
	lua_setfield(L, -2, "subcharts");
	return 1;
}

static int chart_add_subchart(lua_State *L)
{
	lchart *lc = check_chart(L);
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);
	const char *name = luaL_checkstring(L, 3);
	kd_err err = KD_ERR_INIT;

	if (kd_chart_add_sub(lc->c, data, len, name, &err))
		return kd_lua_fail(L, &err);
	lua_pushboolean(L, 1);
	return 1;
}

static int chart_name(lua_State *L)
{
	lua_pushstring(L, kd_chart_name(check_chart(L)->c));
	return 1;
}

static int chart_version(lua_State *L)
{
	lua_pushstring(L, kd_chart_version(check_chart(L)->c));
	return 1;
}

/* A list option of strings, kept in the arena. */
static const char **opt_list(lua_State *L, int idx, const char *field,
			     kd_arena *a, size_t *n)
{
	const char **v = NULL;
	size_t len, i;

	*n = 0;
	if (!lua_istable(L, idx))
		return NULL;
	lua_getfield(L, idx, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return NULL;
	}
	if (!lua_istable(L, -1))
		luaL_error(L, "option '%s' must be a list of strings", field);
	len = (size_t)luaL_len(L, -1);
	v = kd_arena_alloc(a, (len + 1) * sizeof *v);
	if (!v)
		luaL_error(L, "out of memory");
	for (i = 0; i < len; i++) {
		lua_rawgeti(L, -1, (lua_Integer)i + 1);
		if (!lua_isstring(L, -1))
			luaL_error(L, "option '%s' must be a list of strings", field);
		v[i] = kd_arena_strdup(a, lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	*n = len;
	return v;
}

static const char *opt_str(lua_State *L, int idx, const char *field, kd_arena *a)
{
	const char *s = kd_lua_opt_string(L, idx, field, NULL);

	return s ? kd_arena_strdup(a, s) : NULL;
}

/* Reads (values, opts) at 2 and 3 into o and *vals; lk serves opts.lookup
 * when there is one. */
static void read_args(lua_State *L, kd_arena *a, kd_chart_opts *o, kd_value **vals,
		      const kd_chart_lookup *lk)
{
	kd_err err = KD_ERR_INIT;

	memset(o, 0, sizeof *o);
	*vals = NULL;
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		if (kd_lua_to_value(L, 2, a, vals, &err))
			luaL_argerror(L, 2, err.msg);
		if ((*vals)->type == KD_LIST && (*vals)->u.list.len == 0)
			*vals = kd_value_map(a, 0);
		if ((*vals)->type != KD_MAP)
			luaL_argerror(L, 2, "values must be a map, not a list");
		if (kd_lua_opt_numbers_as_float(L, 3))
			kd_lua_values_to_float(*vals);
	}
	o->release = opt_str(L, 3, "release", a);
	o->ns = opt_str(L, 3, "namespace", a);
	o->kube_version = opt_str(L, 3, "kube_version", a);
	o->api_versions = opt_list(L, 3, "api_versions", a, &o->n_api_versions);
	o->show_only = opt_list(L, 3, "show_only", a, &o->n_show_only);
	o->api_versions_only = kd_lua_opt_bool(L, 3, "api_versions_only", 0);
	o->is_upgrade = kd_lua_opt_bool(L, 3, "is_upgrade", 0);
	o->include_crds = kd_lua_opt_bool(L, 3, "include_crds", 0);
	o->skip_tests = kd_lua_opt_bool(L, 3, "skip_tests", 0);
	o->no_hooks = kd_lua_opt_bool(L, 3, "no_hooks", 0);
	if (lua_istable(L, 3)) {
		int t = lua_getfield(L, 3, "lookup");

		lua_pop(L, 1);
		if (t != LUA_TNIL && t != LUA_TFUNCTION)
			luaL_argerror(L, 3, "option 'lookup' must be a function");
		if (t == LUA_TFUNCTION)
			o->lookup = lk;
	}
}

static void set_bool(lua_State *L, const char *k, bool b)
{
	lua_pushboolean(L, b);
	lua_setfield(L, -2, k);
}

static int chart_render(lua_State *L)
{
	lchart *lc = check_chart(L);
	kd_arena *a;
	kd_chart_opts o;
	kd_chart_result res;
	kd_value *vals;
	kd_err err = KD_ERR_INIT;
	size_t i, k = 0;

	kd_chart_lookup lk = {kd_lua_opts_lookup, L};

	lua_settop(L, 3);
	a = kd_lua_push_arena(L, KD_LIMIT_ARENA_BYTES);
	read_args(L, a, &o, &vals, &lk);
	if (kd_chart_render(&res, lc->c, vals, &o, &err)) {
		kd_arena_free(a);
		lua_pushnil(L);
		lua_pushstring(L, err.msg);
		return 2;
	}
	lua_createtable(L, (int)res.ndocs, 0);
	kd_lua_set_list(L, -1);
	for (i = 0; i < res.ndocs; i++) {
		const kd_chart_manifest *m = &res.docs[i];
		kd_arena tmp = KD_ARENA_INIT(KD_LIMIT_ARENA_BYTES);
		kd_value *docs;

		if ((o.no_hooks && m->hook) || (o.skip_tests && m->test))
			continue;
		if (kd_yaml_decode_all(&docs, &tmp, m->text, m->len, m->source, NULL, &err)) {
			kd_arena_free(&tmp);
			kd_chart_result_free(&res);
			kd_arena_free(a);
			lua_pushnil(L);
			lua_pushstring(L, err.msg);
			return 2;
		}
		lua_createtable(L, 0, 7);
		lua_pushstring(L, m->source);
		lua_setfield(L, -2, "source");
		lua_pushlstring(L, m->text, m->len);
		lua_setfield(L, -2, "text");
		lua_pushstring(L, m->kind);
		lua_setfield(L, -2, "kind");
		set_bool(L, "hook", m->hook);
		set_bool(L, "test", m->test);
		set_bool(L, "crd", m->crd);
		if (docs->u.list.len == 1)
			kd_lua_push_value(L, docs->u.list.items[0]);
		else
			kd_lua_push_value(L, docs);
		lua_setfield(L, -2, "value");
		kd_arena_free(&tmp);
		lua_rawseti(L, -2, (lua_Integer)++k);
	}
	kd_chart_result_free(&res);
	kd_arena_free(a);
	return 1;
}

static int chart_template(lua_State *L)
{
	lchart *lc = check_chart(L);
	kd_arena *a;
	kd_chart_opts o;
	kd_chart_result res;
	kd_value *vals;
	kd_err err = KD_ERR_INIT;
	kd_buf out = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	int rc;

	kd_chart_lookup lk = {kd_lua_opts_lookup, L};

	lua_settop(L, 3);
	a = kd_lua_push_arena(L, KD_LIMIT_ARENA_BYTES);
	read_args(L, a, &o, &vals, &lk);
	rc = kd_chart_render(&res, lc->c, vals, &o, &err);
	if (!rc) {
		rc = kd_chart_output(&out, &res, &o, &err);
		kd_chart_result_free(&res);
	}
	kd_arena_free(a);
	return kd_lua_return_buf(L, rc, &out, &err);
}

/* A list field of t (at idx) into the arena; nil or absent: empty. */
static kd_chart_strs strs(lua_State *L, int idx, const char *field, kd_arena *a)
{
	kd_chart_strs s;

	s.v = opt_list(L, idx, field, a, &s.n);
	return s;
}

static int push_template_err(lua_State *L, const char *kind, const kd_err *err)
{
	lua_pushnil(L);
	lua_createtable(L, 0, 2);
	lua_pushstring(L, kind);
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, err->msg);
	lua_setfield(L, -2, "msg");
	return 2;
}

/* helm_template{chart=, release=, name_template=, generate_name=,
 * namespace=, kube_version=, api_versions=, show_only=, values_files=,
 * set={json=, set=, string=, file=, literal=}, is_upgrade=, include_crds=,
 * skip_crds=, skip_tests=, no_hooks=} -> text | nil, {kind=, msg=}:
 * `kedge render` without its flag parsing. kind is "usage" for
 * contradicting options, else "render"; msg is what follows "Error: ". */
static int chart_helm_template(lua_State *L)
{
	static const char *const layers[KD_CHART_LAYER_N] = {
		"json", "set", "string", "file", "literal",
	};
	kd_chart_template_opts o;
	kd_err err = KD_ERR_INIT;
	kd_buf out = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_arena *a;
	int k, rc;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	a = kd_lua_push_arena(L, KD_LIMIT_ARENA_BYTES);
	memset(&o, 0, sizeof o);
	o.chart = opt_str(L, 1, "chart", a);
	o.release = opt_str(L, 1, "release", a);
	o.name_template = opt_str(L, 1, "name_template", a);
	o.generate_name = kd_lua_opt_bool(L, 1, "generate_name", 0);
	o.ns = opt_str(L, 1, "namespace", a);
	o.kube_version = opt_str(L, 1, "kube_version", a);
	o.api_versions = strs(L, 1, "api_versions", a);
	o.show_only = strs(L, 1, "show_only", a);
	o.values_files = strs(L, 1, "values_files", a);
	lua_getfield(L, 1, "set");
	if (!lua_isnil(L, -1)) {
		luaL_argexpected(L, lua_istable(L, -1), 1, "set to be a table");
		for (k = 0; k < KD_CHART_LAYER_N; k++)
			o.set[k] = strs(L, 3, layers[k], a);
	}
	lua_pop(L, 1);
	o.is_upgrade = kd_lua_opt_bool(L, 1, "is_upgrade", 0);
	o.include_crds = kd_lua_opt_bool(L, 1, "include_crds", 0);
	o.skip_crds = kd_lua_opt_bool(L, 1, "skip_crds", 0);
	o.skip_tests = kd_lua_opt_bool(L, 1, "skip_tests", 0);
	o.no_hooks = kd_lua_opt_bool(L, 1, "no_hooks", 0);
	if (kd_chart_template_check(&o, &err))
		return push_template_err(L, "usage", &err);
	rc = kd_chart_template(&o, &out, &err);
	kd_arena_free(a);
	if (rc) {
		kd_buf_free(&out);
		return push_template_err(L, "render", &err);
	}
	lua_pushlstring(L, out.ptr, out.len);
	kd_buf_free(&out);
	return 1;
}

/* merge_values{layer, ...} -> merged: kd_chart_values_layers over Lua
 * tables (the pass's bundle values, targetValues, site values). A new
 * table; the layers are not changed. */
static int chart_merge_values(lua_State *L)
{
	kd_err err = KD_ERR_INIT;
	kd_value **layers, *v;
	kd_arena *a;
	size_t n, i;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	n = lua_rawlen(L, 1);
	a = kd_lua_push_arena(L, KD_LIMIT_ARENA_BYTES);
	layers = kd_arena_alloc(a, (n + 1) * sizeof *layers);
	if (!layers)
		return luaL_error(L, "out of memory");
	for (i = 0; i < n; i++) {
		lua_rawgeti(L, 1, (lua_Integer)i + 1);
		if (lua_isnil(L, -1))
			return luaL_error(L, "values layer %d is nil", (int)i + 1);
		if (kd_lua_to_value(L, -1, a, &layers[i], &err))
			return luaL_error(L, "values layer %d: %s", (int)i + 1, err.msg);
		lua_pop(L, 1);
	}
	if (kd_chart_values_layers(&v, a, layers, n, &err))
		return luaL_error(L, "%s", err.msg);
	kd_lua_push_value(L, v);
	kd_arena_free(a);
	return 1;
}

int kd_lua_open_chart(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"load", chart_load},
		{"load_tgz", chart_load_tgz},
		{"helm_template", chart_helm_template},
		{"merge_values", chart_merge_values},
		{NULL, NULL},
	};
	static const luaL_Reg methods[] = {
		{"name", chart_name},
		{"version", chart_version},
		{"info", chart_info},
		{"add_subchart", chart_add_subchart},
		{"render", chart_render},
		{"template", chart_template},
		{"close", chart_gc},
		{NULL, NULL},
	};
	int k;

	if (luaL_newmetatable(L, CHART_MT)) {
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, chart_gc);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, chart_gc);
		lua_setfield(L, -2, "__close");
	}
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	lua_pushstring(L, KD_CHART_DEFAULT_KUBE_VERSION);
	lua_setfield(L, -2, "DEFAULT_KUBE_VERSION");
	lua_newtable(L);
	for (k = 0; kd_chart_install_order[k]; k++) {
		lua_pushstring(L, kd_chart_install_order[k]);
		lua_rawseti(L, -2, (lua_Integer)k + 1);
	}
	kd_lua_set_list(L, -1);
	lua_setfield(L, -2, "INSTALL_ORDER");
	return 1;
}
