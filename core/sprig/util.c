/* The helpers the families of core/sprig share: pushing and setting
 * with nil for NULL, Go's nil and empty values, and Sprig's conversions
 * (cast.ToString, cast.ToInt64, cast.ToFloat64). This file calls no other
 * file of the folder, so that every family may call it. */
#include "sprig/internal.h"

#include "base/limits.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/random.h>

void kd_sprig_push(kd_tmpl_ex *x, kd_value *l, kd_value *v)
{
	kd_tmpl_note_write(x, l);
	if (kd_list_push(x->a, l, v ? v : &kd_tmpl_nil))
		kd_tmpl_errorf(x, "out of memory");
}

void kd_sprig_set(kd_tmpl_ex *x, kd_value *m, const char *k, size_t n,
		  kd_value *v)
{
	kd_tmpl_note_write(x, m);
	if (kd_map_set(x->a, m, k, n, v ? v : &kd_tmpl_nil))
		kd_tmpl_errorf(x, "out of memory");
}

bool kd_sprig_isnil(const kd_value *v)
{
	return !v || v->type == KD_NULL;
}

int kd_sprig_obj_kind(kd_tmpl_ex *x, const kd_value *v)
{
	int kind;

	if (!v || v->type != KD_MAP ||
	    !(kd_map_getz(v, "Original") || kd_map_getz(v, "unix")))
		return 0;
	kind = kd_tmpl_obj_kind(x, v);
	return kind == KD_SPRIG_OBJ_SEMVER || kind == KD_SPRIG_OBJ_TIME ? kind : 0;
}

void kd_sprig_strval(kd_tmpl_ex *x, kd_buf *b, const kd_value *v)
{
	if (v && v->type == KD_STR)
		kd_buf_put(b, v->u.str.ptr, v->u.str.len);
	else
		kd_tmpl_fmt_v(x, b, v ? v : &kd_tmpl_nil);
}

kd_value *kd_sprig_str(kd_tmpl_ex *x, const kd_value *v)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	if (v && v->type == KD_STR)
		return (kd_value *)v;
	kd_sprig_strval(x, &b, v);
	return kd_tmpl_buf_value(x, &b);
}

int64_t kd_sprig_parse_int(const char *s, bool *ok)
{
	char *e;
	long long r;

	*ok = false;
	if (!*s)
		return 0;
	r = strtoll(s, &e, 0);
	if (*e)
		return 0;
	*ok = true;
	return r;
}

int64_t kd_sprig_int64(const kd_value *v)
{
	bool ok;

	if (kd_sprig_isnil(v))
		return 0;
	switch (v->type) {
	case KD_INT: return v->u.i;
	case KD_FLOAT:
		if (isnan(v->u.f))
			return INT64_MIN;
		if (v->u.f >= 9.3e18 || v->u.f <= -9.3e18)
			return INT64_MIN;
		return (int64_t)v->u.f;
	case KD_BOOL: return v->u.b;
	case KD_STR: return kd_sprig_parse_int(v->u.str.ptr, &ok);
	default: return 0;
	}
}

double kd_sprig_float64(const kd_value *v)
{
	if (kd_sprig_isnil(v))
		return 0;
	switch (v->type) {
	case KD_INT: return (double)v->u.i;
	case KD_FLOAT: return v->u.f;
	case KD_BOOL: return v->u.b;
	case KD_STR: {
		char *e;
		double d = strtod(v->u.str.ptr, &e);

		return *e || !v->u.str.len ? 0 : d;
	}
	default: return 0;
	}
}

bool kd_sprig_empty(const kd_value *v)
{
	if (kd_sprig_isnil(v))
		return true;
	switch (v->type) {
	case KD_BOOL: return !v->u.b;
	case KD_INT: return v->u.i == 0;
	case KD_FLOAT: return v->u.f == 0;
	case KD_STR: return v->u.str.len == 0;
	case KD_LIST: return v->u.list.len == 0;
	case KD_MAP: return v->u.map.len == 0;
	default: return true;
	}
}

kd_value *kd_sprig_strslice(kd_tmpl_ex *x, kd_value *v)
{
	kd_value *r;
	size_t i;

	if (kd_sprig_isnil(v))
		return kd_tmpl_mk_list(x, 0);
	if (v->type != KD_LIST) {
		r = kd_tmpl_mk_list(x, 1);
		kd_sprig_push(x, r, kd_sprig_str(x, v));
		return r;
	}
	r = kd_tmpl_mk_list(x, v->u.list.len);
	for (i = 0; i < v->u.list.len; i++)
		if (!kd_sprig_isnil(v->u.list.items[i]))
			kd_sprig_push(x, r, kd_sprig_str(x, v->u.list.items[i]));
	return r;
}

/* the kernel's CSPRNG (Sprig uses crypto/rand) */
int kd_sprig_fill_random(unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
