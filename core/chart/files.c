/* Helm's objects with methods: a chart's .Files (Get, GetBytes, Glob,
 * Lines, AsConfig, AsSecrets), .Capabilities.APIVersions.Has, and the
 * top-level object's structs (.Chart, .Capabilities, KubeVersion). */
#include "chart/files.h"
#include "chart/funcs.h"
#include "sprig/sprig.h"
#include "tmpl/internal.h"

#include <stdbool.h>
#include <string.h>

enum { KD_CHART_OBJ_FILES = KD_TMPL_OBJ_HOST + 8, KD_CHART_OBJ_STRINGER };

/* gobwas/glob with '/' as separator: ** crosses it, * and ? do not */
static bool glob_match(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (p[0] == '*' && p[1] == '*') {
			p += 2;
			for (;; s++) {
				if (glob_match(p, s))
					return true;
				if (!*s)
					return false;
			}
		}
		if (*p == '*') {
			p++;
			for (;; s++) {
				if (glob_match(p, s))
					return true;
				if (!*s || *s == '/')
					return false;
			}
		}
		if (!*s)
			return false;
		if (*p == '?') {
			if (*s == '/')
				return false;
			continue;
		}
		if (*p != *s)
			return false;
	}
	return !*s;
}

static kd_value *files_config(kd_tmpl_ex *x, const kd_value *f, bool b64)
{
	kd_value *m = kd_value_map(x->a, f->u.map.len);
	size_t i;

	if (!m)
		kd_tmpl_errorf(x, "out of memory");
	for (i = 0; i < f->u.map.len; i++) {
		const char *k = f->u.map.ents[i].key, *sl = strrchr(k, '/');
		const kd_value *v = f->u.map.ents[i].val;
		kd_value *val = (kd_value *)v;

		if (b64)
			val = kd_sprig_b64enc(x, (kd_value *)v);
		sl = sl ? sl + 1 : k;
		if (kd_map_setz(x->a, m, sl, val))
			kd_tmpl_errorf(x, "out of memory");
	}
	return kd_sprig_to_yaml(x, m);
}

static kd_value *files_method(kd_tmpl_ex *x, kd_value *recv, int kind,
			      const char *name, const kd_tmpl_margs *m,
			      bool *handled)
{
	kd_value *argv[4];
	int argc = 0, i, n;
	static const char *const meths[] = {"Get", "GetBytes", "Glob", "Lines",
					"AsConfig", "AsSecrets"};

	if (recv->type == KD_LIST && !strcmp(name, "Has") &&
	    kd_tmpl_margs_count(m) > 0) {
		/* .Capabilities.APIVersions.Has */
		kd_value *a = kd_tmpl_margs_get(x, m, 0, 's');
		size_t k;

		*handled = true;
		x->at = m->node;
		if (!a || a->type != KD_STR)
			kd_tmpl_errorf(x, "wrong type for value; expected string");
		for (k = 0; k < recv->u.list.len; k++)
			if (kd_value_equal(recv->u.list.items[k], a))
				return kd_value_bool(x->a, true);
		return kd_value_bool(x->a, false);
	}
	if (kind != KD_CHART_OBJ_FILES)
		return NULL;
	for (i = 0; i < 6; i++)
		if (!strcmp(name, meths[i]))
			break;
	if (i == 6)
		return NULL;
	for (n = kd_tmpl_margs_count(m); argc < n && argc < 3; argc++)
		argv[argc] = kd_tmpl_margs_get(x, m, argc, 's');
	x->at = m->node;
	*handled = true;
	if (i >= 4) {
		if (argc != 0)
			kd_tmpl_errorf(x, "wrong number of args for %s: want 0 got %d",
				       name, argc);
		return files_config(x, recv, i == 5);
	}
	if (argc != 1)
		kd_tmpl_errorf(x, "wrong number of args for %s: want 1 got %d",
			       name, argc);
	if (!argv[0] || argv[0]->type != KD_STR)
		kd_tmpl_errorf(x, "wrong type for value; expected string");
	if (i == 2) {
		kd_value *r = kd_value_map(x->a, 4);
		size_t k;

		if (!r)
			kd_tmpl_errorf(x, "out of memory");
		for (k = 0; k < recv->u.map.len; k++)
			if (glob_match(argv[0]->u.str.ptr, recv->u.map.ents[k].key) &&
			    kd_map_set(x->a, r, recv->u.map.ents[k].key,
				       recv->u.map.ents[k].klen,
				       recv->u.map.ents[k].val))
				kd_tmpl_errorf(x, "out of memory");
		kd_tmpl_add_obj(x, r, KD_CHART_OBJ_FILES);
		return r;
	}
	{
		kd_value *v = kd_map_get(recv, argv[0]->u.str.ptr, argv[0]->u.str.len);
		kd_value *l;
		size_t s = 0, k, len;

		if (i == 0)
			return v && v->type == KD_STR ? v : kd_tmpl_str(x, "", 0);
		l = kd_value_list(x->a, 4);
		if (!l)
			kd_tmpl_errorf(x, "out of memory");
		if (!v || v->type != KD_STR)
			return l;
		len = v->u.str.len;
		if (i == 1) {
			for (k = 0; k < len; k++) {
				kd_value *b = kd_value_int(x->a, (unsigned char)v->u.str.ptr[k]);

				if (!b || kd_list_push(x->a, l, b))
					kd_tmpl_errorf(x, "out of memory");
			}
			return l;
		}
		if (len && v->u.str.ptr[len - 1] == '\n')
			len--;
		for (k = 0; k <= len; k++)
			if (k == len || v->u.str.ptr[k] == '\n') {
				if (kd_list_push(x->a, l, kd_tmpl_str(x, v->u.str.ptr + s, k - s)))
					kd_tmpl_errorf(x, "out of memory");
				s = k + 1;
			}
		return l;
	}
}

