/* Sprig's semver and semverCompare, on kedge's one semver library
 * (core/semver: Masterminds/semver v3 rules, which Sprig uses). */
#include "sprig/internal.h"

#include "semver/semver.h"

#include <string.h>

/* Masterminds' NewVersion: lenient, and the empty string is invalid. */
static bool parse_version(kd_semver *v, const kd_value *s)
{
	return s->type == KD_STR && s->u.str.len > 0 &&
	       kd_semver_parse(v, s->u.str.ptr, s->u.str.len, 1, NULL) == 0;
}

static int semver_cmp(const kd_value *a, const kd_value *b)
{
	const kd_value *oa = kd_map_getz(a, "Original");
	const kd_value *ob = kd_map_getz(b, "Original");
	kd_semver x, y;

	if (!oa || !ob || !parse_version(&x, oa) || !parse_version(&y, ob))
		return 0;
	return kd_semver_cmp(&x, &y);
}

FN(f_semver)
{
	kd_value *m;
	kd_semver v;

	(void)argc;
	if (!parse_version(&v, argv[0]))
		kd_tmpl_fail(x, 0, "Invalid Semantic Version");
	m = kd_value_map(x->a, 6);
	if (!m ||
	    kd_map_setz(x->a, m, "Major", kd_value_int(x->a, (int64_t)v.major)) ||
	    kd_map_setz(x->a, m, "Minor", kd_value_int(x->a, (int64_t)v.minor)) ||
	    kd_map_setz(x->a, m, "Patch", kd_value_int(x->a, (int64_t)v.patch)) ||
	    kd_map_setz(x->a, m, "Prerelease",
			kd_value_str(x->a, v.pre ? v.pre : "", v.pre_len)) ||
	    kd_map_setz(x->a, m, "Metadata",
			kd_value_str(x->a, v.build ? v.build : "", v.build_len)) ||
	    kd_map_setz(x->a, m, "Original", argv[0]))
		kd_tmpl_errorf(x, "out of memory");
	kd_tmpl_add_obj(x, m, KD_SPRIG_OBJ_SEMVER);
	return m;
}

/* Sprig parses the constraint first, then the version. */
FN(f_semverCompare)
{
	kd_semver_range *r;
	kd_semver v;
	kd_value *b;

	(void)argc;
	if (kd_semver_range_parse(&r, x->a, argv[0]->u.str.ptr,
				  argv[0]->u.str.len, NULL))
		kd_tmpl_fail(x, 0, "improper constraint: %s", argv[0]->u.str.ptr);
	if (!parse_version(&v, argv[1]))
		kd_tmpl_fail(x, 0, "Invalid Semantic Version");
	b = kd_value_bool(x->a, kd_semver_range_match(r, &v));
	if (!b)
		kd_tmpl_errorf(x, "out of memory");
	return b;
}

/* A version's Compare method (Masterminds/semver's *Version). */
static kd_value *semver_method(kd_tmpl_ex *x, kd_value *recv, int kind,
			       const char *name, const kd_tmpl_margs *m,
			       bool *handled)
{
	kd_value *o;

	if (kind != KD_SPRIG_OBJ_SEMVER || strcmp(name, "Compare"))
		return NULL;
	o = kd_tmpl_margs_get(x, m, 0, 'a');
	*handled = true;
	x->at = m->node;
	if (!o || kd_tmpl_obj_kind(x, o) != KD_SPRIG_OBJ_SEMVER)
		kd_tmpl_errorf(x, "wrong type for value; expected *semver.Version");
	return kd_value_int(x->a, semver_cmp(recv, o));
}

/* Masterminds' Version.String: the parts, not the text parsed ("v1.2"
 * prints 1.2.0); it is also what the version's MarshalJSON gives. */
void kd_sprig_semver_string(kd_buf *b, const kd_value *v)
{
	const kd_value *pre = kd_map_getz(v, "Prerelease");
	const kd_value *meta = kd_map_getz(v, "Metadata");

	kd_buf_printf(b, "%lld.%lld.%lld", (long long)kd_map_getz(v, "Major")->u.i,
		      (long long)kd_map_getz(v, "Minor")->u.i,
		      (long long)kd_map_getz(v, "Patch")->u.i);
	if (pre->u.str.len) {
		kd_buf_putc(b, '-');
		kd_buf_put(b, pre->u.str.ptr, pre->u.str.len);
	}
	if (meta->u.str.len) {
		kd_buf_putc(b, '+');
		kd_buf_put(b, meta->u.str.ptr, meta->u.str.len);
	}
}

static bool semver_print(kd_tmpl_ex *x, kd_buf *b, const kd_value *v, int kind)
{
	(void)x;
	if (kind != KD_SPRIG_OBJ_SEMVER)
		return false;
	kd_sprig_semver_string(b, v);
	return true;
}

static const kd_tmpl_func semver_funcs[] = {
	{"semver", f_semver, "s", false, false},
	{"semverCompare", f_semverCompare, "ss", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_semver(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, semver_funcs);
	kd_tmpl_funcs_add_methods(fs, semver_method);
	kd_tmpl_funcs_add_printer(fs, semver_print);
}
