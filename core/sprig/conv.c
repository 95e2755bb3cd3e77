/* Sprig's type conversions: toString, int, int64, float64, atoi,
 * toDecimal and toStrings, converting the way cast.ToInt64 and its kin
 * do. */
#include "sprig/internal.h"

#include <stdint.h>
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

/* toDecimal: the value printed (fmt.Sprint) read as an octal number, as
 * strconv.ParseInt(s, 8, 64) reads it (a file mode "0755" is 493); 0 when
 * it does not parse or overflows. */
FN(f_toDecimal)
{
	const kd_value *s = kd_sprig_str(x, argv[0]);
	const char *p;
	size_t i = 0, n;
	uint64_t r = 0, max;
	bool neg = false;

	(void)argc;
	if (!s)
		return NULL;
	p = s->u.str.ptr;
	n = s->u.str.len;
	if (n && (p[0] == '+' || p[0] == '-'))
		neg = p[i++] == '-';
	if (i == n)
		return kd_tmpl_mk_int(x, 0);
	max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '7' || r > (max - (uint64_t)(p[i] - '0')) / 8)
			return kd_tmpl_mk_int(x, 0);
		r = r * 8 + (uint64_t)(p[i] - '0');
	}
	return kd_tmpl_mk_int(x, neg ? (int64_t)(0 - r) : (int64_t)r);
}

FN(f_toStrings) { (void)argc; return kd_sprig_strslice(x, argv[0]); }

static const kd_tmpl_func conv_funcs[] = {
	{"toString", f_toString, "a", false, false},
	{"int", f_int64, "a", false, false},
	{"int64", f_int64, "a", false, false},
	{"float64", f_float64, "a", false, false},
	{"atoi", f_atoi, "s", false, false},
	{"toDecimal", f_toDecimal, "a", false, false},
	{"toStrings", f_toStrings, "a", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_conv(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, conv_funcs);
}
