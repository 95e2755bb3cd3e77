/* Sprig's integer and float arithmetic, and its integer sequences (seq,
 * until, untilStep). */
#include "sprig/internal.h"

#include "base/limits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* arithmetic: Sprig converts with cast.ToInt64; Go's int64 arithmetic
 * wraps on overflow, which in C only unsigned arithmetic does */
static int64_t wrap_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t wrap_sub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static int64_t wrap_mul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }

FN(f_add)
{
	int64_t s = 0;
	int i;

	for (i = 0; i < argc; i++)
		s = wrap_add(s, kd_sprig_int64(argv[i]));
	return kd_tmpl_mk_int(x, s);
}
FN(f_add1) { (void)argc; return kd_tmpl_mk_int(x, wrap_add(kd_sprig_int64(argv[0]), 1)); }
FN(f_sub) { (void)argc; return kd_tmpl_mk_int(x, wrap_sub(kd_sprig_int64(argv[0]), kd_sprig_int64(argv[1]))); }
FN(f_mul)
{
	int64_t s = kd_sprig_int64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		s = wrap_mul(s, kd_sprig_int64(argv[i]));
	return kd_tmpl_mk_int(x, s);
}
FN(f_div)
{
	int64_t b = kd_sprig_int64(argv[1]);

	(void)argc;
	if (b == 0)
		kd_tmpl_fail(x, 0, "runtime error: integer divide by zero");
	/* Go: the most negative int64 / -1 is itself (it overflows) */
	if (b == -1)
		return kd_tmpl_mk_int(x, wrap_sub(0, kd_sprig_int64(argv[0])));
	return kd_tmpl_mk_int(x, kd_sprig_int64(argv[0]) / b);
}
FN(f_mod)
{
	int64_t b = kd_sprig_int64(argv[1]);

	(void)argc;
	if (b == 0)
		kd_tmpl_fail(x, 0, "runtime error: integer divide by zero");
	if (b == -1)
		return kd_tmpl_mk_int(x, 0);
	return kd_tmpl_mk_int(x, kd_sprig_int64(argv[0]) % b);
}
FN(f_max)
{
	int64_t m = kd_sprig_int64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		if (kd_sprig_int64(argv[i]) > m)
			m = kd_sprig_int64(argv[i]);
	return kd_tmpl_mk_int(x, m);
}
FN(f_min)
{
	int64_t m = kd_sprig_int64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		if (kd_sprig_int64(argv[i]) < m)
			m = kd_sprig_int64(argv[i]);
	return kd_tmpl_mk_int(x, m);
}
FN(f_ceil) { (void)argc; return kd_tmpl_mk_float(x, ceil(kd_sprig_float64(argv[0]))); }
FN(f_floor) { (void)argc; return kd_tmpl_mk_float(x, floor(kd_sprig_float64(argv[0]))); }

/* seq's numbers as one string; false past KD_LIMIT_TMPL_SEQ_ITEMS, which
 * the caller reports (a silently shorter list would differ from Helm). */
static bool put_int_list_str(kd_buf *b, int64_t start, int64_t stop,
			     int64_t step)
{
	int64_t i, n = 0;

	if (stop < start) {
		if (step >= 0)
			return true;
		for (i = start; i > stop; i = wrap_add(i, step), n++) {
			if (n >= KD_LIMIT_TMPL_SEQ_ITEMS)
				return false;
			kd_buf_printf(b, "%s%lld", n ? " " : "", (long long)i);
		}
		return true;
	}
	if (step <= 0)
		return true;
	for (i = start; i < stop; i = wrap_add(i, step), n++) {
		if (n >= KD_LIMIT_TMPL_SEQ_ITEMS)
			return false;
		kd_buf_printf(b, "%s%lld", n ? " " : "", (long long)i);
	}
	return true;
}

FN(f_seq)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	int64_t inc = 1, st, en, step;
	bool ok = true;

	switch (argc) {
	case 1:
		st = 1;
		en = argv[0]->u.i;
		if (en < st)
			inc = -1;
		ok = put_int_list_str(&b, st, wrap_add(en, inc), inc);
		break;
	case 2:
		st = argv[0]->u.i;
		en = argv[1]->u.i;
		step = en < st ? -1 : 1;
		ok = put_int_list_str(&b, st, wrap_add(en, step), step);
		break;
	case 3:
		st = argv[0]->u.i;
		en = argv[2]->u.i;
		step = argv[1]->u.i;
		if (en < st) {
			inc = -1;
			if (step > 0)
				break;
		}
		ok = put_int_list_str(&b, st, wrap_add(en, inc), step);
		break;
	}
	if (!ok) {
		kd_buf_free(&b);
		kd_tmpl_fail(x, KD_ELIMIT, "seq: more than %u numbers (KD_LIMIT_TMPL_SEQ_ITEMS)",
			     KD_LIMIT_TMPL_SEQ_ITEMS);
	}
	return kd_tmpl_buf_value(x, &b);
}

