/* Sprig's defaults and truth tests: default, empty, coalesce, ternary,
 * all and any, on Go's idea of an empty value. */
#include "sprig/internal.h"

FN(f_default)
{
	if (argc < 2 || kd_sprig_empty(argv[1]))
		return argv[0];
	return argv[1];
}

FN(f_empty) { (void)argc; return kd_tmpl_mk_bool(x, kd_sprig_empty(argv[0])); }

FN(f_coalesce)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!kd_sprig_empty(argv[i]))
			return argv[i];
	(void)x;
	return &kd_tmpl_nil;
}

FN(f_ternary) { (void)argc; (void)x; return argv[2]->u.b ? argv[0] : argv[1]; }

FN(f_all)
{
	int i;

	for (i = 0; i < argc; i++)
		if (kd_sprig_empty(argv[i]))
			return kd_tmpl_mk_bool(x, false);
	return kd_tmpl_mk_bool(x, true);
}

FN(f_any)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!kd_sprig_empty(argv[i]))
			return kd_tmpl_mk_bool(x, true);
	return kd_tmpl_mk_bool(x, false);
}

static const kd_tmpl_func defaults_funcs[] = {
	{"default", f_default, "aa", true, false},
	{"empty", f_empty, "a", false, false},
	{"coalesce", f_coalesce, "a", true, false},
	{"ternary", f_ternary, "aab", false, false},
	{"all", f_all, "a", true, false},
	{"any", f_any, "a", true, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_defaults(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, defaults_funcs);
}
