/* Sprig v3.2.3's functions and Helm's that are not about charts, with
 * their conversions and error texts, and the table that registers them. */
/* memmem is a GNU extension; the product's build sets _GNU_SOURCE, the
 * fuzz and host test builds compile this file without it, where an implicit
 * declaration truncated memmem's pointer to an int. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sprig/internal.h"

#include "base/limits.h"
#include "base/num.h"
#include "json/json.h"
#include "yaml/yaml.h"

#include <errno.h>
#include <math.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>

#define FN(name) static kd_value *name(kd_tmpl_ex *x, kd_value **argv, int argc)

static void lpush(kd_tmpl_ex *x, kd_value *l, kd_value *v)
{
	if (kd_list_push(x->a, l, v ? v : &kd_tmpl_nil))
		kd_tmpl_errorf(x, "out of memory");
}

static void mset(kd_tmpl_ex *x, kd_value *m, const char *k, size_t n,
		 kd_value *v)
{
	if (kd_map_set(x->a, m, k, n, v ? v : &kd_tmpl_nil))
		kd_tmpl_errorf(x, "out of memory");
}

static bool isnil(const kd_value *v)
{
	return !v || v->type == KD_NULL;
}

static int64_t to_int64(const kd_value *v);

FN(f_slice)
{
	kd_value *l = argv[0], *r;
	int64_t s = 0, e, len;
	size_t i;

	if (isnil(l))
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
		s = to_int64(argv[1]);
	if (argc > 2)
		e = to_int64(argv[2]);
	if (s < 0 || e < s || e > len)
		kd_tmpl_fail(x, 0, "reflect.Value.Slice: slice index out of bounds");
	r = kd_tmpl_mk_list(x, (size_t)(e - s));
	for (i = (size_t)s; i < (size_t)e; i++)
		lpush(x, r, l->u.list.items[i]);
	return r;
}
/* ---- Sprig's conversions ---- */

static void strval(kd_buf *b, const kd_value *v)
{
	if (v && v->type == KD_STR)
		kd_buf_put(b, v->u.str.ptr, v->u.str.len);
	else
		kd_tmpl_fmt_v(b, v ? v : &kd_tmpl_nil);
}

static kd_value *strv(kd_tmpl_ex *x, const kd_value *v)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	if (v && v->type == KD_STR)
		return (kd_value *)v;
	strval(&b, v);
	return kd_tmpl_buf_value(x, &b);
}

static int64_t parse_int0(const char *s, bool *ok)
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

static int64_t to_int64(const kd_value *v)
{
	bool ok;

	if (isnil(v))
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
	case KD_STR: return parse_int0(v->u.str.ptr, &ok);
	default: return 0;
	}
}

static double to_float64(const kd_value *v)
{
	if (isnil(v))
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

static bool empty(const kd_value *v)
{
	if (isnil(v))
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

/* strslice: a list as strings, nils dropped */
static kd_value *strslice(kd_tmpl_ex *x, kd_value *v)
{
	kd_value *r;
	size_t i;

	if (isnil(v))
		return kd_tmpl_mk_list(x, 0);
	if (v->type != KD_LIST) {
		r = kd_tmpl_mk_list(x, 1);
		lpush(x, r, strv(x, v));
		return r;
	}
	r = kd_tmpl_mk_list(x, v->u.list.len);
	for (i = 0; i < v->u.list.len; i++)
		if (!isnil(v->u.list.items[i]))
			lpush(x, r, strv(x, v->u.list.items[i]));
	return r;
}

FN(f_toString) { (void)argc; return strv(x, argv[0]); }
FN(f_int64) { (void)argc; return kd_tmpl_mk_int(x, to_int64(argv[0])); }
FN(f_float64) { (void)argc; return kd_tmpl_mk_float(x, to_float64(argv[0])); }
FN(f_atoi)
{
	bool ok;
	int64_t r;

	(void)argc;
	r = parse_int0(argv[0]->u.str.ptr, &ok);
	if (!ok) {
		/* strconv.Atoi: base 10 only */
		r = 0;
	}
	if (ok && (strchr(argv[0]->u.str.ptr, 'x') || strchr(argv[0]->u.str.ptr, 'X') ||
		   (argv[0]->u.str.ptr[0] == '0' && argv[0]->u.str.len > 1)))
		r = 0;
	return kd_tmpl_mk_int(x, r);
}

FN(f_default)
{
	if (argc < 2 || empty(argv[1]))
		return argv[0];
	return argv[1];
}

FN(f_empty) { (void)argc; return kd_tmpl_mk_bool(x, empty(argv[0])); }

FN(f_coalesce)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!empty(argv[i]))
			return argv[i];
	(void)x;
	return &kd_tmpl_nil;
}

FN(f_ternary) { (void)argc; (void)x; return argv[2]->u.b ? argv[0] : argv[1]; }

FN(f_quote)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		kd_buf s = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

		if (isnil(argv[i]))
			continue;
		if (n++)
			kd_buf_putc(&b, ' ');
		strval(&s, argv[i]);
		kd_tmpl_quote(&b, s.ptr, s.len);
		kd_buf_free(&s);
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_squote)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		if (isnil(argv[i]))
			continue;
		if (n++)
			kd_buf_putc(&b, ' ');
		kd_buf_putc(&b, '\'');
		strval(&b, argv[i]);
		kd_buf_putc(&b, '\'');
	}
	return kd_tmpl_buf_value(x, &b);
}

static kd_value *do_indent(kd_tmpl_ex *x, int64_t n, const kd_value *s,
			   bool nl)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	size_t i;

	if (n < 0)
		n = 0;
	if (n > 100000)
		kd_tmpl_fail(x, KD_ELIMIT, "indent too large");
	if (nl)
		kd_buf_putc(&b, '\n');
	for (i = 0; i < (size_t)n; i++)
		kd_buf_putc(&b, ' ');
	for (i = 0; i < s->u.str.len; i++) {
		kd_buf_putc(&b, s->u.str.ptr[i]);
		if (s->u.str.ptr[i] == '\n')
			for (size_t k = 0; k < (size_t)n; k++)
				kd_buf_putc(&b, ' ');
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_indent) { (void)argc; return do_indent(x, argv[0]->u.i, argv[1], false); }
FN(f_nindent) { (void)argc; return do_indent(x, argv[0]->u.i, argv[1], true); }

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

FN(f_trim)
{
	const char *s = argv[0]->u.str.ptr;
	size_t a = 0, e = argv[0]->u.str.len;

	(void)argc;
	while (a < e && is_ws((unsigned char)s[a]))
		a++;
	while (e > a && is_ws((unsigned char)s[e - 1]))
		e--;
	return kd_tmpl_str(x, s + a, e - a);
}

FN(f_trimAll)
{
	const char *cut = argv[0]->u.str.ptr, *s = argv[1]->u.str.ptr;
	size_t a = 0, e = argv[1]->u.str.len, cn = argv[0]->u.str.len;

	(void)argc;
	while (a < e && memchr(cut, s[a], cn))
		a++;
	while (e > a && memchr(cut, s[e - 1], cn))
		e--;
	return kd_tmpl_str(x, s + a, e - a);
}

FN(f_trimPrefix)
{
	const kd_value *p = argv[0], *s = argv[1];

	(void)argc;
	if (s->u.str.len >= p->u.str.len &&
	    !memcmp(s->u.str.ptr, p->u.str.ptr, p->u.str.len))
		return kd_tmpl_str(x, s->u.str.ptr + p->u.str.len,
				   s->u.str.len - p->u.str.len);
	return argv[1];
}

FN(f_trimSuffix)
{
	const kd_value *p = argv[0], *s = argv[1];

	(void)argc;
	if (s->u.str.len >= p->u.str.len &&
	    !memcmp(s->u.str.ptr + s->u.str.len - p->u.str.len, p->u.str.ptr,
		    p->u.str.len))
		return kd_tmpl_str(x, s->u.str.ptr, s->u.str.len - p->u.str.len);
	return argv[1];
}

static kd_value *map_case(kd_tmpl_ex *x, const kd_value *s, int up)
{
	kd_value *r = kd_tmpl_str(x, s->u.str.ptr, s->u.str.len);
	char *p = (char *)r->u.str.ptr;
	size_t i;
	bool prev_letter = false;

	for (i = 0; i < r->u.str.len; i++) {
		char c = p[i];
		bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_' ||
			      (unsigned char)c >= 0x80 || c == '\'';

		if (up == 1 && c >= 'a' && c <= 'z')
			p[i] = (char)(c - 32);
		else if (up == 0 && c >= 'A' && c <= 'Z')
			p[i] = (char)(c + 32);
		else if (up == 2 && !prev_letter && c >= 'a' && c <= 'z')
			p[i] = (char)(c - 32);
		prev_letter = letter;
	}
	return r;
}

FN(f_upper) { (void)argc; return map_case(x, argv[0], 1); }
FN(f_lower) { (void)argc; return map_case(x, argv[0], 0); }
FN(f_title) { (void)argc; return map_case(x, argv[0], 2); }

static void replace_all(kd_buf *b, const kd_value *s, const kd_value *old,
			const kd_value *new_)
{
	size_t i = 0, n = s->u.str.len, on = old->u.str.len;

	if (on == 0) {
		/* Go inserts new before every rune and at the end */
		for (i = 0; i < n;) {
			kd_buf_put(b, new_->u.str.ptr, new_->u.str.len);
			do
				kd_buf_putc(b, s->u.str.ptr[i++]);
			while (i < n && ((unsigned char)s->u.str.ptr[i] & 0xc0) == 0x80);
		}
		kd_buf_put(b, new_->u.str.ptr, new_->u.str.len);
		return;
	}
	while (i < n) {
		if (i + on <= n && !memcmp(s->u.str.ptr + i, old->u.str.ptr, on)) {
			kd_buf_put(b, new_->u.str.ptr, new_->u.str.len);
			i += on;
		} else {
			kd_buf_putc(b, s->u.str.ptr[i++]);
		}
	}
}

FN(f_replace)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	(void)argc;
	replace_all(&b, argv[2], argv[0], argv[1]);
	return kd_tmpl_buf_value(x, &b);
}

static bool has_sub(const kd_value *s, const kd_value *sub)
{
	return sub->u.str.len == 0 ||
	       (s->u.str.len >= sub->u.str.len &&
		memmem(s->u.str.ptr, s->u.str.len, sub->u.str.ptr, sub->u.str.len));
}

FN(f_contains) { (void)argc; return kd_tmpl_mk_bool(x, has_sub(argv[1], argv[0])); }
FN(f_hasPrefix)
{
	(void)argc;
	return kd_tmpl_mk_bool(x, argv[1]->u.str.len >= argv[0]->u.str.len &&
			 !memcmp(argv[1]->u.str.ptr, argv[0]->u.str.ptr,
				 argv[0]->u.str.len));
}
FN(f_hasSuffix)
{
	(void)argc;
	return kd_tmpl_mk_bool(x, argv[1]->u.str.len >= argv[0]->u.str.len &&
			 !memcmp(argv[1]->u.str.ptr + argv[1]->u.str.len -
					 argv[0]->u.str.len,
				 argv[0]->u.str.ptr, argv[0]->u.str.len));
}

