/* Sprig's reflection: kindOf, typeOf, kindIs, typeIs, typeIsLike and
 * deepEqual, in Go's names for the kinds and types of values. */
#include "sprig/internal.h"

#include <string.h>

/* Go's names of Sprig's objects: a *semver.Version, a time.Time */
static const char *type_name(kd_tmpl_ex *x, const kd_value *v)
{
	switch (kd_sprig_obj_kind(x, v)) {
	case KD_SPRIG_OBJ_SEMVER: return "*semver.Version";
	case KD_SPRIG_OBJ_TIME: return "time.Time";
	default: return kd_tmpl_type_name(v);
	}
}

static const char *kind_name(kd_tmpl_ex *x, const kd_value *v)
{
	if (kd_sprig_isnil(v))
		return "invalid";
	switch (kd_sprig_obj_kind(x, v)) {
	case KD_SPRIG_OBJ_SEMVER: return "ptr";
	case KD_SPRIG_OBJ_TIME: return "struct";
	default: break;
	}
	switch (v->type) {
	case KD_LIST: return "slice";
	case KD_MAP: return "map";
	default: return kd_tmpl_type_name(v);
	}
}

FN(f_kindOf) { (void)argc; const char *k = kind_name(x, argv[0]); return kd_tmpl_str(x, k, strlen(k)); }
FN(f_typeOf) { (void)argc; const char *k = type_name(x, argv[0]); return kd_tmpl_str(x, k, strlen(k)); }
FN(f_kindIs) { (void)argc; return kd_tmpl_mk_bool(x, !strcmp(argv[0]->u.str.ptr, kind_name(x, argv[1]))); }
FN(f_typeIs) { (void)argc; return kd_tmpl_mk_bool(x, !strcmp(argv[0]->u.str.ptr, type_name(x, argv[1]))); }

FN(f_typeIsLike)
{
	const char *t = type_name(x, argv[1]);
	const char *w = argv[0]->u.str.ptr;

	(void)argc;
	return kd_tmpl_mk_bool(x, !strcmp(w, t) || (t[0] == '*' && !strcmp(w, t + 1)));
}

/* reflect.DeepEqual: the same Go type (chartutil.Values is not a plain
 * map, int64 is not float64), then the same contents. */
FN(f_deepEqual)
{
	(void)argc;
	if (kd_sprig_isnil(argv[0]) || kd_sprig_isnil(argv[1]))
		return kd_tmpl_mk_bool(x, kd_sprig_isnil(argv[0]) && kd_sprig_isnil(argv[1]));
	return kd_tmpl_mk_bool(x, !strcmp(type_name(x, argv[0]), type_name(x, argv[1])) &&
				      kd_value_equal(argv[0], argv[1]));
}

static const kd_tmpl_func types_funcs[] = {
	{"kindOf", f_kindOf, "a", false, false},
	{"typeOf", f_typeOf, "a", false, false},
	{"kindIs", f_kindIs, "sa", false, false},
	{"typeIs", f_typeIs, "sa", false, false},
	{"typeIsLike", f_typeIsLike, "sa", false, false},
	{"deepEqual", f_deepEqual, "aa", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_types(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, types_funcs);
}
