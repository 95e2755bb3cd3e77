/* Sprig's type conversions: toString, int, int64, float64, atoi and
 * toStrings, converting the way cast.ToInt64 and its kin do. */
#include "sprig/internal.h"

#include <string.h>

FN(f_toString) { (void)argc; return kd_sprig_str(x, argv[0]); }
FN(f_int64) { (void)argc; return kd_tmpl_mk_int(x, kd_sprig_int64(argv[0])); }
FN(f_float64) { (void)argc; return kd_tmpl_mk_float(x, kd_sprig_float64(argv[0])); }
FN(f_atoi)
{
	bool ok;
	int64_t r;

	(void)argc;
	r = kd_sprig_parse_int(argv[0]->u.str.ptr, &ok);
	if (!ok) {
		/* strconv.Atoi: base 10 only */
		r = 0;
	}
	if (ok && (strchr(argv[0]->u.str.ptr, 'x') || strchr(argv[0]->u.str.ptr, 'X') ||
		   (argv[0]->u.str.ptr[0] == '0' && argv[0]->u.str.len > 1)))
		r = 0;
	return kd_tmpl_mk_int(x, r);
}

FN(f_toStrings) { (void)argc; return kd_sprig_strslice(x, argv[0]); }

static const kd_tmpl_func conv_funcs[] = {
	{"toString", f_toString, "a", false, false},
	{"int", f_int64, "a", false, false},
	{"int64", f_int64, "a", false, false},
	{"float64", f_float64, "a", false, false},
	{"atoi", f_atoi, "s", false, false},
	{"toStrings", f_toStrings, "a", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_conv(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, conv_funcs);
}