FN(f_repeat)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	int64_t i;

	(void)argc;
	if (argv[0]->u.i < 0)
		kd_tmpl_fail(x, 0, "strings: negative Repeat count");
	for (i = 0; i < argv[0]->u.i && !b.failed; i++)
		kd_buf_put(&b, argv[1]->u.str.ptr, argv[1]->u.str.len);
	return kd_tmpl_buf_value(x, &b);
}

FN(f_substr)
{
	int64_t s = argv[0]->u.i, e = argv[1]->u.i;
	int64_t n = (int64_t)argv[2]->u.str.len;

	(void)argc;
	if (s < 0)
		s = 0, e = e < 0 ? n : e;
	if (e < 0 || e > n)
		e = n;
	if (s > e)
		kd_tmpl_fail(x, 0, "runtime error: slice bounds out of range [%lld:%lld]",
			     (long long)s, (long long)e);
	return kd_tmpl_str(x, argv[2]->u.str.ptr + s, (size_t)(e - s));
}

FN(f_trunc)
{
	int64_t c = argv[0]->u.i, n = (int64_t)argv[1]->u.str.len;

	(void)argc;
	if (c < 0 && n + c > 0)
		return kd_tmpl_str(x, argv[1]->u.str.ptr + n + c, (size_t)-c);
	if (c >= 0 && n > c)
		return kd_tmpl_str(x, argv[1]->u.str.ptr, (size_t)c);
	return argv[1];
}

FN(f_nospace)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	size_t i;

	(void)argc;
	for (i = 0; i < argv[0]->u.str.len; i++)
		if (!is_ws((unsigned char)argv[0]->u.str.ptr[i]))
			kd_buf_putc(&b, argv[0]->u.str.ptr[i]);
	return kd_tmpl_buf_value(x, &b);
}

FN(f_cat)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		if (isnil(argv[i]))
			continue;
		if (n++)
			kd_buf_putc(&b, ' ');
		kd_tmpl_fmt_v(&b, argv[i]);
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_join)
{
	kd_value *l = strslice(x, argv[1]);
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	size_t i;

	(void)argc;
	for (i = 0; i < l->u.list.len; i++) {
		if (i)
			kd_buf_put(&b, argv[0]->u.str.ptr, argv[0]->u.str.len);
		kd_buf_put(&b, l->u.list.items[i]->u.str.ptr,
			   l->u.list.items[i]->u.str.len);
	}
	return kd_tmpl_buf_value(x, &b);
}

static kd_value *split_list(kd_tmpl_ex *x, const kd_value *sep,
			    const kd_value *s)
{
	kd_value *r = kd_tmpl_mk_list(x, 4);
	size_t i = 0, st = 0, n = s->u.str.len, sn = sep->u.str.len;

	if (sn == 0) {
		while (i < n) {
			st = i++;
			while (i < n && ((unsigned char)s->u.str.ptr[i] & 0xc0) == 0x80)
				i++;
			lpush(x, r, kd_tmpl_str(x, s->u.str.ptr + st, i - st));
		}
		return r;
	}
	while (i + sn <= n) {
		if (!memcmp(s->u.str.ptr + i, sep->u.str.ptr, sn)) {
			lpush(x, r, kd_tmpl_str(x, s->u.str.ptr + st, i - st));
			i += sn;
			st = i;
		} else {
			i++;
		}
	}
	lpush(x, r, kd_tmpl_str(x, s->u.str.ptr + st, n - st));
	return r;
}

FN(f_splitList) { (void)argc; return split_list(x, argv[0], argv[1]); }

FN(f_split)
{
	kd_value *l = split_list(x, argv[0], argv[1]), *m;
	size_t i;
	char k[32];

	(void)argc;
	m = kd_tmpl_mk_map(x, l->u.list.len);
	for (i = 0; i < l->u.list.len; i++) {
		int n = snprintf(k, sizeof k, "_%zu", i);

		mset(x, m, k, (size_t)n, l->u.list.items[i]);
	}
	return m;
}

FN(f_list)
{
	kd_value *l = kd_tmpl_mk_list(x, (size_t)argc);
	int i;

	for (i = 0; i < argc; i++)
		lpush(x, l, argv[i]);
	return l;
}

FN(f_dict)
{
	kd_value *m = kd_tmpl_mk_map(x, (size_t)argc / 2 + 1);
	int i;

	for (i = 0; i < argc; i += 2) {
		kd_value *k = strv(x, argv[i]);

		mset(x, m, k->u.str.ptr, k->u.str.len,
		     i + 1 < argc ? argv[i + 1] : kd_tmpl_str(x, "", 0));
	}
	return m;
}

FN(f_get)
{
	kd_value *r;

	(void)argc;
	if (isnil(argv[0]))
		return kd_tmpl_str(x, "", 0);
	r = kd_map_get(argv[0], argv[1]->u.str.ptr, argv[1]->u.str.len);
	return r ? r : kd_tmpl_str(x, "", 0);
}

FN(f_set)
{
	(void)argc;
	if (isnil(argv[0]))
		kd_tmpl_fail(x, 0, "assignment to entry in nil map");
	mset(x, argv[0], argv[1]->u.str.ptr, argv[1]->u.str.len, argv[2]);
	return argv[0];
}

FN(f_unset)
{
	(void)argc;
	if (!isnil(argv[0]))
		kd_map_del(x->a, argv[0], argv[1]->u.str.ptr, argv[1]->u.str.len);
	return argv[0];
}

FN(f_hasKey)
{
	(void)argc;
	return kd_tmpl_mk_bool(x, !isnil(argv[0]) &&
			 kd_map_get(argv[0], argv[1]->u.str.ptr,
				    argv[1]->u.str.len) != NULL);
}

FN(f_keys)
{
	kd_value *l = kd_tmpl_mk_list(x, 4);
	int i;
	size_t k;

	for (i = 0; i < argc; i++)
		if (!isnil(argv[i]))
			for (k = 0; k < argv[i]->u.map.len; k++)
				lpush(x, l, kd_tmpl_str(x, argv[i]->u.map.ents[k].key,
							argv[i]->u.map.ents[k].klen));
	return l;
}

FN(f_values)
{
	kd_value *l = kd_tmpl_mk_list(x, 4);
	size_t k;

	(void)argc;
	if (!isnil(argv[0]))
		for (k = 0; k < argv[0]->u.map.len; k++)
			lpush(x, l, argv[0]->u.map.ents[k].val);
	return l;
}

FN(f_pick)
{
	kd_value *m = kd_tmpl_mk_map(x, 4), *v;
	int i;

	for (i = 1; i < argc; i++) {
		kd_value *k = strv(x, argv[i]);

		if (!isnil(argv[0]) &&
		    (v = kd_map_get(argv[0], k->u.str.ptr, k->u.str.len)))
			mset(x, m, k->u.str.ptr, k->u.str.len, v);
	}
	return m;
}

FN(f_omit)
{
	kd_value *m = kd_tmpl_mk_map(x, 4);
	size_t k;
	int i;

	if (isnil(argv[0]))
		return m;
	for (k = 0; k < argv[0]->u.map.len; k++) {
		const kd_map_ent *e = &argv[0]->u.map.ents[k];

		for (i = 1; i < argc; i++) {
			kd_value *s = strv(x, argv[i]);

			if (!kd_bytes_cmp(s->u.str.ptr, s->u.str.len, e->key, e->klen))
				break;
		}
		if (i == argc)
			mset(x, m, e->key, e->klen, e->val);
	}
	return m;
}

FN(f_pluck)
{
	kd_value *l = kd_tmpl_mk_list(x, 4), *v;
	int i;

	for (i = 1; i < argc; i++)
		if (!isnil(argv[i]) &&
		    (v = kd_map_get(argv[i], argv[0]->u.str.ptr, argv[0]->u.str.len)))
			lpush(x, l, v);
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
		if (!d || empty(d) || over)
			mset(x, dst, e->key, e->klen, e->val);
	}
}

static kd_value *do_merge(kd_tmpl_ex *x, kd_value **argv, int argc, bool over)
{
	int i;

	if (isnil(argv[0]))
		return argv[0];
	for (i = 1; i < argc; i++)
		if (!isnil(argv[i]))
			merge_into(x, argv[0], argv[i], over, 0);
	return argv[0];
}

FN(f_merge) { return do_merge(x, argv, argc, false); }
FN(f_mergeOverwrite) { return do_merge(x, argv, argc, true); }

FN(f_deepCopy)
{
	kd_value *r;

	(void)argc;
	if (isnil(argv[0]))
		return &kd_tmpl_nil;
	r = kd_value_copy(x->a, argv[0]);
	if (!r)
		kd_tmpl_errorf(x, "out of memory");
	return r;
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
	if (isnil(v))
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
		lpush(x, r, l->u.list.items[s]);
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
	lpush(x, r, argv[1]);
	return r;
}

FN(f_prepend)
{
	kd_value *l = need_list(x, argv[0], "prepend"), *r = kd_tmpl_mk_list(x, 4);
	size_t i;

	(void)argc;
	lpush(x, r, argv[1]);
	for (i = 0; i < l->u.list.len; i++)
		lpush(x, r, l->u.list.items[i]);
	return r;
}

FN(f_concat)
{
	kd_value *r = kd_tmpl_mk_list(x, 4);
	int i;
	size_t k;

	for (i = 0; i < argc; i++) {
		if (isnil(argv[i]))
			continue;
		if (argv[i]->type != KD_LIST)
			kd_tmpl_fail(x, 0, "Cannot concat type %s as list",
				     kd_tmpl_type_name(argv[i]));
		for (k = 0; k < argv[i]->u.list.len; k++)
			lpush(x, r, argv[i]->u.list.items[k]);
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
			lpush(x, r, l->u.list.items[i]);
	return r;
}

FN(f_has)
{
	(void)argc;
	if (isnil(argv[1]))
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
			lpush(x, r, l->u.list.items[i]);
	}
	return r;
}

FN(f_compact)
{
	kd_value *l = need_list(x, argv[0], "compact"), *r = kd_tmpl_mk_list(x, 4);
	size_t i;

	(void)argc;
	for (i = 0; i < l->u.list.len; i++)
		if (!empty(l->u.list.items[i]))
			lpush(x, r, l->u.list.items[i]);
	return r;
}

