/* kedge.tmpl: Go text/template rendering (Helm's dialect) for Lua.
 *
 *   tmpl.render(text, data [, opts]) -> output | nil, err
 *
 * opts: name (template name, default "template"), helpers (a table of
 * file name -> template text parsed first, like a chart's other
 * templates), files (file name -> content, for .Files), numbers
 * ("native" or "float": how Lua numbers in data arrive), lookup (a
 * function(apiVersion, kind, namespace, name) returning the object, or
 * nil, err; kedge.kube's client:lookup() makes one for a live cluster;
 * without it lookup returns an empty map as `helm template` does). A template error
 * returns nil and the message; wrong argument types raise. */
#include "lua/klua.h"

#include "base/limits.h"
#include "chart/funcs.h"
#include "tmpl/tmpl.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

typedef struct file_ent {
	const char *name, *text;
	size_t len;
} file_ent;

static int segments(const char *s)
{
	int n = 1;

	for (; *s; s++)
		n += *s == '/';
	return n;
}

static int cmp_files(const void *pa, const void *pb)
{
	const file_ent *a = pa, *b = pb;
	int sa = segments(a->name), sb = segments(b->name);

	if (sa != sb)
		return sb - sa;
	return -strcmp(a->name, b->name);
}

static int tmpl_render(lua_State *L)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	const char *name;
	kd_err err = KD_ERR_INIT;
	kd_buf out = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_value *data, *files = NULL;
	kd_tmpl *t = NULL;
	kd_chart_lookup lk = {kd_lua_opts_lookup, L};
	kd_arena *a;
	int rc, as_float;

	luaL_checkany(L, 2);
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	name = kd_lua_opt_string(L, 3, "name", "template");
	as_float = kd_lua_opt_numbers_as_float(L, 3);
	a = kd_lua_push_arena(L, KD_LIMIT_ARENA_BYTES);
	rc = kd_lua_to_value(L, 2, a, &data, &err);
	if (rc)
		return luaL_argerror(L, 2, err.msg);
	if (as_float)
		kd_lua_values_to_float(data);
	if (lua_istable(L, 3)) {
		lua_getfield(L, 3, "files");
		if (!lua_isnil(L, -1)) {
			rc = kd_lua_to_value(L, lua_gettop(L), a, &files, &err);
			if (rc || files->type != KD_MAP)
				return luaL_argerror(L, 3, "'files' must be a table of strings");
		}
		lua_pop(L, 1);
	}
	rc = kd_tmpl_new(&t, kd_chart_funcs(), &err);
	if (rc)
		goto done;
	if (files)
		kd_chart_set_files(t, files);
	if (lua_istable(L, 3)) {
		if (lua_getfield(L, 3, "lookup") == LUA_TFUNCTION)
			kd_chart_set_lookup(t, &lk);
		else if (!lua_isnil(L, -1))
			rc = kd_err_set(&err, KD_EINVAL, "option 'lookup' must be a function");
		lua_pop(L, 1);
		if (rc) {
			kd_tmpl_free(t);
			return luaL_argerror(L, 3, err.msg);
		}
	}
	if (files && data->type == KD_MAP)
		kd_map_setz(a, data, "Files", files);
	{
		/* Helm parses a chart's files deepest path first, then in
		 * reverse name order; a later definition replaces an earlier
		 * one, so that order decides which {{define}} wins. */
		kd_value *h = NULL;
		file_ent *fe;
		size_t nf = 1, i;

		if (lua_istable(L, 3)) {
			lua_getfield(L, 3, "helpers");
			if (lua_istable(L, -1)) {
				rc = kd_lua_to_value(L, lua_gettop(L), a, &h, &err);
				if (rc || h->type != KD_MAP) {
					kd_tmpl_free(t);
					return luaL_argerror(L, 3, "'helpers' must be a table of strings");
				}
				nf += h->u.map.len;
			}
			lua_pop(L, 1);
		}
		fe = kd_arena_alloc(a, nf * sizeof *fe);
		if (!fe) {
			rc = kd_err_set(&err, KD_ENOMEM, "out of memory");
			goto done;
		}
		fe[0].name = name;
		fe[0].text = text;
		fe[0].len = len;
		nf = 1;
		for (i = 0; h && i < h->u.map.len; i++) {
			const kd_value *s = h->u.map.ents[i].val;

			if (s->type != KD_STR)
				continue;
			fe[nf].name = h->u.map.ents[i].key;
			fe[nf].text = s->u.str.ptr;
			fe[nf].len = s->u.str.len;
			nf++;
		}
		qsort(fe, nf, sizeof *fe, cmp_files);
		for (i = 0; i < nf && !rc; i++)
			rc = kd_tmpl_parse(t, fe[i].name, fe[i].text, fe[i].len,
					   &err);
		if (rc)
			goto done;
	}
	rc = kd_tmpl_exec(t, name, data, &out, &err);
done:
	kd_tmpl_free(t);
	kd_arena_free(a);
	return kd_lua_return_buf(L, rc, &out, &err);
}

int kd_lua_open_tmpl(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"render", tmpl_render},
		{NULL, NULL},
	};

	luaL_newlib(L, funcs);
	return 1;
}
