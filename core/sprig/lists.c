/* Sprig's list functions: list, first, last, rest, initial, append,
 * prepend, concat, uniq, has, without, compact, reverse, sortAlpha, chunk
 * and slice; their must* forms fail the same way, as an error here. */
#include "sprig/internal.h"

#include <stdlib.h>

FN(f_slice)
{
	kd_value *l = argv[0], *r;
	int64_t s = 0, e, len;
	size_t i;

	if (kd_sprig_isnil(l))
		kd_tmpl_fail(x, 0, "runtime error: invalid memory address or nil pointer dereference");
	if (l->type != KD_LIST)
		kd_tmpl_fail(x, 0, "list should be type of slice or array but %s",
			     l->type == KD_STR ? "string" : l->type == KD_MAP ? "map" :
			     l->type == KD_INT ? "int" : l->type == KD_FLOAT ? "float64" :
			     "bool");
	len = (int64_t)l->u.list.len;
	if (len == 0)
		return &kd_tmpl_nil;
	e = len;
	if (argc > 1)
		s = kd_sprig_int64(argv[1]);
	if (argc > 2)
		e = kd_sprig_int64(argv[2]);
	if (s < 0 || e < s || e > len)
		kd_tmpl_fail(x, 0, "reflect.Value.Slice: slice index out of bounds");
	r = kd_tmpl_mk_list(x, (size_t)(e - s));
	for (i = (size_t)s; i < (size_t)e; i++)
		kd_sprig_push(x, r, l->u.list.items[i]);
	return r;
}

FN(f_list)
{
	kd_value *l = kd_tmpl_mk_list(x, (size_t)argc);
	int i;

	for (i = 0; i < argc; i++)
		kd_sprig_push(x, l, argv[i]);
	return l;
}

static const char *kind_word(const kd_value *v)
{
	switch (v->type) {
	case KD_LIST: return "slice";
	case KD_MAP: return "map";
	default: return kd_tmpl_type_name(v);
	}
}

static kd_value *need_list(kd_tmpl_ex *x, kd_value *v, const char *what)
{
	if (kd_sprig_isnil(v))
		kd_tmpl_fail(x, 0, "runtime error: invalid memory address or nil pointer dereference");
	if (v->type != KD_LIST)
		kd_tmpl_fail(x, 0, "Cannot %s on type %s", what, kind_word(v));
	return v;
}

FN(f_first)
{
	(void)argc;
	need_list(x, argv[0], "find first");
	if (!argv[0]->u.list.len)
		return &kd_tmpl_nil;
	return argv[0]->u.list.items[0];
}

FN(f_last)
{
	(void)argc;
	need_list(x, argv[0], "find last");
	if (!argv[0]->u.list.len)
		return &kd_tmpl_nil;
	return argv[0]->u.list.items[argv[0]->u.list.len - 1];
}

static kd_value *sub_list(kd_tmpl_ex *x, kd_value *l, size_t s, size_t e)
{
	kd_value *r = kd_tmpl_mk_list(x, e - s);

	for (; s < e; s++)
		kd_sprig_push(x, r, l->u.list.items[s]);
	return r;
}

FN(f_rest)
{
	(void)argc;
	need_list(x, argv[0], "find rest");
	if (!argv[0]->u.list.len)
		return kd_tmpl_mk_list(x, 0);
	return sub_list(x, argv[0], 1, argv[0]->u.list.len);
}

FN(f_initial)
{
	(void)argc;
	need_list(x, argv[0], "find initial");
	if (!argv[0]->u.list.len)
		return kd_tmpl_mk_list(x, 0);
	return sub_list(x, argv[0], 0, argv[0]->u.list.len - 1);
}

FN(f_append)
{
	kd_value *l = need_list(x, argv[0], "push"), *r;

	(void)argc;
	r = sub_list(x, l, 0, l->u.list.len);
	kd_sprig_push(x, r, argv[1]);
	return r;
}

FN(f_prepend)
{
	kd_value *l = need_list(x, argv[0], "prepend"), *r = kd_tmpl_mk_list(x, 4);
	size_t i;

	(void)argc;
	kd_sprig_push(x, r, argv[1]);
	for (i = 0; i < l->u.list.len; i++)
		kd_sprig_push(x, r, l->u.list.items[i]);
	return r;
}

FN(f_concat)
{
	kd_value *r = kd_tmpl_mk_list(x, 4);
	int i;
	size_t k;

	for (i = 0; i < argc; i++) {
		if (kd_sprig_isnil(argv[i]))
			continue;
		if (argv[i]->type != KD_LIST)
			kd_tmpl_fail(x, 0, "Cannot concat type %s as list",
				     kd_tmpl_type_name(argv[i]));
		for (k = 0; k < argv[i]->u.list.len; k++)
			kd_sprig_push(x, r, argv[i]->u.list.items[k]);
	}
	return r;
}

static bool in_list(const kd_value *l, size_t n, const kd_value *v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kd_value_equal(l->u.list.items[i], v))
			return true;
	return false;
}