FN(f_reverse)
{
	kd_value *l = need_list(x, argv[0], "find reverse"), *r = kd_tmpl_mk_list(x, 4);
	size_t i;

	(void)argc;
	for (i = l->u.list.len; i > 0; i--)
		lpush(x, r, l->u.list.items[i - 1]);
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
	if (!isnil(argv[0]) && argv[0]->type != KD_LIST) {
		l = kd_tmpl_mk_list(x, 1);
		lpush(x, l, strv(x, argv[0]));
		return l;
	}
	l = strslice(x, argv[0]);
	if (l->u.list.len)
		qsort(l->u.list.items, l->u.list.len, sizeof *l->u.list.items,
		      cmp_str);
	return l;
}

FN(f_toStrings) { (void)argc; return strslice(x, argv[0]); }

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
		s = wrap_add(s, to_int64(argv[i]));
	return kd_tmpl_mk_int(x, s);
}
FN(f_add1) { (void)argc; return kd_tmpl_mk_int(x, wrap_add(to_int64(argv[0]), 1)); }
FN(f_sub) { (void)argc; return kd_tmpl_mk_int(x, wrap_sub(to_int64(argv[0]), to_int64(argv[1]))); }
FN(f_mul)
{
	int64_t s = to_int64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		s = wrap_mul(s, to_int64(argv[i]));
	return kd_tmpl_mk_int(x, s);
}
FN(f_div)
{
	int64_t b = to_int64(argv[1]);

	(void)argc;
	if (b == 0)
		kd_tmpl_fail(x, 0, "runtime error: integer divide by zero");
	/* Go: the most negative int64 / -1 is itself (it overflows) */
	if (b == -1)
		return kd_tmpl_mk_int(x, wrap_sub(0, to_int64(argv[0])));
	return kd_tmpl_mk_int(x, to_int64(argv[0]) / b);
}
FN(f_mod)
{
	int64_t b = to_int64(argv[1]);

	(void)argc;
	if (b == 0)
		kd_tmpl_fail(x, 0, "runtime error: integer divide by zero");
	if (b == -1)
		return kd_tmpl_mk_int(x, 0);
	return kd_tmpl_mk_int(x, to_int64(argv[0]) % b);
}
FN(f_max)
{
	int64_t m = to_int64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		if (to_int64(argv[i]) > m)
			m = to_int64(argv[i]);
	return kd_tmpl_mk_int(x, m);
}
FN(f_min)
{
	int64_t m = to_int64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		if (to_int64(argv[i]) < m)
			m = to_int64(argv[i]);
	return kd_tmpl_mk_int(x, m);
}
FN(f_ceil) { (void)argc; return kd_tmpl_mk_float(x, ceil(to_float64(argv[0]))); }
FN(f_floor) { (void)argc; return kd_tmpl_mk_float(x, floor(to_float64(argv[0]))); }

static const char b64c[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

FN(f_b64enc)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const unsigned char *s = (const unsigned char *)argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, i;

	(void)argc;
	for (i = 0; i + 2 < n; i += 3) {
		kd_buf_putc(&b, b64c[s[i] >> 2]);
		kd_buf_putc(&b, b64c[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
		kd_buf_putc(&b, b64c[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)]);
		kd_buf_putc(&b, b64c[s[i + 2] & 63]);
	}
	if (n - i == 1) {
		kd_buf_putc(&b, b64c[s[i] >> 2]);
		kd_buf_putc(&b, b64c[(s[i] & 3) << 4]);
		kd_buf_puts(&b, "==");
	} else if (n - i == 2) {
		kd_buf_putc(&b, b64c[s[i] >> 2]);
		kd_buf_putc(&b, b64c[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
		kd_buf_putc(&b, b64c[(s[i + 1] & 15) << 2]);
		kd_buf_putc(&b, '=');
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_b64dec)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *s = argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, i;
	unsigned acc = 0;
	int bits = 0, pad = 0;

	(void)argc;
	for (i = 0; i < n; i++) {
		const char *p;

		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		p = s[i] ? strchr(b64c, s[i]) : NULL;
		if (!p || pad) {
			char m[80];

			kd_buf_free(&b);
			snprintf(m, sizeof m, "illegal base64 data at input byte %zu", i);
			return kd_tmpl_str(x, m, strlen(m));
		}
		acc = (acc << 6) | (unsigned)(p - b64c);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			kd_buf_putc(&b, (char)((acc >> bits) & 0xff));
		}
	}
	return kd_tmpl_buf_value(x, &b);
}

static const char *kind_name(const kd_value *v)
{
	if (isnil(v))
		return "invalid";
	switch (v->type) {
	case KD_LIST: return "slice";
	case KD_MAP: return "map";
	default: return kd_tmpl_type_name(v);
	}
}

FN(f_kindOf) { (void)argc; const char *k = kind_name(argv[0]); return kd_tmpl_str(x, k, strlen(k)); }
FN(f_typeOf) { (void)argc; const char *k = kd_tmpl_type_name(argv[0]); return kd_tmpl_str(x, k, strlen(k)); }
FN(f_kindIs) { (void)argc; return kd_tmpl_mk_bool(x, !strcmp(argv[0]->u.str.ptr, kind_name(argv[1]))); }
FN(f_typeIs) { (void)argc; return kd_tmpl_mk_bool(x, !strcmp(argv[0]->u.str.ptr, kd_tmpl_type_name(argv[1]))); }

/* ---- Helm ---- */

FN(f_fail)
{
	(void)argc;
	kd_tmpl_fail(x, 0, "%s", argv[0]->u.str.ptr);
}

static bool is_chart(kd_tmpl_ex *x, const kd_value *v)
{
	return v && v->type == KD_MAP && kd_map_getz(v, "APIVersion") &&
	       kd_tmpl_obj_kind(x, v) == KD_TMPL_OBJ_STRUCT;
}

static bool has_chart(kd_tmpl_ex *x, const kd_value *v, int depth)
{
	size_t i;

	if (!v || depth > 100)
		return false;
	if (is_chart(x, v))
		return true;
	if (v->type == KD_LIST)
		for (i = 0; i < v->u.list.len; i++)
			if (has_chart(x, v->u.list.items[i], depth + 1))
				return true;
	if (v->type == KD_MAP)
		for (i = 0; i < v->u.map.len; i++)
			if (has_chart(x, v->u.map.ents[i].val, depth + 1))
				return true;
	return false;
}

static bool json_empty(const kd_value *v)
{
	if (isnil(v))
		return true;
	switch (v->type) {
	case KD_BOOL: return !v->u.b;
	case KD_STR: return v->u.str.len == 0;
	case KD_LIST: return v->u.list.len == 0;
	case KD_MAP: return v->u.map.len == 0;
	default: return false;
	}
}

typedef struct json_field {
	const char *go, *json;
	bool omitempty;
	const struct json_field *elem; /* a list of these structs */
} json_field;

#define F(go, json, omit) {go, json, omit, NULL}
static const json_field maintainer_fields[] = {
	F("Name", "name", true), F("Email", "email", true), F("URL", "url", true),
	F(NULL, NULL, false),
};
static const json_field dependency_fields[] = {
	F("Name", "name", false), F("Version", "version", true),
	F("Repository", "repository", false), F("Condition", "condition", true),
	F("Tags", "tags", true), F("Enabled", "enabled", true),
	F("ImportValues", "import-values", true), F("Alias", "alias", true),
	F(NULL, NULL, false),
};
static const json_field metadata_fields[] = {
	F("Name", "name", true), F("Home", "home", true),
	F("Sources", "sources", true), F("Version", "version", true),
	F("Description", "description", true), F("Keywords", "keywords", true),
	{"Maintainers", "maintainers", true, maintainer_fields},
	F("Icon", "icon", true), F("APIVersion", "apiVersion", true),
	F("Condition", "condition", true), F("Tags", "tags", true),
	F("AppVersion", "appVersion", true), F("Deprecated", "deprecated", true),
	F("Annotations", "annotations", true),
	F("KubeVersion", "kubeVersion", true),
	{"Dependencies", "dependencies", true, dependency_fields},
	F("Type", "type", true), F("IsRoot", "IsRoot", false),
	F(NULL, NULL, false),
};
#undef F

static kd_value *json_view(kd_tmpl_ex *x, const kd_value *v, int depth);

static kd_value *struct_view(kd_tmpl_ex *x, const kd_value *v,
			     const json_field *f, int depth)
{
	kd_value *m = kd_tmpl_mk_map(x, 8);

	for (; f->go; f++) {
		const kd_value *e = kd_map_getz(v, f->go);
		kd_value *ev;
		size_t i;

		if (!e || (f->omitempty && json_empty(e)))
			continue;
		if (e->type == KD_LIST && f->elem) {
			ev = kd_value_list(x->a, e->u.list.len);
			if (!ev)
				kd_tmpl_errorf(x, "out of memory");
			for (i = 0; i < e->u.list.len; i++)
				lpush(x, ev, e->u.list.items[i]->type != KD_MAP
					     ? e->u.list.items[i]
					     : struct_view(x, e->u.list.items[i],
							   f->elem, depth + 1));
		} else {
			ev = json_view(x, e, depth + 1);
		}
		mset(x, m, f->json, strlen(f->json), ev);
	}
	return m;
}

static int cmp_ent_key(const void *a, const void *b)
{
	const kd_map_ent *p = *(const kd_map_ent *const *)a;
	const kd_map_ent *q = *(const kd_map_ent *const *)b;

	return kd_bytes_cmp(p->key, p->klen, q->key, q->klen);
}

static kd_value *json_view(kd_tmpl_ex *x, const kd_value *v, int depth)
{
	kd_value *r;
	size_t i;

	if (!v || depth > 100)
		return (kd_value *)v;
	if (is_chart(x, v))
		return struct_view(x, v, metadata_fields, depth);
	if (v->type == KD_LIST) {
		r = kd_value_list(x->a, v->u.list.len);
		if (!r)
			kd_tmpl_errorf(x, "out of memory");
		for (i = 0; i < v->u.list.len; i++)
			lpush(x, r, json_view(x, v->u.list.items[i], depth + 1));
		return r;
	}
	if (v->type == KD_MAP) {
		const kd_map_ent **e = kd_arena_alloc(x->a, (v->u.map.len + 1) * sizeof *e);

		if (!e)
			kd_tmpl_errorf(x, "out of memory");
		for (i = 0; i < v->u.map.len; i++)
			e[i] = &v->u.map.ents[i];
		qsort(e, v->u.map.len, sizeof *e, cmp_ent_key);
		r = kd_tmpl_mk_map(x, v->u.map.len);
		for (i = 0; i < v->u.map.len; i++)
			mset(x, r, e[i]->key, e[i]->klen, json_view(x, e[i]->val, depth + 1));
		return r;
	}
	return (kd_value *)v;
}

/* the value to encode, and whether the encoder must sort map keys */
static const kd_value *json_input(kd_tmpl_ex *x, const kd_value *v, bool *sort)
{
	*sort = true;
	if (isnil(v))
		return &kd_tmpl_nil;
	if (!has_chart(x, v, 0))
		return v;
	*sort = false;
	return json_view(x, v, 0);
}

static kd_value *to_json_value(kd_tmpl_ex *x, const kd_value *v, kd_buf *b,
			       bool html)
{
	kd_json_encode_opts o = {0};
	kd_err err = KD_ERR_INIT;
	bool sort;

	v = json_input(x, v, &sort);
	o.sort_keys = sort;
	o.escape_html = html;
	if (kd_json_encode(b, v, &o, &err))
		return NULL;
	return (kd_value *)v;
}

FN(f_toJson)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	(void)argc;
	if (!to_json_value(x, argv[0], &b, true)) {
		kd_buf_free(&b);
		return kd_tmpl_str(x, "", 0);
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_toYaml)
{
	(void)argc;
	return kd_sprig_to_yaml(x, argv[0]);
}

kd_value *kd_sprig_to_yaml(kd_tmpl_ex *x, const kd_value *arg)
{
	kd_buf j = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_buf y = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_arena scratch = KD_ARENA_INIT(KD_LIMIT_ARENA_BYTES);
	kd_err err = KD_ERR_INIT;
	kd_value *v;
	kd_yaml_encode_opts yo = {0};
	int rc;

	/* value -> JSON -> value -> YAML, as sigs.k8s.io/yaml does; the
	 * intermediate value lives in a scratch arena freed right away */
	if (!to_json_value(x, arg, &j, false)) {
		kd_buf_free(&j);
		return kd_tmpl_str(x, "", 0);
	}
	rc = kd_json_decode(&v, &scratch, j.ptr, j.len, "toYaml", NULL, &err);
	kd_buf_free(&j);
	if (!rc) {
		yo.sort_keys = 1;
		rc = kd_yaml_encode(&y, v, &yo, &err);
	}
	kd_arena_free(&scratch);
	if (rc) {
		kd_buf_free(&y);
		return kd_tmpl_str(x, "", 0);
	}
	if (y.len && y.ptr[y.len - 1] == '\n')
		y.len--;
	return kd_tmpl_buf_value(x, &y);
}

static kd_value *err_map(kd_tmpl_ex *x, const char *msg)
{
	kd_value *m = kd_tmpl_mk_map(x, 1);

	mset(x, m, "Error", 5, kd_tmpl_str(x, msg, strlen(msg)));
	return m;
}

static kd_value *from_text(kd_tmpl_ex *x, const kd_value *s, bool yaml,
			   bool array)
{
	kd_err err = KD_ERR_INIT;
	kd_value *v = NULL;
	int rc;

	if (yaml) {
		kd_yaml_decode_opts o = {0};

		o.numbers_as_float = 1;
		kd_value *all = NULL;

		rc = kd_yaml_decode_all(&all, x->a, s->u.str.ptr, s->u.str.len,
					"<input>", &o, &err);
		if (!rc)
			v = all->u.list.len ? all->u.list.items[0] : &kd_tmpl_nil;
	} else {
		kd_json_decode_opts o = {0};

		o.numbers_as_float = 1;
		rc = kd_json_decode(&v, x->a, s->u.str.ptr, s->u.str.len,
				    "<input>", &o, &err);
	}
	if (rc) {
		char m[KD_ERR_MSG_MAX + 64];

		if (yaml) {
			/* "<input>:L:C: problem (while ...)" -> go-yaml's form */
			int line = 0, col = 0, off = 0;
			const char *pr = err.msg;

			if (sscanf(err.msg, "<input>:%d:%d: %n", &line, &col, &off) >= 2 && off) {
				char prob[KD_ERR_MSG_MAX];
				char *w;

				snprintf(prob, sizeof prob, "%s", err.msg + off);
				w = strstr(prob, " (while");
				if (w) {
					*w = 0;
					line--;
				}
				snprintf(m, sizeof m, "error converting YAML to JSON: yaml: line %d: %s",
					 line, prob);
			} else {
				snprintf(m, sizeof m, "error converting YAML to JSON: %s", pr);
			}
		} else if (strstr(err.msg, "unexpected end of input")) {
			snprintf(m, sizeof m, "unexpected end of JSON input");
		} else {
			snprintf(m, sizeof m, "%s", err.msg);
		}
		if (array) {
			kd_value *l = kd_tmpl_mk_list(x, 1);

			lpush(x, l, kd_tmpl_str(x, m, strlen(m)));
			return l;
		}
		return err_map(x, m);
	}
	if (array) {
		if (v->type == KD_NULL)
			return kd_tmpl_mk_list(x, 0);
		if (v->type != KD_LIST) {
			kd_value *l = kd_tmpl_mk_list(x, 1);
			const char *m = yaml ? "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []interface {}"
					     : "json: cannot unmarshal object into Go value of type []interface {}";

			lpush(x, l, kd_tmpl_str(x, m, strlen(m)));
			return l;
		}
		return v;
	}
	if (v->type == KD_NULL)
		return kd_tmpl_mk_map(x, 0);
	if (v->type != KD_MAP) {
		char m[200];

		snprintf(m, sizeof m, "%sjson: cannot unmarshal %s into Go value of type map[string]interface {}",
			 yaml ? "error unmarshaling JSON: while decoding JSON: " : "",
			 v->type == KD_LIST ? "array" : v->type == KD_STR ? "string" :
			 v->type == KD_BOOL ? "bool" : "number");
		return err_map(x, m);
	}
	return v;
}

FN(f_fromYaml) { (void)argc; return from_text(x, argv[0], true, false); }
FN(f_fromYamlArray) { (void)argc; return from_text(x, argv[0], true, true); }
FN(f_fromJson) { (void)argc; return from_text(x, argv[0], false, false); }
FN(f_fromJsonArray) { (void)argc; return from_text(x, argv[0], false, true); }

/* ---- more Sprig ---- */

static void put_int_list_str(kd_buf *b, int64_t start, int64_t stop,
			     int64_t step)
{
	int64_t i, n = 0;

	if (stop < start) {
		if (step >= 0)
			return;
		for (i = start; i > stop && n < 1000000; i = wrap_add(i, step), n++)
			kd_buf_printf(b, "%s%lld", n ? " " : "", (long long)i);
		return;
	}
	if (step <= 0)
		return;
	for (i = start; i < stop && n < 1000000; i = wrap_add(i, step), n++)
		kd_buf_printf(b, "%s%lld", n ? " " : "", (long long)i);
}

FN(f_seq)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	int64_t inc = 1, st, en, step;

	switch (argc) {
	case 1:
		st = 1;
		en = argv[0]->u.i;
		if (en < st)
			inc = -1;
		put_int_list_str(&b, st, wrap_add(en, inc), inc);
		break;
	case 2:
		st = argv[0]->u.i;
		en = argv[1]->u.i;
		step = en < st ? -1 : 1;
		put_int_list_str(&b, st, wrap_add(en, step), step);
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
		put_int_list_str(&b, st, wrap_add(en, inc), step);
		break;
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
			if (++n > 1000000)
				kd_tmpl_fail(x, KD_ELIMIT, "too many items");
			else
				lpush(x, l, kd_tmpl_mk_int(x, i));
		return l;
	}
	if (step <= 0)
		return l;
	for (i = start; i < stop; i = wrap_add(i, step))
		if (++n > 1000000)
			kd_tmpl_fail(x, KD_ELIMIT, "too many items");
		else
			lpush(x, l, kd_tmpl_mk_int(x, i));
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

FN(f_all)
{
	int i;

	for (i = 0; i < argc; i++)
		if (empty(argv[i]))
			return kd_tmpl_mk_bool(x, false);
	return kd_tmpl_mk_bool(x, true);
}

FN(f_any)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!empty(argv[i]))
			return kd_tmpl_mk_bool(x, true);
	return kd_tmpl_mk_bool(x, false);
}