static kd_value *until_step(kd_tmpl_ex *x, int64_t start, int64_t stop,
			    int64_t step)
{
	kd_value *l = kd_tmpl_mk_list(x, 4);
	int64_t i, n = 0;

	if (stop < start) {
		if (step >= 0)
			return l;
		for (i = start; i > stop; i = wrap_add(i, step))
			if (++n > KD_LIMIT_TMPL_SEQ_ITEMS)
				kd_tmpl_fail(x, KD_ELIMIT, "more than %u items (KD_LIMIT_TMPL_SEQ_ITEMS)",
					     KD_LIMIT_TMPL_SEQ_ITEMS);
			else
				kd_sprig_push(x, l, kd_tmpl_mk_int(x, i));
		return l;
	}
	if (step <= 0)
		return l;
	for (i = start; i < stop; i = wrap_add(i, step))
		if (++n > KD_LIMIT_TMPL_SEQ_ITEMS)
			kd_tmpl_fail(x, KD_ELIMIT, "more than %u items (KD_LIMIT_TMPL_SEQ_ITEMS)",
				     KD_LIMIT_TMPL_SEQ_ITEMS);
		else
			kd_sprig_push(x, l, kd_tmpl_mk_int(x, i));
	return l;
}

FN(f_until2)
{
	(void)argc;
	return until_step(x, 0, argv[0]->u.i, argv[0]->u.i < 0 ? -1 : 1);
}

FN(f_untilStep)
{
	(void)argc;
	return until_step(x, argv[0]->u.i, argv[1]->u.i, argv[2]->u.i);
}

/* float arithmetic: Sprig goes through decimal; rounding the double to
 * 15 significant digits gives the same results for ordinary inputs */
static double dec_round(double f)
{
	char t[64];

	if (!isfinite(f))
		return f;
	snprintf(t, sizeof t, "%.15g", f);
	return strtod(t, NULL);
}

FN(f_addf)
{
	double s = 0;
	int i;

	for (i = 0; i < argc; i++)
		s = dec_round(s + kd_sprig_float64(argv[i]));
	return kd_tmpl_mk_float(x, s);
}
FN(f_add1f) { (void)argc; return kd_tmpl_mk_float(x, dec_round(kd_sprig_float64(argv[0]) + 1)); }
FN(f_subf)
{
	double s = kd_sprig_float64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		s = dec_round(s - kd_sprig_float64(argv[i]));
	return kd_tmpl_mk_float(x, s);
}
FN(f_mulf)
{
	double s = kd_sprig_float64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		s = dec_round(s * kd_sprig_float64(argv[i]));
	return kd_tmpl_mk_float(x, s);
}
FN(f_divf)
{
	double s = kd_sprig_float64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		s = dec_round(s / kd_sprig_float64(argv[i]));
	return kd_tmpl_mk_float(x, s);
}
FN(f_maxf)
{
	double m = kd_sprig_float64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		m = fmax(m, kd_sprig_float64(argv[i]));
	return kd_tmpl_mk_float(x, m);
}
FN(f_minf)
{
	double m = kd_sprig_float64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		m = fmin(m, kd_sprig_float64(argv[i]));
	return kd_tmpl_mk_float(x, m);
}
FN(f_round)
{
	double f = kd_sprig_float64(argv[0]), p = pow(10, (double)kd_sprig_int64(argv[1]));
	double rh = argc > 2 ? kd_sprig_float64(argv[2]) : 0.5;
	double d = f * p, i = trunc(d);

	if (d - i >= rh)
		i += 1;
	return kd_tmpl_mk_float(x, i / p);
}

static const kd_tmpl_func math_funcs[] = {
	{"add", f_add, "a", true, false},
	{"add1", f_add1, "a", false, false},
	{"sub", f_sub, "aa", false, false},
	{"mul", f_mul, "aa", true, false},
	{"div", f_div, "aa", false, false},
	{"mod", f_mod, "aa", false, false},
	{"max", f_max, "aa", true, false},
	{"biggest", f_max, "aa", true, false},
	{"min", f_min, "aa", true, false},
	{"ceil", f_ceil, "a", false, false},
	{"floor", f_floor, "a", false, false},
	{"addf", f_addf, "a", true, false},
	{"add1f", f_add1f, "a", false, false},
	{"subf", f_subf, "aa", true, false},
	{"mulf", f_mulf, "aa", true, false},
	{"divf", f_divf, "aa", true, false},
	{"maxf", f_maxf, "aa", true, false},
	{"minf", f_minf, "aa", true, false},
	{"round", f_round, "aaa", true, false},
	{"seq", f_seq, "i", true, false},
	{"until", f_until2, "i", false, false},
	{"untilStep", f_untilStep, "iii", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_math(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, math_funcs);
}