FN(f_uniq)
{
	kd_value *l = need_list(x, argv[0], "find uniq"), *r = kd_tmpl_mk_list(x, 4);
	size_t i;

	(void)argc;
	for (i = 0; i < l->u.list.len; i++)
		if (!in_list(r, r->u.list.len, l->u.list.items[i]))
			kd_sprig_push(x, r, l->u.list.items[i]);
	return r;
}

FN(f_has)
{
	(void)argc;
	if (kd_sprig_isnil(argv[1]))
		return kd_tmpl_mk_bool(x, false);
	need_list(x, argv[1], "find has");
	return kd_tmpl_mk_bool(x, in_list(argv[1], argv[1]->u.list.len, argv[0]));
}

FN(f_without)
{
	kd_value *l = need_list(x, argv[0], "find without"), *r = kd_tmpl_mk_list(x, 4);
	size_t i;
	int k;

	for (i = 0; i < l->u.list.len; i++) {
		for (k = 1; k < argc; k++)
			if (kd_value_equal(l->u.list.items[i], argv[k]))
				break;
		if (k == argc)
			kd_sprig_push(x, r, l->u.list.items[i]);
	}
	return r;
}

FN(f_compact)
{
	kd_value *l = need_list(x, argv[0], "compact"), *r = kd_tmpl_mk_list(x, 4);
	size_t i;

	(void)argc;
	for (i = 0; i < l->u.list.len; i++)
		if (!kd_sprig_empty(l->u.list.items[i]))
			kd_sprig_push(x, r, l->u.list.items[i]);
	return r;
}

FN(f_reverse)
{
	kd_value *l = need_list(x, argv[0], "find reverse"), *r = kd_tmpl_mk_list(x, 4);
	size_t i;

	(void)argc;
	for (i = l->u.list.len; i > 0; i--)
		kd_sprig_push(x, r, l->u.list.items[i - 1]);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	const kd_value *x = *(const kd_value *const *)a;
	const kd_value *y = *(const kd_value *const *)b;

	return kd_bytes_cmp(x->u.str.ptr, x->u.str.len, y->u.str.ptr,
			    y->u.str.len);
}

FN(f_sortAlpha)
{
	kd_value *l;

	(void)argc;
	if (!kd_sprig_isnil(argv[0]) && argv[0]->type != KD_LIST) {
		l = kd_tmpl_mk_list(x, 1);
		kd_sprig_push(x, l, kd_sprig_str(x, argv[0]));
		return l;
	}
	l = kd_sprig_strslice(x, argv[0]);
	if (l->u.list.len)
		qsort(l->u.list.items, l->u.list.len, sizeof *l->u.list.items,
		      cmp_str);
	return l;
}

FN(f_chunk)
{
	kd_value *l = argv[1], *r, *c = NULL;
	int64_t size = argv[0]->u.i;
	size_t i;

	(void)argc;
	if (kd_sprig_isnil(l))
		kd_tmpl_fail(x, 0, "runtime error: invalid memory address or nil pointer dereference");
	if (l->type != KD_LIST)
		kd_tmpl_fail(x, 0, "Cannot chunk type %s", kind_word(l));
	if (size <= 0)
		kd_tmpl_fail(x, 0, "runtime error: integer divide by zero");
	r = kd_tmpl_mk_list(x, 4);
	for (i = 0; i < l->u.list.len; i++) {
		if (i % (size_t)size == 0) {
			c = kd_tmpl_mk_list(x, (size_t)size);
			kd_sprig_push(x, r, c);
		}
		kd_sprig_push(x, c, l->u.list.items[i]);
	}
	return r;
}

static const kd_tmpl_func lists_funcs[] = {
	{"list", f_list, "a", true, false},
	{"tuple", f_list, "a", true, false},
	{"slice", f_slice, "aa", true, false},
	{"first", f_first, "a", false, false},
	{"last", f_last, "a", false, false},
	{"rest", f_rest, "a", false, false},
	{"initial", f_initial, "a", false, false},
	{"append", f_append, "aa", false, false},
	{"push", f_append, "aa", false, false},
	{"prepend", f_prepend, "aa", false, false},
	{"concat", f_concat, "a", true, false},
	{"uniq", f_uniq, "a", false, false},
	{"has", f_has, "aa", false, false},
	{"without", f_without, "aa", true, false},
	{"compact", f_compact, "a", false, false},
	{"reverse", f_reverse, "a", false, false},
	{"sortAlpha", f_sortAlpha, "a", false, false},
	{"chunk", f_chunk, "ia", false, false},
	{"mustChunk", f_chunk, "ia", false, false},
	{"mustFirst", f_first, "a", false, false},
	{"mustLast", f_last, "a", false, false},
	{"mustRest", f_rest, "a", false, false},
	{"mustInitial", f_initial, "a", false, false},
	{"mustAppend", f_append, "aa", false, false},
	{"mustPush", f_append, "aa", false, false},
	{"mustPrepend", f_prepend, "aa", false, false},
	{"mustUniq", f_uniq, "a", false, false},
	{"mustWithout", f_without, "aa", true, false},
	{"mustHas", f_has, "aa", false, false},
	{"mustCompact", f_compact, "a", false, false},
	{"mustReverse", f_reverse, "a", false, false},
	{"mustSlice", f_slice, "aa", true, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_lists(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, lists_funcs);
}