static bool is_values_obj(kd_tmpl_ex *x, const kd_value *v)
{
	const kd_value *r = x->root;

	if (!r || r->type != KD_MAP || !kd_map_getz(r, "Values"))
		return false;
	return v == r || v == kd_map_getz(r, "Values");
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
	if (isnil(d) || d->type != KD_MAP || is_values_obj(x, d))
		kd_tmpl_fail(x, 0, "interface conversion: interface {} is %s, not map[string]interface {}",
			     isnil(d) ? "nil" : is_values_obj(x, d) ? "chartutil.Values"
								   : kd_tmpl_type_name(d));
	for (i = 0; i < nk; i++)
		if (isnil(argv[i]) || argv[i]->type != KD_STR)
			kd_tmpl_fail(x, 0, "interface conversion: interface {} is %s, not string",
				     isnil(argv[i]) ? "nil" : kd_tmpl_type_name(argv[i]));
	cur = d;
	for (i = 0; i < nk; i++) {
		kd_value *step = kd_map_get(cur, argv[i]->u.str.ptr, argv[i]->u.str.len);

		if (!step)
			return def;
		if (i == nk - 1)
			return step;
		if (isnil(step) || step->type != KD_MAP)
			kd_tmpl_fail(x, 0, "interface conversion: interface {} is %s, not map[string]interface {}",
				     isnil(step) ? "nil" : kd_tmpl_type_name(step));
		cur = step;
	}
	return def;
}

FN(f_chunk)
{
	kd_value *l = argv[1], *r, *c = NULL;
	int64_t size = argv[0]->u.i;
	size_t i;

	(void)argc;
	if (isnil(l))
		kd_tmpl_fail(x, 0, "runtime error: invalid memory address or nil pointer dereference");
	if (l->type != KD_LIST)
		kd_tmpl_fail(x, 0, "Cannot chunk type %s", kind_word(l));
	if (size <= 0)
		kd_tmpl_fail(x, 0, "runtime error: integer divide by zero");
	r = kd_tmpl_mk_list(x, 4);
	for (i = 0; i < l->u.list.len; i++) {
		if (i % (size_t)size == 0) {
			c = kd_tmpl_mk_list(x, (size_t)size);
			lpush(x, r, c);
		}
		lpush(x, c, l->u.list.items[i]);
	}
	return r;
}

static bool is_connector(unsigned char c)
{
	return c == '-' || c == '_' || is_ws(c);
}

