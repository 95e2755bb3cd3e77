/* Go's builtin functions (and, or, not, the comparisons, len, index,
 * print*, html, js, urlquery, call), which every function table has. */
/* memmem is a GNU extension; the product's build sets _GNU_SOURCE, the
 * fuzz and host test builds compile this file without it, where an implicit
 * declaration truncated memmem's pointer to an int. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tmpl/internal.h"

#include "base/limits.h"
#include "base/num.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>

#define FN(name) static kd_value *name(kd_tmpl_ex *x, kd_value **argv, int argc)

kd_value *kd_tmpl_mk_bool(kd_tmpl_ex *x, bool b)
{
	kd_value *v = kd_value_bool(x->a, b);

	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	return v;
}

kd_value *kd_tmpl_mk_int(kd_tmpl_ex *x, int64_t i)
{
	kd_value *v = kd_value_int(x->a, i);

	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	return v;
}

kd_value *kd_tmpl_mk_float(kd_tmpl_ex *x, double f)
{
	kd_value *v = kd_value_float(x->a, f);

	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	return v;
}

kd_value *kd_tmpl_mk_list(kd_tmpl_ex *x, size_t n)
{
	kd_value *v = kd_value_list(x->a, n);

	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	return v;
}

kd_value *kd_tmpl_mk_map(kd_tmpl_ex *x, size_t n)
{
	kd_value *v = kd_value_map(x->a, n);

	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	return v;
}

static bool isnil(const kd_value *v)
{
	return !v || v->type == KD_NULL;
}

/* ---- Go builtins ---- */

FN(f_and) { (void)x; (void)argc; return argv[0]; }

FN(f_not) { (void)argc; return kd_tmpl_mk_bool(x, !kd_tmpl_truth(argv[0])); }

enum { K_INVALID, K_BOOL, K_INT, K_FLOAT, K_STRING, K_COMPLEX };

static int basic_kind(const kd_value *v)
{
	if (isnil(v))
		return K_INVALID;
	if (kd_tmpl_is_complex(v))
		return K_COMPLEX;
	switch (v->type) {
	case KD_BOOL: return K_BOOL;
	case KD_INT: return K_INT;
	case KD_FLOAT: return K_FLOAT;
	case KD_STR: return K_STRING;
	default: return K_INVALID;
	}
}

static bool do_eq(kd_tmpl_ex *x, kd_value **argv, int argc)
{
	kd_value *a = argv[0];
	int i, k1;

	if (argc < 2)
		kd_tmpl_fail(x, 0, "missing argument for comparison");
	k1 = basic_kind(a);
	for (i = 1; i < argc; i++) {
		kd_value *b = argv[i];
		int k2 = basic_kind(b);
		bool t = false;

		if (k1 != k2) {
			if (!isnil(a) && !isnil(b))
				kd_tmpl_fail(x, 0, "incompatible types for comparison");
		} else {
			switch (k1) {
			case K_BOOL: t = a->u.b == b->u.b; break;
			case K_INT: t = a->u.i == b->u.i; break;
			case K_FLOAT: t = a->u.f == b->u.f; break;
			case K_COMPLEX:
				t = a->u.map.ents[0].val->u.f == b->u.map.ents[0].val->u.f &&
				    a->u.map.ents[1].val->u.f == b->u.map.ents[1].val->u.f;
				break;
			case K_STRING:
				t = !kd_bytes_cmp(a->u.str.ptr, a->u.str.len,
						  b->u.str.ptr, b->u.str.len);
				break;
			default:
				if (isnil(a) || isnil(b)) {
					t = isnil(a) && isnil(b);
				} else {
					kd_buf m = KD_BUF_INIT(1 << 16);
					char msg[512];

					kd_tmpl_fmt_v(x, &m, b);
					kd_buf_printf(&m, ": %s", kd_tmpl_type_name(b));
					snprintf(msg, sizeof msg, "%s", m.ptr);
					kd_buf_free(&m);
					kd_tmpl_fail(x, 0, "non-comparable type %s", msg);
				}
			}
		}
		if (t)
			return true;
	}
	return false;
}

FN(f_eq) { return kd_tmpl_mk_bool(x, do_eq(x, argv, argc)); }
FN(f_ne) { return kd_tmpl_mk_bool(x, !do_eq(x, argv, argc)); }

