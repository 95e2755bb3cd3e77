/* Sprig's dict functions: dict, get, set, unset, hasKey, keys, values,
 * pick, omit, pluck, merge, mergeOverwrite, deepCopy and dig. */
#include "sprig/internal.h"

#include "base/limits.h"

FN(f_dict)
{
	kd_value *m = kd_tmpl_mk_map(x, (size_t)argc / 2 + 1);
	int i;

	for (i = 0; i < argc; i += 2) {
		kd_value *k = kd_sprig_str(x, argv[i]);

		kd_sprig_set(x, m, k->u.str.ptr, k->u.str.len,
		     i + 1 < argc ? argv[i + 1] : kd_tmpl_str(x, "", 0));
	}
	return m;
}

FN(f_get)
{
	kd_value *r;

	(void)argc;
	if (kd_sprig_isnil(argv[0]))
		return kd_tmpl_str(x, "", 0);
	r = kd_map_get(argv[0], argv[1]->u.str.ptr, argv[1]->u.str.len);
	return r ? r : kd_tmpl_str(x, "", 0);
}

FN(f_set)
{
	(void)argc;
	if (kd_sprig_isnil(argv[0]))
		kd_tmpl_fail(x, 0, "assignment to entry in nil map");
	kd_sprig_set(x, argv[0], argv[1]->u.str.ptr, argv[1]->u.str.len, argv[2]);
	return argv[0];
}

FN(f_unset)
{
	(void)argc;
	if (!kd_sprig_isnil(argv[0]))
		kd_map_del(x->a, argv[0], argv[1]->u.str.ptr, argv[1]->u.str.len);
	return argv[0];
}

FN(f_hasKey)
{
	(void)argc;
	return kd_tmpl_mk_bool(x, !kd_sprig_isnil(argv[0]) &&
			 kd_map_get(argv[0], argv[1]->u.str.ptr,
				    argv[1]->u.str.len) != NULL);
}

FN(f_keys)
{
	kd_value *l = kd_tmpl_mk_list(x, 4);
	int i;
	size_t k;

	for (i = 0; i < argc; i++)
		if (!kd_sprig_isnil(argv[i]))
			for (k = 0; k < argv[i]->u.map.len; k++)
				kd_sprig_push(x, l, kd_tmpl_str(x, argv[i]->u.map.ents[k].key,
							argv[i]->u.map.ents[k].klen));
	return l;
}

FN(f_values)
{
	kd_value *l = kd_tmpl_mk_list(x, 4);
	size_t k;

	(void)argc;
	if (!kd_sprig_isnil(argv[0]))
		for (k = 0; k < argv[0]->u.map.len; k++)
			kd_sprig_push(x, l, argv[0]->u.map.ents[k].val);
	return l;
}

FN(f_pick)
{
	kd_value *m = kd_tmpl_mk_map(x, 4), *v;
	int i;

	for (i = 1; i < argc; i++) {
		kd_value *k = kd_sprig_str(x, argv[i]);

		if (!kd_sprig_isnil(argv[0]) &&
		    (v = kd_map_get(argv[0], k->u.str.ptr, k->u.str.len)))
			kd_sprig_set(x, m, k->u.str.ptr, k->u.str.len, v);
	}
	return m;
}

FN(f_omit)
{
	kd_value *m = kd_tmpl_mk_map(x, 4);
	size_t k;
	int i;

	if (kd_sprig_isnil(argv[0]))
		return m;
	for (k = 0; k < argv[0]->u.map.len; k++) {
		const kd_map_ent *e = &argv[0]->u.map.ents[k];

		for (i = 1; i < argc; i++) {
			kd_value *s = kd_sprig_str(x, argv[i]);

			if (!kd_bytes_cmp(s->u.str.ptr, s->u.str.len, e->key, e->klen))
				break;
		}
		if (i == argc)
			kd_sprig_set(x, m, e->key, e->klen, e->val);
	}
	return m;
}

FN(f_pluck)
{
	kd_value *l = kd_tmpl_mk_list(x, 4), *v;
	int i;

	for (i = 1; i < argc; i++)
		if (!kd_sprig_isnil(argv[i]) &&
		    (v = kd_map_get(argv[i], argv[0]->u.str.ptr, argv[0]->u.str.len)))
			kd_sprig_push(x, l, v);
	return l;
}