FN(f_camelcase)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *s = argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, i = 0;
	int r0 = 0, r1;

	(void)argc;
	if (!n)
		return argv[0];
	while (i < n) {
		r0 = (unsigned char)s[i++];
		if (!is_connector((unsigned char)r0)) {
			if (r0 >= 'a' && r0 <= 'z')
				r0 -= 32;
			break;
		}
		kd_buf_putc(&b, (char)r0);
		r0 = -1;
	}
	if (i >= n) {
		if (r0 >= 0)
			kd_buf_putc(&b, (char)r0);
		return kd_tmpl_buf_value(x, &b);
	}
	while (i < n) {
		r1 = r0;
		r0 = (unsigned char)s[i++];
		if (is_connector((unsigned char)r0) && is_connector((unsigned char)r1)) {
			kd_buf_putc(&b, (char)r1);
			continue;
		}
		if (is_connector((unsigned char)r1)) {
			if (r0 >= 'a' && r0 <= 'z')
				r0 -= 32;
		} else {
			if (r0 >= 'A' && r0 <= 'Z')
				r0 += 32;
			kd_buf_putc(&b, (char)r1);
		}
	}
	kd_buf_putc(&b, (char)r0);
	return kd_tmpl_buf_value(x, &b);
}

static bool up(char c) { return c >= 'A' && c <= 'Z'; }
static bool low(char c) { return (c >= 'a' && c <= 'z'); }

static kd_value *word_case(kd_tmpl_ex *x, const kd_value *v, char conn)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *s = v->u.str.ptr;
	size_t n = v->u.str.len, i;
	bool need = false;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (is_connector((unsigned char)c)) {
			if (b.len)
				need = true;
			continue;
		}
		if (i > 0 && up(c) && b.len &&
		    (low(s[i - 1]) || (s[i - 1] >= '0' && s[i - 1] <= '9') ||
		     (up(s[i - 1]) && i + 1 < n && low(s[i + 1]))))
			need = true;
		if (need) {
			kd_buf_putc(&b, conn);
			need = false;
		}
		kd_buf_putc(&b, up(c) ? (char)(c + 32) : c);
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_snakecase) { (void)argc; return word_case(x, argv[0], '_'); }
FN(f_kebabcase) { (void)argc; return word_case(x, argv[0], '-'); }

FN(f_swapcase)
{
	kd_value *r = kd_tmpl_str(x, argv[0]->u.str.ptr, argv[0]->u.str.len);
	char *p = (char *)r->u.str.ptr;
	size_t i;

	(void)argc;
	for (i = 0; i < r->u.str.len; i++)
		if (up(p[i]))
			p[i] = (char)(p[i] + 32);
		else if (low(p[i]))
			p[i] = (char)(p[i] - 32);
	return r;
}

FN(f_untitle)
{
	kd_value *r = kd_tmpl_str(x, argv[0]->u.str.ptr, argv[0]->u.str.len);
	char *p = (char *)r->u.str.ptr;
	size_t i;
	bool start = true;

	(void)argc;
	for (i = 0; i < r->u.str.len; i++) {
		if (start && up(p[i]))
			p[i] = (char)(p[i] + 32);
		start = is_ws((unsigned char)p[i]);
	}
	return r;
}

FN(f_initials)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *s = argv[0]->u.str.ptr;
	size_t i;
	bool start = true;

	(void)argc;
	for (i = 0; i < argv[0]->u.str.len; i++) {
		if (start && !is_ws((unsigned char)s[i]))
			kd_buf_putc(&b, s[i]);
		start = is_ws((unsigned char)s[i]);
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_abbrev)
{
	int64_t w = argv[0]->u.i;
	const kd_value *s = argv[1];
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	(void)argc;
	if (w < 4 || (int64_t)s->u.str.len <= w)
		return argv[1];
	kd_buf_put(&b, s->u.str.ptr, (size_t)(w - 3));
	kd_buf_puts(&b, "...");
	return kd_tmpl_buf_value(x, &b);
}

FN(f_abbrevboth)
{
	int64_t off = argv[0]->u.i, w = argv[1]->u.i;
	const kd_value *s = argv[2];
	int64_t n = (int64_t)s->u.str.len;
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	(void)argc;
	if (n == 0 || w < 4 || n <= w)
		return argv[2];
	if (off > n)
		off = n;
	if (n - off < w - 3)
		off = n - (w - 3);
	if (off <= 4) {
		kd_buf_put(&b, s->u.str.ptr, (size_t)(w - 3));
		kd_buf_puts(&b, "...");
		return kd_tmpl_buf_value(x, &b);
	}
	if (w < 7)
		return argv[2];
	if (off + w - 3 < n) {
		kd_value t;
		int64_t l = n - off, ww = w - 3;

		kd_buf_puts(&b, "...");
		if (l > ww) {
			kd_buf_put(&b, s->u.str.ptr + off, (size_t)(ww - 3));
			kd_buf_puts(&b, "...");
		} else {
			kd_buf_put(&b, s->u.str.ptr + off, (size_t)l);
		}
		(void)t;
		return kd_tmpl_buf_value(x, &b);
	}
	kd_buf_puts(&b, "...");
	kd_buf_put(&b, s->u.str.ptr + n - (w - 3), (size_t)(w - 3));
	return kd_tmpl_buf_value(x, &b);
}

static kd_value *do_wrap(kd_tmpl_ex *x, int64_t lim, const char *nl,
			 size_t nll, const kd_value *s)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *p = s->u.str.ptr;
	size_t n = s->u.str.len, i = 0, linelen = 0;

	if (lim < 1)
		lim = 1;
	/* goutils WrapCustom, wrapLongWords=false: break at spaces */
	while (i < n) {
		size_t st = i, e;

		while (i < n && p[i] != ' ')
			i++;
		e = i;
		if (linelen && linelen + 1 + (e - st) > (size_t)lim) {
			kd_buf_put(&b, nl, nll);
			linelen = 0;
		} else if (st > 0) {
			kd_buf_putc(&b, ' ');
			linelen++;
		}
		kd_buf_put(&b, p + st, e - st);
		linelen += e - st;
		if (i < n)
			i++;
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_wrap) { (void)argc; return do_wrap(x, argv[0]->u.i, "\n", 1, argv[1]); }
FN(f_wrapWith)
{
	(void)argc;
	return do_wrap(x, argv[0]->u.i, argv[1]->u.str.ptr, argv[1]->u.str.len,
		       argv[2]);
}

FN(f_plural)
{
	(void)argc;
	(void)x;
	return argv[2]->u.i == 1 ? argv[0] : argv[1];
}

FN(f_splitn)
{
	kd_value *l = split_list(x, argv[0], argv[2]), *m;
	int64_t n = argv[1]->u.i;
	size_t i;
	char k[32];

	(void)argc;
	m = kd_tmpl_mk_map(x, 4);
	if (n == 0)
		return m;
	for (i = 0; i < l->u.list.len; i++) {
		int kn = snprintf(k, sizeof k, "_%zu", i);

		if (n > 0 && (int64_t)i == n - 1) {
			/* the rest, unsplit */
			size_t off = 0, j;

			for (j = 0; j < i; j++)
				off += l->u.list.items[j]->u.str.len + argv[0]->u.str.len;
			mset(x, m, k, (size_t)kn,
			     kd_tmpl_str(x, argv[2]->u.str.ptr + off,
					 argv[2]->u.str.len - off));
			break;
		}
		mset(x, m, k, (size_t)kn, l->u.list.items[i]);
	}
	return m;
}

/* path.Clean */
static void path_clean(kd_buf *b, const char *p, size_t n)
{
	bool rooted = n && p[0] == '/';
	size_t i = 0, start = 0;
	size_t base;

	if (n == 0) {
		kd_buf_putc(b, '.');
		return;
	}
	base = b->len;
	if (rooted) {
		kd_buf_putc(b, '/');
		i = 1;
	}
	start = b->len;
	while (i < n) {
		size_t s0 = i;

		while (i < n && p[i] != '/')
			i++;
		if (i == s0 || (i - s0 == 1 && p[s0] == '.')) {
		} else if (i - s0 == 2 && p[s0] == '.' && p[s0 + 1] == '.') {
			if (b->len > start) {
				while (b->len > start && b->ptr[b->len - 1] != '/')
					b->len--;
				if (b->len > start)
					b->len--;
			} else if (!rooted) {
				if (b->len > base)
					kd_buf_putc(b, '/');
				kd_buf_puts(b, "..");
				start = b->len;
			}
		} else {
			if (b->len > (rooted ? base + 1 : base))
				kd_buf_putc(b, '/');
			kd_buf_put(b, p + s0, i - s0);
		}
		i++;
	}
	if (b->len == base)
		kd_buf_putc(b, '.');
	b->ptr[b->len] = 0;
}

FN(f_clean)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	(void)argc;
	path_clean(&b, argv[0]->u.str.ptr, argv[0]->u.str.len);
	return kd_tmpl_buf_value(x, &b);
}

FN(f_base)
{
	const char *p = argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, s;

	(void)argc;
	if (!n)
		return kd_tmpl_str(x, ".", 1);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (!n)
		return kd_tmpl_str(x, "/", 1);
	s = n;
	while (s > 0 && p[s - 1] != '/')
		s--;
	return kd_tmpl_str(x, p + s, n - s);
}

FN(f_dir)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *p = argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, s = n;

	(void)argc;
	while (s > 0 && p[s - 1] != '/')
		s--;
	path_clean(&b, p, s);
	return kd_tmpl_buf_value(x, &b);
}

FN(f_ext)
{
	const char *p = argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, i;

	(void)argc;
	for (i = n; i > 0 && p[i - 1] != '/'; i--)
		if (p[i - 1] == '.')
			return kd_tmpl_str(x, p + i - 1, n - i + 1);
	return kd_tmpl_str(x, "", 0);
}

FN(f_isAbs)
{
	(void)argc;
	return kd_tmpl_mk_bool(x, argv[0]->u.str.len && argv[0]->u.str.ptr[0] == '/');
}

static kd_value *json_with(kd_tmpl_ex *x, kd_value *v, int indent, bool html,
			   bool must)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_json_encode_opts o = {0};
	kd_err err = KD_ERR_INIT;
	const kd_value *in;
	bool sort;

	in = json_input(x, v, &sort);
	o.indent = indent;
	o.sort_keys = sort;
	o.escape_html = html;
	if (kd_json_encode(&b, in, &o, &err)) {
		kd_buf_free(&b);
		if (must)
			kd_tmpl_fail(x, 0, "%s", err.msg);
		return kd_tmpl_str(x, "", 0);
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_toRawJson) { (void)argc; return json_with(x, argv[0], 0, false, false); }
FN(f_toPrettyJson) { (void)argc; return json_with(x, argv[0], 2, true, false); }
FN(f_mustToJson) { (void)argc; return json_with(x, argv[0], 0, true, true); }
FN(f_mustToRawJson) { (void)argc; return json_with(x, argv[0], 0, false, true); }
FN(f_mustToPrettyJson) { (void)argc; return json_with(x, argv[0], 2, true, true); }

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
		s = dec_round(s + to_float64(argv[i]));
	return kd_tmpl_mk_float(x, s);
}
FN(f_add1f) { (void)argc; return kd_tmpl_mk_float(x, dec_round(to_float64(argv[0]) + 1)); }
FN(f_subf)
{
	double s = to_float64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		s = dec_round(s - to_float64(argv[i]));
	return kd_tmpl_mk_float(x, s);
}
FN(f_mulf)
{
	double s = to_float64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		s = dec_round(s * to_float64(argv[i]));
	return kd_tmpl_mk_float(x, s);
}
FN(f_divf)
{
	double s = to_float64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		s = dec_round(s / to_float64(argv[i]));
	return kd_tmpl_mk_float(x, s);
}
FN(f_maxf)
{
	double m = to_float64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		m = fmax(m, to_float64(argv[i]));
	return kd_tmpl_mk_float(x, m);
}
FN(f_minf)
{
	double m = to_float64(argv[0]);
	int i;

	for (i = 1; i < argc; i++)
		m = fmin(m, to_float64(argv[i]));
	return kd_tmpl_mk_float(x, m);
}
FN(f_round)
{
	double f = to_float64(argv[0]), p = pow(10, (double)to_int64(argv[1]));
	double rh = argc > 2 ? to_float64(argv[2]) : 0.5;
	double d = f * p, i = trunc(d);

	if (d - i >= rh)
		i += 1;
	return kd_tmpl_mk_float(x, i / p);
}