/* Every chart's .Files is a Files object, also when a template reaches
 * a subchart's through .Subcharts. */
static void add_chart_files(kd_tmpl_ex *x, const kd_value *top, int depth)
{
	const kd_value *f = kd_map_getz(top, "Files");
	const kd_value *subs = kd_map_getz(top, "Subcharts");
	size_t i;

	if (f && f->type == KD_MAP && kd_tmpl_obj_kind(x, f) != KD_CHART_OBJ_FILES)
		kd_tmpl_add_obj(x, f, KD_CHART_OBJ_FILES);
	if (!subs || subs->type != KD_MAP || depth > 32)
		return;
	for (i = 0; i < subs->u.map.len; i++)
		if (subs->u.map.ents[i].val->type == KD_MAP)
			add_chart_files(x, subs->u.map.ents[i].val, depth + 1);
}

static void prepare(kd_tmpl_ex *x, const kd_value *root)
{
	const kd_value *c;

	if (!root || root->type != KD_MAP || !kd_map_getz(root, "Values"))
		return;
	/* Helm's top-level object: .Chart and .Capabilities are Go
	 * structs, where an unknown field is an error */
	c = kd_map_getz(root, "Chart");
	if (c && c->type == KD_MAP)
		kd_tmpl_add_obj(x, c, KD_TMPL_OBJ_STRUCT);
	c = kd_map_getz(root, "Capabilities");
	if (c && c->type == KD_MAP) {
		const kd_value *kv = kd_map_getz(c, "KubeVersion");

		kd_tmpl_add_obj(x, c, KD_TMPL_OBJ_STRUCT);
		/* KubeVersion prints as its Version (a Stringer) */
		if (kv && kv->type == KD_MAP && kd_map_getz(kv, "Version"))
			kd_tmpl_add_obj(x, kv, KD_CHART_OBJ_STRINGER);
	}
	add_chart_files(x, root, 0);
}

static bool print_stringer(kd_tmpl_ex *x, kd_buf *b, const kd_value *v,
			   int kind)
{
	if (kind != KD_CHART_OBJ_STRINGER)
		return false;
	kd_tmpl_fmt_v(x, b, kd_map_getz(v, "Version"));
	return true;
}

void kd_chart_set_files(kd_tmpl *t, const kd_value *files)
{
	kd_tmpl_set_object(t, files, KD_CHART_OBJ_FILES);
}

void kd_chart_register_files(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add_methods(fs, files_method);
	kd_tmpl_funcs_add_printer(fs, print_stringer);
	kd_tmpl_funcs_add_prepare(fs, prepare);
}