static bool do_lt(kd_tmpl_ex *x, kd_value *a, kd_value *b)
{
	int k1 = basic_kind(a), k2;

	if (k1 == K_INVALID)
		kd_tmpl_fail(x, 0, "invalid type for comparison");
	k2 = basic_kind(b);
	if (k2 == K_INVALID)
		kd_tmpl_fail(x, 0, "invalid type for comparison");
	if (k1 != k2)
		kd_tmpl_fail(x, 0, "incompatible types for comparison");
	switch (k1) {
	case K_BOOL:
	case K_COMPLEX: kd_tmpl_fail(x, 0, "invalid type for comparison");
	case K_INT: return a->u.i < b->u.i;
	case K_FLOAT: return a->u.f < b->u.f;
	default:
		return kd_bytes_cmp(a->u.str.ptr, a->u.str.len, b->u.str.ptr,
				    b->u.str.len) < 0;
	}
}

FN(f_lt) { (void)argc; return kd_tmpl_mk_bool(x, do_lt(x, argv[0], argv[1])); }
FN(f_le)
{
	kd_value *p[2] = {argv[0], argv[1]};

	(void)argc;
	if (do_lt(x, argv[0], argv[1]))
		return kd_tmpl_mk_bool(x, true);
	return kd_tmpl_mk_bool(x, do_eq(x, p, 2));
}
FN(f_gt)
{
	kd_value *p[2] = {argv[0], argv[1]};

	(void)argc;
	if (do_lt(x, argv[0], argv[1]))
		return kd_tmpl_mk_bool(x, false);
	return kd_tmpl_mk_bool(x, !do_eq(x, p, 2));
}
FN(f_ge) { (void)argc; return kd_tmpl_mk_bool(x, !do_lt(x, argv[0], argv[1])); }

FN(f_len)
{
	kd_value *v = argv[0];

	(void)argc;
	if (isnil(v))
		kd_tmpl_fail(x, 0, "len of nil pointer");
	switch (v->type) {
	case KD_STR: return kd_tmpl_mk_int(x, (int64_t)v->u.str.len);
	case KD_LIST: return kd_tmpl_mk_int(x, (int64_t)v->u.list.len);
	case KD_MAP: return kd_tmpl_mk_int(x, (int64_t)v->u.map.len);
	default: kd_tmpl_fail(x, 0, "len of type %s", kd_tmpl_type_name(v));
	}
}

FN(f_index)
{
	kd_value *item = argv[0];
	int i;

	if (isnil(item))
		kd_tmpl_fail(x, 0, "index of untyped nil");
	for (i = 1; i < argc; i++) {
		kd_value *ix = argv[i];

		if (isnil(item))
			kd_tmpl_fail(x, 0, "index of nil pointer");
		if (item->type == KD_LIST || item->type == KD_STR) {
			int64_t k;
			size_t len = item->type == KD_LIST ? item->u.list.len
							   : item->u.str.len;

			if (isnil(ix))
				kd_tmpl_fail(x, 0, "cannot index slice/array with nil");
			if (ix->type != KD_INT)
				kd_tmpl_fail(x, 0, "cannot index slice/array with type %s",
					     kd_tmpl_type_name(ix));
			k = ix->u.i;
			if (k < 0 || (uint64_t)k >= len)
				kd_tmpl_fail(x, 0, "index out of range: %lld",
					     (long long)k);
			if (item->type == KD_LIST)
				item = item->u.list.items[k];
			else
				item = kd_tmpl_mk_int(x, (unsigned char)item->u.str.ptr[k]);
		} else if (item->type == KD_MAP) {
			kd_value *r;

			if (isnil(ix))
				kd_tmpl_fail(x, 0, "value is nil; should be of type string");
			if (ix->type != KD_STR)
				kd_tmpl_fail(x, 0, "value has type %s; should be string",
					     kd_tmpl_type_name(ix));
			r = kd_map_get(item, ix->u.str.ptr, ix->u.str.len);
			item = r ? r : &kd_tmpl_nil;
		} else {
			kd_tmpl_fail(x, 0, "can't index item of type %s",
				     kd_tmpl_type_name(item));
		}
	}
	return item;
}