FN(f_b32enc)
{
	static const char a32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const unsigned char *s = (const unsigned char *)argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, i, outn;
	uint64_t acc = 0;
	int bits = 0;

	(void)argc;
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | s[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			kd_buf_putc(&b, a32[(acc >> bits) & 31]);
		}
	}
	if (bits)
		kd_buf_putc(&b, a32[(acc << (5 - bits)) & 31]);
	outn = b.len;
	while (outn % 8) {
		kd_buf_putc(&b, '=');
		outn++;
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_b32dec)
{
	static const char a32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *s = argv[0]->u.str.ptr;
	size_t n = argv[0]->u.str.len, i;
	uint64_t acc = 0;
	int bits = 0;

	(void)argc;
	for (i = 0; i < n; i++) {
		const char *p;

		if (s[i] == '=')
			break;
		p = s[i] ? strchr(a32, s[i]) : NULL;
		if (!p) {
			char m[80];

			kd_buf_free(&b);
			snprintf(m, sizeof m, "illegal base32 data at input byte %zu", i);
			return kd_tmpl_str(x, m, strlen(m));
		}
		acc = (acc << 5) | (uint64_t)(p - a32);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			kd_buf_putc(&b, (char)((acc >> bits) & 0xff));
		}
	}
	return kd_tmpl_buf_value(x, &b);
}

/* SHA-256 and SHA-1, small and self-contained */
static uint32_t ror(uint32_t v, int n) { return (v >> n) | (v << (32 - n)); }
static uint32_t rol(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

static void sha256(const unsigned char *m, size_t n, unsigned char out[32])
{
	static const uint32_t k[64] = {
		0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
		0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
		0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
		0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
		0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
		0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
		0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
		0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
		0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
		0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
		0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	size_t total = ((n + 9 + 63) / 64) * 64, off, i;

	for (off = 0; off < total; off += 64) {
		unsigned char blk[64];
		uint32_t w[64], a, b, c, d, e, f, g, hh;

		for (i = 0; i < 64; i++) {
			size_t p = off + i;

			if (p < n)
				blk[i] = m[p];
			else if (p == n)
				blk[i] = 0x80;
			else if (p >= total - 8)
				blk[i] = (unsigned char)(((uint64_t)n * 8) >> (8 * (total - 1 - p)));
			else
				blk[i] = 0;
		}
		for (i = 0; i < 16; i++)
			w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
			       (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
		for (i = 16; i < 64; i++)
			w[i] = (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10)) +
			       w[i - 7] +
			       (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3)) +
			       w[i - 16];
		a = h[0], b = h[1], c = h[2], d = h[3];
		e = h[4], f = h[5], g = h[6], hh = h[7];
		for (i = 0; i < 64; i++) {
			uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
				      ((e & f) ^ (~e & g)) + k[i] + w[i];
			uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
				      ((a & b) ^ (a & c) ^ (b & c));

			hh = g, g = f, f = e, e = d + t1;
			d = c, c = b, b = a, a = t1 + t2;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d;
		h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
	}
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(h[i] >> 8);
		out[4 * i + 3] = (unsigned char)h[i];
	}
}

static void sha1(const unsigned char *m, size_t n, unsigned char out[20])
{
	uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
			 0xC3D2E1F0};
	size_t total = ((n + 9 + 63) / 64) * 64, off, i;

	for (off = 0; off < total; off += 64) {
		unsigned char blk[64];
		uint32_t w[80], a, b, c, d, e;

		for (i = 0; i < 64; i++) {
			size_t p = off + i;

			if (p < n)
				blk[i] = m[p];
			else if (p == n)
				blk[i] = 0x80;
			else if (p >= total - 8)
				blk[i] = (unsigned char)(((uint64_t)n * 8) >> (8 * (total - 1 - p)));
			else
				blk[i] = 0;
		}
		for (i = 0; i < 16; i++)
			w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
			       (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
		for (i = 16; i < 80; i++)
			w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
		a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
		for (i = 0; i < 80; i++) {
			uint32_t f, k, t;

			if (i < 20)
				f = (b & c) | (~b & d), k = 0x5A827999;
			else if (i < 40)
				f = b ^ c ^ d, k = 0x6ED9EBA1;
			else if (i < 60)
				f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
			else
				f = b ^ c ^ d, k = 0xCA62C1D6;
			t = rol(a, 5) + f + e + k + w[i];
			e = d, d = c, c = rol(b, 30), b = a, a = t;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
	}
	for (i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(h[i] >> 8);
		out[4 * i + 3] = (unsigned char)h[i];
	}
}

static kd_value *hexstr(kd_tmpl_ex *x, const unsigned char *d, size_t n)
{
	char t[130];
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(t + 2 * i, 3, "%02x", d[i]);
	return kd_tmpl_str(x, t, 2 * n);
}

FN(f_sha256sum)
{
	unsigned char d[32];

	(void)argc;
	sha256((const unsigned char *)argv[0]->u.str.ptr, argv[0]->u.str.len, d);
	return hexstr(x, d, 32);
}

FN(f_sha1sum)
{
	unsigned char d[20];

	(void)argc;
	sha1((const unsigned char *)argv[0]->u.str.ptr, argv[0]->u.str.len, d);
	return hexstr(x, d, 20);
}

FN(f_adler32sum)
{
	uint32_t a = 1, b = 0;
	size_t i;
	char t[16];

	(void)argc;
	for (i = 0; i < argv[0]->u.str.len; i++) {
		a = (a + (unsigned char)argv[0]->u.str.ptr[i]) % 65521;
		b = (b + a) % 65521;
	}
	snprintf(t, sizeof t, "%u", (b << 16) | a);
	return kd_tmpl_str(x, t, strlen(t));
}

static kd_value *rand_from(kd_tmpl_ex *x, int64_t count, const char *set)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	size_t n = strlen(set), i;
	unsigned limit = 256 - 256 % (unsigned)n;

	if (count < 0)
		count = 0;
	if (count > 1000000)
		kd_tmpl_fail(x, KD_ELIMIT, "random string too long");
	for (i = 0; i < (size_t)count;) {
		unsigned char r[64];
		size_t k;

		if (kd_sprig_fill_random(r, sizeof r)) {
			kd_buf_free(&b);
			kd_tmpl_fail(x, KD_EIO, "no random numbers from the kernel");
		}
		for (k = 0; k < sizeof r && i < (size_t)count; k++)
			if (r[k] < limit) {
				kd_buf_putc(&b, set[r[k] % n]);
				i++;
			}
	}
	return kd_tmpl_buf_value(x, &b);
}

#define ALPHA "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
FN(f_randAlphaNum) { (void)argc; return rand_from(x, argv[0]->u.i, ALPHA "0123456789"); }
FN(f_randAlpha) { (void)argc; return rand_from(x, argv[0]->u.i, ALPHA); }
FN(f_randNumeric) { (void)argc; return rand_from(x, argv[0]->u.i, "0123456789"); }
FN(f_randAscii)
{
	static char set[95];
	int i;

	(void)argc;
	for (i = 0; i < 94; i++)
		set[i] = (char)(33 + i);
	set[94] = 0;
	return rand_from(x, argv[0]->u.i, set);
}

FN(f_uuidv4)
{
	unsigned char u[16];
	char t[40];

	(void)argc;
	(void)argv;
	if (kd_sprig_fill_random(u, sizeof u))
		kd_tmpl_fail(x, KD_EIO, "no random numbers from the kernel");
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	snprintf(t, sizeof t,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
		 u[11], u[12], u[13], u[14], u[15]);
	return kd_tmpl_str(x, t, 36);
}

FN(f_shuffle)
{
	kd_value *r = kd_tmpl_str(x, argv[0]->u.str.ptr, argv[0]->u.str.len);
	char *p = (char *)r->u.str.ptr;
	size_t i;

	(void)argc;
	for (i = r->u.str.len; i > 1; i--) {
		uint32_t k;

		if (kd_sprig_fill_random((unsigned char *)&k, sizeof k))
			kd_tmpl_fail(x, KD_EIO, "no random numbers from the kernel");
		k %= (uint32_t)i;
		char c = p[i - 1];
		p[i - 1] = p[k];
		p[k] = c;
	}
	return r;
}

FN(f_getHostByName) { (void)argc; (void)argv; return kd_tmpl_str(x, "", 0); }

FN(f_hello) { (void)argc; (void)argv; return kd_tmpl_str(x, "Hello!", 6); }

FN(f_typeIsLike)
{
	const char *t = kd_tmpl_type_name(argv[1]);
	const char *w = argv[0]->u.str.ptr;

	(void)argc;
	return kd_tmpl_mk_bool(x, !strcmp(w, t) || (w[0] == '*' && !strcmp(w + 1, t)));
}

/* net/url, as Sprig's urlParse and urlJoin use it (the common forms) */
FN(f_urlParse)
{
	const char *s = argv[0]->u.str.ptr, *e = s + argv[0]->u.str.len;
	const char *p = s, *q;
	kd_value *m = kd_tmpl_mk_map(x, 8);
	const char *scheme = "", *user = "", *host = "", *path = "", *query = "",
		   *frag = "", *opaque = "";
	size_t ns = 0, nu = 0, nh = 0, np = 0, nq = 0, nf = 0, no = 0;

	(void)argc;
	q = memchr(p, '#', (size_t)(e - p));
	if (q) {
		frag = q + 1;
		nf = (size_t)(e - q - 1);
		e = q;
	}
	for (q = p; q < e && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			      (q > p && ((*q >= '0' && *q <= '9') || *q == '+' || *q == '-' || *q == '.')));
	     q++)
		;
	if (q < e && *q == ':' && q > p) {
		scheme = p;
		ns = (size_t)(q - p);
		p = q + 1;
	}
	q = memchr(p, '?', (size_t)(e - p));
	if (q) {
		query = q + 1;
		nq = (size_t)(e - q - 1);
		e = q;
	}
	if (e - p >= 2 && p[0] == '/' && p[1] == '/') {
		const char *a = p + 2, *slash = memchr(a, '/', (size_t)(e - a)), *at;
		const char *he = slash ? slash : e;

		at = NULL;
		for (q = a; q < he; q++)
			if (*q == '@')
				at = q;
		if (at) {
			user = a;
			nu = (size_t)(at - a);
			a = at + 1;
		}
		host = a;
		nh = (size_t)(he - a);
		p = he;
	} else if (ns && p < e && *p != '/') {
		opaque = p;
		no = (size_t)(e - p);
		p = e;
	}
	path = p;
	np = (size_t)(e - p);
	mset(x, m, "scheme", 6, kd_tmpl_str(x, scheme, ns));
	mset(x, m, "host", 4, kd_tmpl_str(x, host, nh));
	{
		size_t k = nh;
		const char *c = memchr(host, ':', nh);

		if (c)
			k = (size_t)(c - host);
		mset(x, m, "hostname", 8, kd_tmpl_str(x, host, k));
	}
	mset(x, m, "path", 4, kd_tmpl_str(x, path, np));
	mset(x, m, "query", 5, kd_tmpl_str(x, query, nq));
	mset(x, m, "opaque", 6, kd_tmpl_str(x, opaque, no));
	mset(x, m, "fragment", 8, kd_tmpl_str(x, frag, nf));
	mset(x, m, "userinfo", 8, kd_tmpl_str(x, user, nu));
	return m;
}

