/* Sprig's string functions: quoting, indenting, trimming, case, search
 * and replace, splitting and joining, abbreviating and wrapping. */
/* memmem is a GNU extension; the product's build sets _GNU_SOURCE, the
 * fuzz and host test builds compile this file without it, where an implicit
 * declaration truncated memmem's pointer to an int. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "sprig/internal.h"

#include "base/limits.h"

#include <stdio.h>
#include <string.h>

/* quote, squote and cat: the arguments but nils, one space between, each
 * Go-quoted, in single quotes, or as fmt prints it. */
enum { ARGS_QUOTE, ARGS_SQUOTE, ARGS_CAT };

static kd_value *put_args(kd_tmpl_ex *x, kd_value **argv, int argc, int how)
{
	kd_buf b = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		if (kd_sprig_isnil(argv[i]))
			continue;
		if (n++)
			kd_buf_putc(&b, ' ');
		if (how == ARGS_QUOTE) {
			kd_buf s = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);

			kd_sprig_strval(x, &s, argv[i]);
			kd_tmpl_quote(&b, s.ptr, s.len);
			if (s.failed && !b.failed)
				b.failed = s.failed; /* reported, not quoted short */
			kd_buf_free(&s);
		} else if (how == ARGS_SQUOTE) {
			kd_buf_putc(&b, '\'');
			kd_sprig_strval(x, &b, argv[i]);
			kd_buf_putc(&b, '\'');
		} else {
			kd_tmpl_fmt_v(x, &b, argv[i]);
		}
	}
	return kd_tmpl_buf_value(x, &b);
}

FN(f_quote) { return put_args(x, argv, argc, ARGS_QUOTE); }
FN(f_squote) { return put_args(x, argv, argc, ARGS_SQUOTE); }
FN(f_cat) { return put_args(x, argv, argc, ARGS_CAT); }

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

FN(f_join)
{
	kd_value *l = kd_sprig_strslice(x, argv[1]);
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
			kd_sprig_push(x, r, kd_tmpl_str(x, s->u.str.ptr + st, i - st));
		}
		return r;
	}
	while (i + sn <= n) {
		if (!memcmp(s->u.str.ptr + i, sep->u.str.ptr, sn)) {
			kd_sprig_push(x, r, kd_tmpl_str(x, s->u.str.ptr + st, i - st));
			i += sn;
			st = i;
		} else {
			i++;
		}
	}
	kd_sprig_push(x, r, kd_tmpl_str(x, s->u.str.ptr + st, n - st));
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

		kd_sprig_set(x, m, k, (size_t)n, l->u.list.items[i]);
	}
	return m;
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
			kd_sprig_set(x, m, k, (size_t)kn,
			     kd_tmpl_str(x, argv[2]->u.str.ptr + off,
					 argv[2]->u.str.len - off));
			break;
		}
		kd_sprig_set(x, m, k, (size_t)kn, l->u.list.items[i]);
	}
	return m;
}

static const kd_tmpl_func strings_funcs[] = {
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
	{"splitn", f_splitn, "sis", false, false},
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
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_strings(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, strings_funcs);
}