/* printableValue + fmt.Sprint, as Go's evalArgs */
static void eval_args(kd_tmpl_ex *x, kd_buf *b, kd_value **argv, int argc)
{
	int i;

	if (argc == 1 && argv[0] && argv[0]->type == KD_STR) {
		kd_buf_put(b, argv[0]->u.str.ptr, argv[0]->u.str.len);
		return;
	}
	for (i = 0; i < argc; i++)
		if (isnil(argv[i])) {
			kd_value *nv = kd_value_strz(x->a, "<no value>");

			argv[i] = nv ? nv : argv[i];
		}
	kd_tmpl_sprint(x, b, argv, argc);
}

FN(f_html)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES), o = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	size_t i;

	eval_args(x, &b, argv, argc);
	for (i = 0; i < b.len; i++) {
		switch (b.ptr[i]) {
		case '"': kd_buf_puts(&o, "&#34;"); break;
		case '\'': kd_buf_puts(&o, "&#39;"); break;
		case '&': kd_buf_puts(&o, "&amp;"); break;
		case '<': kd_buf_puts(&o, "&lt;"); break;
		case '>': kd_buf_puts(&o, "&gt;"); break;
		case 0: kd_buf_puts(&o, "\xef\xbf\xbd"); break;
		default: kd_buf_putc(&o, b.ptr[i]);
		}
	}
	kd_buf_free(&b);
	return kd_tmpl_buf_value(x, &o);
}

FN(f_js)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES), o = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	size_t i;

	eval_args(x, &b, argv, argc);
	for (i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.ptr[i];

		switch (c) {
		case '\\': kd_buf_puts(&o, "\\\\"); break;
		case '\'': kd_buf_puts(&o, "\\'"); break;
		case '"': kd_buf_puts(&o, "\\\""); break;
		case '<': kd_buf_puts(&o, "\\u003C"); break;
		case '>': kd_buf_puts(&o, "\\u003E"); break;
		case '&': kd_buf_puts(&o, "\\u0026"); break;
		case '=': kd_buf_puts(&o, "\\u003D"); break;
		default:
			if (c < ' ')
				kd_buf_printf(&o, "\\u%04X", c);
			else
				kd_buf_putc(&o, (char)c);
		}
	}
	kd_buf_free(&b);
	return kd_tmpl_buf_value(x, &o);
}

FN(f_urlquery)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES), o = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	size_t i;

	eval_args(x, &b, argv, argc);
	for (i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.ptr[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == '~')
			kd_buf_putc(&o, (char)c);
		else if (c == ' ')
			kd_buf_putc(&o, '+');
		else
			kd_buf_printf(&o, "%%%02X", c);
	}
	kd_buf_free(&b);
	return kd_tmpl_buf_value(x, &o);
}

FN(f_print)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	kd_tmpl_sprint(x, &b, argv, argc);
	return kd_tmpl_buf_value(x, &b);
}

FN(f_println)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	kd_tmpl_sprintln(x, &b, argv, argc);
	return kd_tmpl_buf_value(x, &b);
}

FN(f_printf)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

	kd_tmpl_sprintf(x, &b, argv[0]->u.str.ptr, argv[0]->u.str.len, argv + 1,
			argc - 1);
	return kd_tmpl_buf_value(x, &b);
}

FN(f_call)
{
	(void)argc;
	if (isnil(argv[0]))
		kd_tmpl_fail(x, 0, "call of nil");
	kd_tmpl_fail(x, 0, "non-function of type %s", kd_tmpl_type_name(argv[0]));
}

const kd_tmpl_func kd_tmpl_builtins[] = {
	{"and", f_and, "vv", true, true},
	{"or", f_and, "vv", true, true},
	{"not", f_not, "v", false, true},
	{"eq", f_eq, "vv", true, true},
	{"ne", f_ne, "vv", false, true},
	{"lt", f_lt, "vv", false, true},
	{"le", f_le, "vv", false, true},
	{"gt", f_gt, "vv", false, true},
	{"ge", f_ge, "vv", false, true},
	{"len", f_len, "v", false, true},
	{"index", f_index, "vv", true, true},
	{"print", f_print, "a", true, true},
	{"printf", f_printf, "sa", true, true},
	{"println", f_println, "a", true, true},
	{"html", f_html, "a", true, true},
	{"js", f_js, "a", true, true},
	{"urlquery", f_urlquery, "a", true, true},
	{"call", f_call, "vv", true, true},
	{NULL, NULL, NULL, false, false},
};