static const kd_value *url_part(const kd_value *d, const char *k)
{
	const kd_value *v = kd_map_getz(d, k);

	return v && v->type == KD_STR && v->u.str.len ? v : NULL;
}

FN(f_urlJoin)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const kd_value *d = argv[0], *v;

	(void)argc;
	if (isnil(d))
		return kd_tmpl_str(x, "", 0);
	if ((v = url_part(d, "scheme"))) {
		kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
		kd_buf_putc(&b, ':');
	}
	if ((v = url_part(d, "opaque"))) {
		kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
	} else {
		if (url_part(d, "scheme") || url_part(d, "host") || url_part(d, "userinfo")) {
			kd_buf_puts(&b, "//");
			if ((v = url_part(d, "userinfo"))) {
				kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
				kd_buf_putc(&b, '@');
			}
			if ((v = url_part(d, "host")))
				kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
		}
		if ((v = url_part(d, "path"))) {
			if (v->u.str.ptr[0] != '/' && url_part(d, "host"))
				kd_buf_putc(&b, '/');
			kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
		}
	}
	if ((v = url_part(d, "query"))) {
		kd_buf_putc(&b, '?');
		kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
	}
	if ((v = url_part(d, "fragment"))) {
		kd_buf_putc(&b, '#');
		kd_buf_put(&b, v->u.str.ptr, v->u.str.len);
	}
	return kd_tmpl_buf_value(x, &b);
}

/* time.Duration(seconds).String() */
FN(f_duration)
{
	int64_t s = to_int64(argv[0]);
	char t[64];
	int n = 0;
	uint64_t u = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;

	(void)argc;
	if (u > 9223372036ull) /* beyond time.Duration's range in seconds */
		u %= 9223372036ull;
	if (s < 0)
		t[n++] = '-';
	if (u == 0)
		return kd_tmpl_str(x, "0s", 2);
	if (u >= 3600)
		n += snprintf(t + n, sizeof t - (size_t)n, "%lluh", (unsigned long long)(u / 3600));
	if (u >= 60)
		n += snprintf(t + n, sizeof t - (size_t)n, "%llum", (unsigned long long)(u / 60 % 60));
	n += snprintf(t + n, sizeof t - (size_t)n, "%llus", (unsigned long long)(u % 60));
	return kd_tmpl_str(x, t, (size_t)n);
}

static int cmp_map_ent(const void *a, const void *b)
{
	const kd_map_ent *x = *(const kd_map_ent *const *)a;
	const kd_map_ent *y = *(const kd_map_ent *const *)b;

	return kd_bytes_cmp(x->key, x->klen, y->key, y->klen);
}

/* toToml: BurntSushi/toml's encoder for the shapes values take */
static bool toml_is_table(const kd_value *v)
{
	return v && v->type == KD_MAP;
}

static void toml_key(kd_buf *b, const char *k, size_t n)
{
	size_t i;
	bool bare = n > 0;

	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
		      (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '-'))
			bare = false;
	if (bare)
		kd_buf_put(b, k, n);
	else
		kd_tmpl_quote(b, k, n);
}

static int toml_value(kd_buf *b, const kd_value *v, const char **err)
{
	size_t i;

	switch (v->type) {
	case KD_BOOL:
		kd_buf_puts(b, v->u.b ? "true" : "false");
		return 0;
	case KD_INT:
		kd_buf_printf(b, "%lld", (long long)v->u.i);
		return 0;
	case KD_FLOAT: {
		size_t st = b->len;

		if (isnan(v->u.f)) {
			kd_buf_puts(b, "nan");
			return 0;
		}
		if (isinf(v->u.f)) {
			kd_buf_puts(b, v->u.f > 0 ? "inf" : "-inf");
			return 0;
		}
		kd_num_format_float(b, v->u.f, 'f', -1);
		if (!memchr(b->ptr + st, '.', b->len - st))
			kd_buf_puts(b, ".0");
		return 0;
	}
	case KD_STR:
		for (i = 0; i < v->u.str.len; i++)
			if ((unsigned char)v->u.str.ptr[i] < 0x20 &&
			    !strchr("\n\t\r\b\f", v->u.str.ptr[i]))
				break;
		{
			kd_buf q = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

			kd_tmpl_quote(&q, v->u.str.ptr, v->u.str.len);
			kd_buf_put(b, q.ptr, q.len);
			kd_buf_free(&q);
		}
		return 0;
	case KD_LIST:
		kd_buf_putc(b, '[');
		for (i = 0; i < v->u.list.len; i++) {
			if (isnil(v->u.list.items[i])) {
				*err = "toml: cannot encode array with nil element";
				return -1;
			}
			if (i)
				kd_buf_puts(b, ", ");
			if (toml_value(b, v->u.list.items[i], err))
				return -1;
		}
		kd_buf_putc(b, ']');
		return 0;
	default:
		*err = "toml: unsupported type";
		return -1;
	}
}

static int toml_table(kd_buf *b, const kd_value *m, kd_buf *path, int depth,
		      const char **err)
{
	size_t n = m->u.map.len, i;
	const kd_map_ent **e;
	int pass, rc = 0;

	if (depth > KD_LIMIT_DEPTH) {
		*err = "toml: nesting too deep";
		return -1;
	}
	e = n ? malloc(n * sizeof *e) : NULL;
	if (n && !e) {
		*err = "out of memory";
		return -1;
	}
	for (i = 0; i < n; i++)
		e[i] = &m->u.map.ents[i];
	if (n)
		qsort(e, n, sizeof *e, cmp_map_ent);
	for (pass = 0; pass < 2 && !rc; pass++)
		for (i = 0; i < n && !rc; i++) {
			const kd_value *v = e[i]->val;
			int k;

			if (isnil(v) || toml_is_table(v) != (pass == 1))
				continue;
			if (pass == 0) {
				for (k = 0; k < depth; k++)
					kd_buf_puts(b, "  ");
				toml_key(b, e[i]->key, e[i]->klen);
				kd_buf_puts(b, " = ");
				rc = toml_value(b, v, err);
				kd_buf_putc(b, '\n');
			} else {
				size_t plen = path->len;

				if (plen)
					kd_buf_putc(path, '.');
				toml_key(path, e[i]->key, e[i]->klen);
				if (depth == 0)
					kd_buf_putc(b, '\n');
				for (k = 0; k < depth; k++)
					kd_buf_puts(b, "  ");
				kd_buf_printf(b, "[%s]\n", path->ptr);
				rc = toml_table(b, v, path, depth + 1, err);
				path->len = plen;
				path->ptr[plen] = 0;
			}
		}
	free(e);
	return rc;
}

FN(f_toToml)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES), path = KD_BUF_INIT(1 << 20);
	const char *err = NULL;
	int rc;

	(void)argc;
	if (isnil(argv[0]) || argv[0]->type != KD_MAP) {
		const char *m = argv[0] && argv[0]->type == KD_LIST
					? "toml: top-level values must be Go maps or structs"
					: "toml: top-level values must be Go maps or structs";

		if (argv[0] && argv[0]->type == KD_LIST) {
			size_t i;

			for (i = 0; i < argv[0]->u.list.len; i++)
				if (isnil(argv[0]->u.list.items[i]))
					m = "toml: cannot encode array with nil element";
		}
		return kd_tmpl_str(x, m, strlen(m));
	}
	kd_buf_putc(&path, 0);
	path.len = 0;
	rc = toml_table(&b, argv[0], &path, 0, &err);
	kd_buf_free(&path);
	if (rc) {
		kd_buf_free(&b);
		return kd_tmpl_str(x, err, strlen(err));
	}
	return kd_tmpl_buf_value(x, &b);
}