static void merge_into(kd_tmpl_ex *x, kd_value *dst, const kd_value *src,
		       bool over, int depth)
{
	size_t k;

	if (depth > KD_LIMIT_DEPTH)
		kd_tmpl_fail(x, KD_ELIMIT, "merge nesting too deep");
	for (k = 0; k < src->u.map.len; k++) {
		const kd_map_ent *e = &src->u.map.ents[k];
		kd_value *d = kd_map_get(dst, e->key, e->klen);

		if (d && d->type == KD_MAP && e->val->type == KD_MAP) {
			merge_into(x, d, e->val, over, depth + 1);
			continue;
		}
		if (!d || kd_sprig_empty(d) || over)
			kd_sprig_set(x, dst, e->key, e->klen, e->val);
	}
}

static kd_value *do_merge(kd_tmpl_ex *x, kd_value **argv, int argc, bool over)
{
	int i;

	if (kd_sprig_isnil(argv[0]))
		return argv[0];
	for (i = 1; i < argc; i++)
		if (!kd_sprig_isnil(argv[i]))
			merge_into(x, argv[0], argv[i], over, 0);
	return argv[0];
}

FN(f_merge) { return do_merge(x, argv, argc, false); }
FN(f_mergeOverwrite) { return do_merge(x, argv, argc, true); }

FN(f_deepCopy)
{
	kd_value *r;

	(void)argc;
	if (kd_sprig_isnil(argv[0]))
		return &kd_tmpl_nil;
	r = kd_value_copy(x->a, argv[0]);
	if (!r)
		kd_tmpl_errorf(x, "out of memory");
	return r;
}

/* Helm's top-level object and its .Values are chartutil.Values, not
 * plain maps; a map a template put in their place (set $ "Values" ...)
 * is plain: what counts is the value held, not the field it is in. */
static bool is_values_obj(kd_tmpl_ex *x, const kd_value *v)
{
	return x->values && (v == x->values || v == x->root);
}

FN(f_dig)
{
	kd_value *d, *def, *cur;
	int i, nk;

	if (argc < 3)
		kd_tmpl_fail(x, 0, "dig needs at least three arguments");
	d = argv[argc - 1];
	def = argv[argc - 2];
	nk = argc - 2;
	if (kd_sprig_isnil(d) || d->type != KD_MAP || is_values_obj(x, d))
		kd_tmpl_fail(x, 0, "interface conversion: interface {} is %s, not map[string]interface {}",
			     kd_sprig_isnil(d) ? "nil" : is_values_obj(x, d) ? "chartutil.Values"
								   : kd_tmpl_type_name(d));
	for (i = 0; i < nk; i++)
		if (kd_sprig_isnil(argv[i]) || argv[i]->type != KD_STR)
			kd_tmpl_fail(x, 0, "interface conversion: interface {} is %s, not string",
				     kd_sprig_isnil(argv[i]) ? "nil" : kd_tmpl_type_name(argv[i]));
	cur = d;
	for (i = 0; i < nk; i++) {
		kd_value *step = kd_map_get(cur, argv[i]->u.str.ptr, argv[i]->u.str.len);

		if (!step)
			return def;
		if (i == nk - 1)
			return step;
		if (kd_sprig_isnil(step) || step->type != KD_MAP)
			kd_tmpl_fail(x, 0, "interface conversion: interface {} is %s, not map[string]interface {}",
				     kd_sprig_isnil(step) ? "nil" : kd_tmpl_type_name(step));
		cur = step;
	}
	return def;
}

static const kd_tmpl_func dicts_funcs[] = {
	{"dict", f_dict, "a", true, false},
	{"get", f_get, "ms", false, false},
	{"set", f_set, "msa", false, false},
	{"unset", f_unset, "ms", false, false},
	{"hasKey", f_hasKey, "ms", false, false},
	{"keys", f_keys, "m", true, false},
	{"values", f_values, "m", false, false},
	{"pick", f_pick, "ms", true, false},
	{"omit", f_omit, "ms", true, false},
	{"pluck", f_pluck, "sm", true, false},
	{"merge", f_merge, "mm", true, false},
	{"mergeOverwrite", f_mergeOverwrite, "mm", true, false},
	{"deepCopy", f_deepCopy, "a", false, false},
	{"dig", f_dig, "a", true, false},
	{"mustDeepCopy", f_deepCopy, "a", false, false},
	{"mustMerge", f_merge, "mm", true, false},
	{"mustMergeOverwrite", f_mergeOverwrite, "mm", true, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_dicts(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, dicts_funcs);
}