kd_value *kd_sprig_fn_semver(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_semver_compare(kd_tmpl_ex *x, kd_value **argv, int argc);

kd_value *kd_sprig_fn_regexMatch(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_mustRegexMatch(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_regexFindAll(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_mustRegexFindAll(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_regexSplit(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_mustRegexSplit(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_regexFind(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_mustRegexFind(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_regexReplaceAll(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_mustRegexReplaceAll(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_regexReplaceAllLiteral(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_mustRegexReplaceAllLiteral(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_regexQuoteMeta(kd_tmpl_ex *x, kd_value **argv, int argc);

kd_value *kd_sprig_fn_now(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_date(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_dateInZone(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_htmlDate(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_htmlDateInZone(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_unixEpoch(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_genCA(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_genCAWithKey(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_genSignedCert(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_genSignedCertWithKey(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_genSelfSignedCert(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_genSelfSignedCertWithKey(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_toDate(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_mustToDate(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_dateModify(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_mustDateModify(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_ago(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_durationRound(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_genPrivateKey(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_buildCustomCert(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_htpasswd(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_bcrypt(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_derivePassword(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_encryptAES(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_decryptAES(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_sha512sum(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_randInt(kd_tmpl_ex *x, kd_value **argv, int argc);
kd_value *kd_sprig_fn_randBytes(kd_tmpl_ex *x, kd_value **argv, int argc);

static const kd_tmpl_func funcs[] = {
	{"fail", f_fail, "s", false, false},
	{"toYaml", f_toYaml, "a", false, false},
	{"fromYaml", f_fromYaml, "s", false, false},
	{"fromYamlArray", f_fromYamlArray, "s", false, false},
	{"toJson", f_toJson, "a", false, false},
	{"fromJson", f_fromJson, "s", false, false},
	{"fromJsonArray", f_fromJsonArray, "s", false, false},
	{"slice", f_slice, "aa", true, false},
	{"default", f_default, "aa", true, false},
	{"empty", f_empty, "a", false, false},
	{"coalesce", f_coalesce, "a", true, false},
	{"ternary", f_ternary, "aab", false, false},
	{"quote", f_quote, "a", true, false},
	{"squote", f_squote, "a", true, false},
	{"indent", f_indent, "is", false, false},
	{"nindent", f_nindent, "is", false, false},
	{"trim", f_trim, "s", false, false},
	{"trimAll", f_trimAll, "ss", false, false},
	{"trimall", f_trimAll, "ss", false, false},
	{"trimPrefix", f_trimPrefix, "ss", false, false},
	{"trimSuffix", f_trimSuffix, "ss", false, false},
	{"upper", f_upper, "s", false, false},
	{"lower", f_lower, "s", false, false},
	{"title", f_title, "s", false, false},
	{"replace", f_replace, "sss", false, false},
	{"contains", f_contains, "ss", false, false},
	{"hasPrefix", f_hasPrefix, "ss", false, false},
	{"hasSuffix", f_hasSuffix, "ss", false, false},
	{"repeat", f_repeat, "is", false, false},
	{"substr", f_substr, "iis", false, false},
	{"trunc", f_trunc, "is", false, false},
	{"nospace", f_nospace, "s", false, false},
	{"cat", f_cat, "a", true, false},
	{"join", f_join, "sa", false, false},
	{"split", f_split, "ss", false, false},
	{"splitList", f_splitList, "ss", false, false},
	{"list", f_list, "a", true, false},
	{"tuple", f_list, "a", true, false},
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
	{"toStrings", f_toStrings, "a", false, false},
	{"until", f_until2, "i", false, false},
	{"toString", f_toString, "a", false, false},
	{"int", f_int64, "a", false, false},
	{"int64", f_int64, "a", false, false},
	{"float64", f_float64, "a", false, false},
	{"atoi", f_atoi, "s", false, false},
	{"add", f_add, "a", true, false},
	{"add1", f_add1, "a", false, false},
	{"sub", f_sub, "aa", false, false},
	{"mul", f_mul, "aa", true, false},
	{"div", f_div, "aa", false, false},
	{"mod", f_mod, "aa", false, false},
	{"max", f_max, "aa", true, false},
	{"min", f_min, "aa", true, false},
	{"ceil", f_ceil, "a", false, false},
	{"floor", f_floor, "a", false, false},
	{"b64enc", f_b64enc, "s", false, false},
	{"b64dec", f_b64dec, "s", false, false},
	{"kindOf", f_kindOf, "a", false, false},
	{"typeOf", f_typeOf, "a", false, false},
	{"kindIs", f_kindIs, "sa", false, false},
	{"typeIs", f_typeIs, "sa", false, false},
	{"seq", f_seq, "i", true, false},
	{"now", kd_sprig_fn_now, "", false, false},
	{"date", kd_sprig_fn_date, "sa", false, false},
	{"dateInZone", kd_sprig_fn_dateInZone, "sas", false, false},
	{"htmlDate", kd_sprig_fn_htmlDate, "a", false, false},
	{"htmlDateInZone", kd_sprig_fn_htmlDateInZone, "as", false, false},
	{"unixEpoch", kd_sprig_fn_unixEpoch, "a", false, false},
	{"genCA", kd_sprig_fn_genCA, "si", false, false},
	{"genCAWithKey", kd_sprig_fn_genCAWithKey, "sis", false, false},
	{"genSignedCert", kd_sprig_fn_genSignedCert, "sllia", false, false},
	{"genSignedCertWithKey", kd_sprig_fn_genSignedCertWithKey, "sllias", false, false},
	{"genSelfSignedCert", kd_sprig_fn_genSelfSignedCert, "slli", false, false},
	{"genSelfSignedCertWithKey", kd_sprig_fn_genSelfSignedCertWithKey, "sllis", false, false},
	{"genPrivateKey", kd_sprig_fn_genPrivateKey, "s", false, false},
	{"buildCustomCert", kd_sprig_fn_buildCustomCert, "ss", false, false},
	{"htpasswd", kd_sprig_fn_htpasswd, "ss", false, false},
	{"bcrypt", kd_sprig_fn_bcrypt, "s", false, false},
	{"derivePassword", kd_sprig_fn_derivePassword, "issss", false, false},
	{"encryptAES", kd_sprig_fn_encryptAES, "ss", false, false},
	{"decryptAES", kd_sprig_fn_decryptAES, "ss", false, false},
	{"sha512sum", kd_sprig_fn_sha512sum, "s", false, false},
	{"toDate", kd_sprig_fn_toDate, "ss", false, false},
	{"mustToDate", kd_sprig_fn_mustToDate, "ss", false, false},
	{"dateModify", kd_sprig_fn_dateModify, "sa", false, false},
	{"mustDateModify", kd_sprig_fn_mustDateModify, "sa", false, false},
	{"ago", kd_sprig_fn_ago, "a", false, false},
	{"durationRound", kd_sprig_fn_durationRound, "a", false, false},
	{"randInt", kd_sprig_fn_randInt, "ii", false, false},
	{"randBytes", kd_sprig_fn_randBytes, "i", false, false},
	{"toToml", f_toToml, "a", false, false},
	{"urlParse", f_urlParse, "s", false, false},
	{"urlJoin", f_urlJoin, "m", false, false},
	{"duration", f_duration, "a", false, false},
	{"randAlphaNum", f_randAlphaNum, "i", false, false},
	{"randAlpha", f_randAlpha, "i", false, false},
	{"randNumeric", f_randNumeric, "i", false, false},
	{"randAscii", f_randAscii, "i", false, false},
	{"uuidv4", f_uuidv4, "", false, false},
	{"shuffle", f_shuffle, "s", false, false},
	{"hello", f_hello, "", false, false},
	{"getHostByName", f_getHostByName, "s", false, false},
	{"typeIsLike", f_typeIsLike, "sa", false, false},
	{"regexMatch", kd_sprig_fn_regexMatch, "ss", false, false},
	{"mustRegexMatch", kd_sprig_fn_mustRegexMatch, "ss", false, false},
	{"regexFindAll", kd_sprig_fn_regexFindAll, "ssi", false, false},
	{"mustRegexFindAll", kd_sprig_fn_mustRegexFindAll, "ssi", false, false},
	{"regexSplit", kd_sprig_fn_regexSplit, "ssi", false, false},
	{"mustRegexSplit", kd_sprig_fn_mustRegexSplit, "ssi", false, false},
	{"regexFind", kd_sprig_fn_regexFind, "ss", false, false},
	{"mustRegexFind", kd_sprig_fn_mustRegexFind, "ss", false, false},
	{"regexReplaceAll", kd_sprig_fn_regexReplaceAll, "sss", false, false},
	{"mustRegexReplaceAll", kd_sprig_fn_mustRegexReplaceAll, "sss", false, false},
	{"regexReplaceAllLiteral", kd_sprig_fn_regexReplaceAllLiteral, "sss", false, false},
	{"mustRegexReplaceAllLiteral", kd_sprig_fn_mustRegexReplaceAllLiteral, "sss", false, false},
	{"regexQuoteMeta", kd_sprig_fn_regexQuoteMeta, "s", false, false},
	{"semver", kd_sprig_fn_semver, "s", false, false},
	{"semverCompare", kd_sprig_fn_semver_compare, "ss", false, false},
	{"untilStep", f_untilStep, "iii", false, false},
	{"all", f_all, "a", true, false},
	{"any", f_any, "a", true, false},
	{"dig", f_dig, "a", true, false},
	{"chunk", f_chunk, "ia", false, false},
	{"mustChunk", f_chunk, "ia", false, false},
	{"camelcase", f_camelcase, "s", false, false},
	{"snakecase", f_snakecase, "s", false, false},
	{"kebabcase", f_kebabcase, "s", false, false},
	{"swapcase", f_swapcase, "s", false, false},
	{"untitle", f_untitle, "s", false, false},
	{"initials", f_initials, "s", false, false},
	{"abbrev", f_abbrev, "is", false, false},
	{"abbrevboth", f_abbrevboth, "iis", false, false},
	{"wrap", f_wrap, "is", false, false},
	{"wrapWith", f_wrapWith, "iss", false, false},
	{"plural", f_plural, "ssi", false, false},
	{"splitn", f_splitn, "sis", false, false},
	{"base", f_base, "s", false, false},
	{"dir", f_dir, "s", false, false},
	{"ext", f_ext, "s", false, false},
	{"clean", f_clean, "s", false, false},
	{"isAbs", f_isAbs, "s", false, false},
	{"osBase", f_base, "s", false, false},
	{"osDir", f_dir, "s", false, false},
	{"osExt", f_ext, "s", false, false},
	{"osClean", f_clean, "s", false, false},
	{"osIsAbs", f_isAbs, "s", false, false},
	{"toRawJson", f_toRawJson, "a", false, false},
	{"toPrettyJson", f_toPrettyJson, "a", false, false},
	{"mustToJson", f_mustToJson, "a", false, false},
	{"mustToRawJson", f_mustToRawJson, "a", false, false},
	{"mustToPrettyJson", f_mustToPrettyJson, "a", false, false},
	{"addf", f_addf, "a", true, false},
	{"add1f", f_add1f, "a", false, false},
	{"subf", f_subf, "aa", true, false},
	{"mulf", f_mulf, "aa", true, false},
	{"divf", f_divf, "aa", true, false},
	{"maxf", f_maxf, "aa", true, false},
	{"minf", f_minf, "aa", true, false},
	{"round", f_round, "aaa", true, false},
	{"biggest", f_max, "aa", true, false},
	{"b32enc", f_b32enc, "s", false, false},
	{"b32dec", f_b32dec, "s", false, false},
	{"sha256sum", f_sha256sum, "s", false, false},
	{"sha1sum", f_sha1sum, "s", false, false},
	{"adler32sum", f_adler32sum, "s", false, false},
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
	{"mustDeepCopy", f_deepCopy, "a", false, false},
	{"mustMerge", f_merge, "mm", true, false},
	{"mustMergeOverwrite", f_mergeOverwrite, "mm", true, false},
	{NULL, NULL, NULL, false, false},
};

kd_value *kd_sprig_b64enc(kd_tmpl_ex *x, kd_value *s)
{
	return f_b64enc(x, &s, 1);
}

void kd_sprig_register_all(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, funcs);
	kd_sprig_register_semver(fs);
	kd_sprig_register_time(fs);
}
