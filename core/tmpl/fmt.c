/* Go's fmt for kd_value: the verbs, flags, widths and error forms of
 * fmt.Sprintf, Sprint and Sprintln (what print, printf and println give in
 * templates). Numbers go through base/num (Go's strconv rules). */
#include "tmpl/internal.h"

#include "base/limits.h"
#include "base/num.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct spec {
	bool minus, plus, sharp, space, zero;
	bool haswid, hasprec;
	int wid, prec;
	/* the execution whose host objects (a time, a version) print with
	 * their String method, as Go's fmt calls a Stringer; NULL: none */
	kd_tmpl_ex *x;
} spec;

const char kd_tmpl_cert_key[] = "Cert";
const char kd_tmpl_complex_key[] = "re";

bool kd_tmpl_is_complex(const kd_value *v)
{
	return v && v->type == KD_MAP && v->u.map.len == 2 &&
	       v->u.map.ents[0].key == kd_tmpl_complex_key;
}

const char *kd_tmpl_type_name(const kd_value *v)
{
	if (!v)
		return "<nil>";
	if (kd_tmpl_is_complex(v))
		return "complex128";
	if (kd_tmpl_is_cert(v))
		return "sprig.certificate";
	switch (v->type) {
	case KD_NULL: return "<nil>";
	case KD_BOOL: return "bool";
	case KD_INT: return "int";
	case KD_FLOAT: return "float64";
	case KD_STR: return "string";
	case KD_LIST: return "[]interface {}";
	case KD_MAP: return "map[string]interface {}";
	}
	return "?";
}

bool kd_tmpl_is_cert(const kd_value *v)
{
	return v && v->type == KD_MAP && v->u.map.len == 2 &&
	       v->u.map.ents[0].key == kd_tmpl_cert_key;
}

static size_t rune_count(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

static void padding(kd_buf *b, int n, char c)
{
	while (n-- > 0)
		kd_buf_putc(b, c);
}

/* Frees a scratch buffer; its failure (out of memory) becomes b's, so
 * the caller sees it rather than a value printed short. */
static void done_tmp(kd_buf *b, kd_buf *t)
{
	if (t->failed && !b->failed)
		b->failed = t->failed;
	kd_buf_free(t);
}

/* Writes s padded to the width. */
static void pad(kd_buf *b, const char *s, size_t n, const spec *sp)
{
	int w;

	if (!sp->haswid) {
		kd_buf_put(b, s, n);
		return;
	}
	w = sp->wid - (int)rune_count(s, n);
	if (sp->minus) {
		kd_buf_put(b, s, n);
		padding(b, w, ' ');
	} else {
		padding(b, w, sp->zero ? '0' : ' ');
		kd_buf_put(b, s, n);
	}
}

static void fmt_int(kd_buf *b, int64_t v, int base, char verb,
		    const spec *sp)
{
	char tmp[80], pre[8];
	int i = (int)sizeof tmp, prec = 1, neg = v < 0, np = 0, zeros;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	const char *dig = verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
	bool zero = sp->zero && sp->haswid && !sp->minus && !sp->hasprec;
	kd_buf r = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	spec s2 = *sp;

	if (sp->hasprec) {
		prec = sp->prec;
		if (prec == 0 && v == 0) {
			s2.zero = false;
			pad(b, "", 0, &s2);
			return;
		}
	} else if (zero) {
		prec = sp->wid;
		if (neg || sp->plus || sp->space)
			prec--;
	}
	do {
		tmp[--i] = dig[u % (unsigned)base];
		u /= (unsigned)base;
	} while (u);
	/* Go's order: the digits, zeros up to the precision (any width:
	 * the render's memory bound keeps it safe), the base prefix, the sign */
	zeros = prec - ((int)sizeof tmp - i);
	if (neg)
		pre[np++] = '-';
	else if (sp->plus)
		pre[np++] = '+';
	else if (sp->space)
		pre[np++] = ' ';
	if (verb == 'O') {
		pre[np++] = '0';
		pre[np++] = 'o';
	}
	if (sp->sharp) {
		if (base == 16) {
			pre[np++] = '0';
			pre[np++] = verb;
		} else if (base == 8 && zeros <= 0 && tmp[i] != '0') {
			pre[np++] = '0';
		} else if (base == 2) {
			pre[np++] = '0';
			pre[np++] = 'b';
		}
	}
	kd_buf_put(&r, pre, (size_t)np);
	padding(&r, zeros, '0');
	kd_buf_put(&r, tmp + i, sizeof tmp - (size_t)i);
	s2.zero = false;
	pad(b, r.ptr, r.len, &s2);
	done_tmp(b, &r);
}

static void fmt_float(kd_buf *b, double f, char verb, int prec,
		      const spec *sp)
{
	kd_buf t = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	const char *s;
	size_t n;
	bool inf;

	kd_num_format_float(&t, f, verb == 'F' ? 'f' : verb, prec);
	s = t.ptr;
	n = t.len;
	inf = !strcmp(s, "+Inf") || !strcmp(s, "-Inf") || !strcmp(s, "NaN");
	if (s[0] == '+') {
		s++;
		n--;
	}
	{
		kd_buf r = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
		bool neg = s[0] == '-';

		if (!neg) {
			if (sp->plus || (inf && f > 0))
				kd_buf_putc(&r, '+');
			else if (sp->space)
				kd_buf_putc(&r, ' ');
		}
		if (sp->zero && sp->haswid && !sp->minus && !inf) {
			/* zeros go after the sign */
			size_t signlen = r.len + (neg ? 1 : 0);
			int w = sp->wid - (int)(signlen + n - (neg ? 1 : 0));

			if (neg)
				kd_buf_putc(&r, '-');
			padding(&r, w, '0');
			kd_buf_put(&r, s + (neg ? 1 : 0), n - (neg ? 1 : 0));
			kd_buf_put(b, r.ptr, r.len);
		} else {
			spec s2 = *sp;

			s2.zero = false;
			kd_buf_put(&r, s, n);
			pad(b, r.ptr, r.len, &s2);
		}
		done_tmp(b, &r);
	}
	done_tmp(b, &t);
}

static int utf8_dec(const unsigned char *s, size_t n, unsigned long *r)
{
	if (s[0] < 0x80) {
		*r = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0 && n >= 2 && (s[1] & 0xc0) == 0x80 &&
	    s[0] >= 0xc2) {
		*r = ((s[0] & 0x1fUL) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0 && n >= 3 && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80) {
		*r = ((s[0] & 0x0fUL) << 12) | ((s[1] & 0x3fUL) << 6) |
		     (s[2] & 0x3f);
		if (*r < 0x800 || (*r >= 0xd800 && *r < 0xe000))
			return -1;
		return 3;
	}
	if ((s[0] & 0xf8) == 0xf0 && n >= 4 && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80) {
		*r = ((s[0] & 0x07UL) << 18) | ((s[1] & 0x3fUL) << 12) |
		     ((s[2] & 0x3fUL) << 6) | (s[3] & 0x3f);
		if (*r < 0x10000 || *r > 0x10ffff)
			return -1;
		return 4;
	}
	return -1;
}

static void put_rune(kd_buf *b, unsigned long r)
{
	char t[4];

	if (r > 0x10ffff || (r >= 0xd800 && r < 0xe000))
		r = 0xfffd;
	if (r < 0x80) {
		kd_buf_putc(b, (char)r);
	} else if (r < 0x800) {
		t[0] = (char)(0xc0 | (r >> 6));
		t[1] = (char)(0x80 | (r & 0x3f));
		kd_buf_put(b, t, 2);
	} else if (r < 0x10000) {
		t[0] = (char)(0xe0 | (r >> 12));
		t[1] = (char)(0x80 | ((r >> 6) & 0x3f));
		t[2] = (char)(0x80 | (r & 0x3f));
		kd_buf_put(b, t, 3);
	} else {
		t[0] = (char)(0xf0 | (r >> 18));
		t[1] = (char)(0x80 | ((r >> 12) & 0x3f));
		t[2] = (char)(0x80 | ((r >> 6) & 0x3f));
		t[3] = (char)(0x80 | (r & 0x3f));
		kd_buf_put(b, t, 4);
	}
}

static void quote_rune_body(kd_buf *b, unsigned long r, char q, bool ascii)
{
	switch (r) {
	case '\a': kd_buf_puts(b, "\\a"); return;
	case '\b': kd_buf_puts(b, "\\b"); return;
	case '\f': kd_buf_puts(b, "\\f"); return;
	case '\n': kd_buf_puts(b, "\\n"); return;
	case '\r': kd_buf_puts(b, "\\r"); return;
	case '\t': kd_buf_puts(b, "\\t"); return;
	case '\v': kd_buf_puts(b, "\\v"); return;
	case '\\': kd_buf_puts(b, "\\\\"); return;
	}
	if (r == (unsigned long)q) {
		kd_buf_putc(b, '\\');
		kd_buf_putc(b, q);
		return;
	}
	if (r < 0x20 || r == 0x7f)
		kd_buf_printf(b, "\\x%02lx", r);
	else if (r < 0x80)
		kd_buf_putc(b, (char)r);
	else if (ascii || (r >= 0x80 && r < 0xa0) || r == 0xad ||
		 r == 0x2028 || r == 0x2029 || r == 0xfeff)
		kd_buf_printf(b, r < 0x10000 ? "\\u%04lx" : "\\U%08lx", r);
	else
		put_rune(b, r);
}

/* strconv.Quote, or with ascii strconv.QuoteToASCII */
static void quote_str(kd_buf *b, const char *s, size_t n, bool ascii)
{
	size_t i = 0;

	kd_buf_putc(b, '"');
	while (i < n) {
		unsigned long r;
		int k = utf8_dec((const unsigned char *)s + i, n - i, &r);

		if (k < 0) {
			kd_buf_printf(b, "\\x%02x", (unsigned char)s[i]);
			i++;
			continue;
		}
		quote_rune_body(b, r, '"', ascii);
		i += (size_t)k;
	}
	kd_buf_putc(b, '"');
}

void kd_tmpl_quote(kd_buf *b, const char *s, size_t n)
{
	quote_str(b, s, n, false);
}

static void print_val(kd_buf *b, const kd_value *v, char verb,
		      const spec *sp, int depth);

static void bad_verb(kd_buf *b, const kd_value *v, char verb)
{
	kd_buf_printf(b, "%%!%c(", verb);
	if (!v || v->type == KD_NULL) {
		kd_buf_puts(b, "<nil>");
	} else {
		spec z = {0};

		kd_buf_printf(b, "%s=", kd_tmpl_type_name(v));
		print_val(b, v, 'v', &z, 0);
	}
	kd_buf_putc(b, ')');
}

static int cmp_ent(const void *a, const void *b)
{
	const kd_map_ent *x = *(const kd_map_ent *const *)a;
	const kd_map_ent *y = *(const kd_map_ent *const *)b;

	return kd_bytes_cmp(x->key, x->klen, y->key, y->klen);
}

/* %#v: Go-syntax representation */
static void print_gosyntax(kd_buf *b, const kd_value *v, int depth, bool top)
{
	size_t i;

	if (depth > 256) {
		kd_buf_puts(b, "...");
		return;
	}
	if (!v || v->type == KD_NULL) {
		kd_buf_puts(b, top ? "<nil>" : "interface {}(nil)");
		return;
	}
	switch (v->type) {
	case KD_STR:
		kd_tmpl_quote(b, v->u.str.ptr, v->u.str.len);
		return;
	case KD_LIST:
		kd_buf_puts(b, "[]interface {}{");
		for (i = 0; i < v->u.list.len; i++) {
			if (i)
				kd_buf_puts(b, ", ");
			print_gosyntax(b, v->u.list.items[i], depth + 1, false);
		}
		kd_buf_putc(b, '}');
		return;
	case KD_MAP: {
		size_t n = v->u.map.len;
		const kd_map_ent **e = n ? malloc(n * sizeof *e) : NULL;

		if (n && !e && !b->failed)
			b->failed = KD_ENOMEM;
		kd_buf_puts(b, "map[string]interface {}{");
		for (i = 0; e && i < n; i++)
			e[i] = &v->u.map.ents[i];
		if (e)
			qsort(e, n, sizeof *e, cmp_ent);
		for (i = 0; e && i < n; i++) {
			if (i)
				kd_buf_puts(b, ", ");
			kd_tmpl_quote(b, e[i]->key, e[i]->klen);
			kd_buf_putc(b, ':');
			print_gosyntax(b, e[i]->val, depth + 1, false);
		}
		free(e);
		kd_buf_putc(b, '}');
		return;
	}
	default: {
		spec z = {0};

		print_val(b, v, 'v', &z, depth + 1);
	}
	}
}

/* complex128: "(re+imi)", each part a float, the imaginary one signed */
static void print_complex(kd_buf *b, const kd_value *v, char verb,
			  const spec *sp)
{
	double re = v->u.map.ents[0].val->u.f, im = v->u.map.ents[1].val->u.f;
	char fv = verb == 'v' ? 'g' : verb;
	spec s2 = *sp;

	if (!strchr("vgGeEfF", verb)) {
		bad_verb(b, v, verb);
		return;
	}
	kd_buf_putc(b, '(');
	fmt_float(b, re, fv, sp->hasprec ? sp->prec : strchr("gG", fv) ? -1 : 6, sp);
	s2.plus = true;
	fmt_float(b, im, fv, sp->hasprec ? sp->prec : strchr("gG", fv) ? -1 : 6, &s2);
	kd_buf_puts(b, "i)");
}

static void print_int(kd_buf *b, const kd_value *v, char verb,
		      const spec *sp)
{
	switch (verb) {
	case 'v': case 'd': fmt_int(b, v->u.i, 10, verb, sp); return;
	case 'b': fmt_int(b, v->u.i, 2, verb, sp); return;
	case 'o': case 'O': fmt_int(b, v->u.i, 8, verb, sp); return;
	case 'x': case 'X': fmt_int(b, v->u.i, 16, verb, sp); return;
	case 'c': {
		kd_buf t = KD_BUF_INIT(16);

		put_rune(&t, v->u.i < 0 ? 0xfffd : (unsigned long)v->u.i);
		pad(b, t.ptr, t.len, sp);
		done_tmp(b, &t);
		return;
	}
	case 'q': {
		kd_buf t = KD_BUF_INIT(32);
		unsigned long r = v->u.i < 0 || v->u.i > 0x10ffff
					  ? 0xfffd : (unsigned long)v->u.i;

		kd_buf_putc(&t, '\'');
		quote_rune_body(&t, r, '\'', sp->plus);
		kd_buf_putc(&t, '\'');
		pad(b, t.ptr, t.len, sp);
		done_tmp(b, &t);
		return;
	}
	case 'U': {
		char t[40];
		int n = snprintf(t, sizeof t, "U+%04llX",
				 (unsigned long long)v->u.i);

		pad(b, t, (size_t)n, sp);
		return;
	}
	}
	bad_verb(b, v, verb);
}

static void print_float(kd_buf *b, const kd_value *v, char verb,
			const spec *sp)
{
	switch (verb) {
	case 'v': fmt_float(b, v->u.f, 'g', sp->hasprec ? sp->prec : -1, sp); return;
	case 'g': case 'G':
		fmt_float(b, v->u.f, verb, sp->hasprec ? sp->prec : -1, sp);
		return;
	case 'e': case 'E': case 'f': case 'F':
		fmt_float(b, v->u.f, verb, sp->hasprec ? sp->prec : 6, sp);
		return;
	}
	bad_verb(b, v, verb);
}

static void print_str(kd_buf *b, const kd_value *v, char verb,
		      const spec *sp)
{
	const char *s = v->u.str.ptr;
	size_t n = v->u.str.len, i;

	switch (verb) {
	case 'v': case 's':
		if (sp->hasprec) {
			size_t k = 0, c = 0;

			while (k < n && c < (size_t)sp->prec) {
				k++;
				while (k < n && ((unsigned char)s[k] & 0xc0) == 0x80)
					k++;
				c++;
			}
			n = k;
		}
		pad(b, s, n, sp);
		return;
	case 'q': {
		kd_buf t = KD_BUF_INIT((size_t)-1 / 2);

		if (sp->sharp && !memchr(s, '`', n) && !memchr(s, '\n', n)) {
			kd_buf_putc(&t, '`');
			kd_buf_put(&t, s, n);
			kd_buf_putc(&t, '`');
		} else if (sp->plus) {
			quote_str(&t, s, n, true);
		} else {
			kd_tmpl_quote(&t, s, n);
		}
		pad(b, t.ptr, t.len, sp);
		done_tmp(b, &t);
		return;
	}
	case 'x': case 'X': {
		kd_buf t = KD_BUF_INIT((size_t)-1 / 2);
		const char *d = verb == 'x' ? "0123456789abcdef"
					    : "0123456789ABCDEF";

		for (i = 0; i < n; i++) {
			if (sp->space && i)
				kd_buf_putc(&t, ' ');
			if (sp->sharp && (sp->space || i == 0)) {
				kd_buf_putc(&t, '0');
				kd_buf_putc(&t, verb);
			}
			kd_buf_putc(&t, d[(unsigned char)s[i] >> 4]);
			kd_buf_putc(&t, d[(unsigned char)s[i] & 15]);
		}
		pad(b, t.ptr, t.len, sp);
		done_tmp(b, &t);
		return;
	}
	}
	bad_verb(b, v, verb);
}

/* Go's fmt.tooLarge: the largest width or precision taken from an
 * argument (a larger one prints %!(BADWIDTH) or %!(BADPREC)) */
static bool too_large(int64_t v)
{
	return v > 1000000 || v < -1000000;
}

/* Go's fmt.parsenum at f[*i]: whether digits were there, their value in
 * *num. A number that grows past 1e6 before its last digit is Go's
 * overflow: no number, and the rest of the format is consumed (so
 * %!(NOVERB) follows); 10000009 is the largest that passes. */
static bool parse_num(const char *f, size_t *i, size_t n, int *num)
{
	bool is = false;

	*num = 0;
	for (; *i < n && f[*i] >= '0' && f[*i] <= '9'; (*i)++) {
		if (too_large(*num)) {
			*num = 0;
			*i = n;
			return false;
		}
		*num = *num * 10 + (f[*i] - '0');
		is = true;
	}
	return is;
}

/* Go prints a map with its keys sorted */
static void print_map(kd_buf *b, const kd_value *v, char verb,
		      const spec *sp, int depth)
{
	size_t i, n = v->u.map.len;
	const kd_map_ent **e = n ? malloc(n * sizeof *e) : NULL;

	/* the sort array failing is the buffer's failure: no map printed
	 * short */
	if (n && !e) {
		if (!b->failed)
			b->failed = KD_ENOMEM;
		return;
	}
	kd_buf_puts(b, "map[");
	for (i = 0; i < n; i++)
		e[i] = &v->u.map.ents[i];
	if (n)
		qsort(e, n, sizeof *e, cmp_ent);
	for (i = 0; i < n; i++) {
		kd_value k;

		if (i)
			kd_buf_putc(b, ' ');
		k.type = KD_STR;
		k.u.str.ptr = e[i]->key;
		k.u.str.len = e[i]->klen;
		print_val(b, &k, verb, sp, depth + 1);
		kd_buf_putc(b, ':');
		print_val(b, e[i]->val, verb, sp, depth + 1);
	}
	free(e);
	kd_buf_putc(b, ']');
}

/* Go's fmt calls a value's String method for the verbs that print
 * strings: a host object of the execution (a time, a version) prints
 * what its host's printer writes, formatted as that string. */
static bool print_stringer(kd_buf *b, const kd_value *v, char verb,
			   const spec *sp)
{
	const kd_tmpl_funcs *fs;
	kd_buf t;
	kd_value sv;
	int kind, i;

	if (!sp->x || !v || v->type != KD_MAP || !verb || !strchr("vsqxX", verb))
		return false;
	fs = sp->x->t->funcs;
	kind = fs->nprinters ? kd_tmpl_obj_kind(sp->x, v) : 0;
	if (!kind)
		return false;
	kd_buf_init(&t, b->limit);
	for (i = 0; i < fs->nprinters; i++)
		if (fs->printers[i](sp->x, &t, v, kind))
			break;
	if (i == fs->nprinters) {
		kd_buf_free(&t);
		return false;
	}
	sv.type = KD_STR;
	sv.u.str.ptr = t.ptr;
	sv.u.str.len = t.len;
	if (t.failed)
		b->failed = b->failed ? b->failed : t.failed;
	else
		print_str(b, &sv, verb, sp);
	kd_buf_free(&t);
	return true;
}

static void print_val(kd_buf *b, const kd_value *v, char verb,
		      const spec *sp, int depth)
{
	size_t i;

	if (verb == 'v' && sp->sharp) {
		kd_buf t = KD_BUF_INIT((size_t)-1 / 2);
		spec s2 = *sp;

		print_gosyntax(&t, v, depth, depth == 0);
		s2.sharp = false;
		pad(b, t.ptr, t.len, &s2);
		done_tmp(b, &t);
		return;
	}
	if (depth > 256) {
		kd_buf_puts(b, "...");
		return;
	}
	if (kd_tmpl_is_cert(v)) {
		/* a Go struct: its fields in order, in braces */
		kd_buf_putc(b, '{');
		print_val(b, v->u.map.ents[0].val, verb, sp, depth + 1);
		kd_buf_putc(b, ' ');
		print_val(b, v->u.map.ents[1].val, verb, sp, depth + 1);
		kd_buf_putc(b, '}');
		return;
	}
	if (kd_tmpl_is_complex(v)) {
		print_complex(b, v, verb, sp);
		return;
	}
	if (print_stringer(b, v, verb, sp))
		return;
	if (!v || v->type == KD_NULL) {
		if (depth > 0 || verb == 'v')
			pad(b, "<nil>", 5, sp);
		else
			bad_verb(b, v, verb);
		return;
	}
	switch (v->type) {
	case KD_BOOL:
		if (verb == 'v' || verb == 't')
			pad(b, v->u.b ? "true" : "false", v->u.b ? 4 : 5, sp);
		else
			bad_verb(b, v, verb);
		return;
	case KD_INT:
		print_int(b, v, verb, sp);
		return;
	case KD_FLOAT:
		print_float(b, v, verb, sp);
		return;
	case KD_STR:
		print_str(b, v, verb, sp);
		return;
	case KD_LIST:
		kd_buf_putc(b, '[');
		for (i = 0; i < v->u.list.len; i++) {
			if (i)
				kd_buf_putc(b, ' ');
			print_val(b, v->u.list.items[i], verb, sp, depth + 1);
		}
		kd_buf_putc(b, ']');
		return;
	case KD_MAP:
		print_map(b, v, verb, sp, depth);
		return;
	default:
		return;
	}
}

void kd_tmpl_fmt_v(kd_tmpl_ex *x, kd_buf *b, const kd_value *v)
{
	spec z = {0};

	z.x = x;
	print_val(b, v, 'v', &z, 0);
}

void kd_tmpl_sprint(kd_tmpl_ex *x, kd_buf *b, kd_value **argv, int argc)
{
	int i;
	bool prev_str = false;

	for (i = 0; i < argc; i++) {
		bool is_str = argv[i] && argv[i]->type == KD_STR;

		if (i > 0 && !is_str && !prev_str)
			kd_buf_putc(b, ' ');
		kd_tmpl_fmt_v(x, b, argv[i]);
		prev_str = is_str;
	}
}

void kd_tmpl_sprintln(kd_tmpl_ex *x, kd_buf *b, kd_value **argv, int argc)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (i)
			kd_buf_putc(b, ' ');
		kd_tmpl_fmt_v(x, b, argv[i]);
	}
	kd_buf_putc(b, '\n');
}

void kd_tmpl_sprintf(kd_tmpl_ex *x, kd_buf *b, const char *f, size_t n,
		     kd_value **argv, int argc)
{
	size_t i = 0;
	int an = 0;

	while (i < n) {
		spec sp;
		unsigned long verb;
		int k;

		if (f[i] != '%') {
			size_t j = i;

			while (j < n && f[j] != '%')
				j++;
			kd_buf_put(b, f + i, j - i);
			i = j;
			continue;
		}
		i++;
		memset(&sp, 0, sizeof sp);
		sp.x = x;
		for (; i < n; i++) {
			if (f[i] == '#') sp.sharp = true;
			else if (f[i] == '0') sp.zero = !sp.minus;
			else if (f[i] == '+') sp.plus = true;
			else if (f[i] == '-') { sp.minus = true; sp.zero = false; }
			else if (f[i] == ' ') sp.space = true;
			else break;
		}
		if (i < n && f[i] == '*') {
			i++;
			if (an < argc && argv[an] && argv[an]->type == KD_INT &&
			    !too_large(argv[an]->u.i)) {
				sp.haswid = true;
				sp.wid = (int)argv[an]->u.i;
				if (sp.wid < 0) {
					sp.minus = true;
					sp.wid = -sp.wid;
					sp.zero = false;
				}
			} else {
				kd_buf_puts(b, "%!(BADWIDTH)");
			}
			an++;
		} else {
			sp.haswid = parse_num(f, &i, n, &sp.wid);
		}
		if (i < n && f[i] == '.') {
			i++;
			sp.hasprec = true;
			if (i < n && f[i] == '*') {
				i++;
				/* Go: a negative precision is no precision, and says so */
				if (an < argc && argv[an] && argv[an]->type == KD_INT &&
				    !too_large(argv[an]->u.i) && argv[an]->u.i >= 0) {
					sp.prec = (int)argv[an]->u.i;
				} else {
					sp.hasprec = false;
					kd_buf_puts(b, "%!(BADPREC)");
				}
				an++;
			} else {
				parse_num(f, &i, n, &sp.prec);
			}
		}
		if (i >= n) {
			kd_buf_puts(b, "%!(NOVERB)");
			break;
		}
		k = utf8_dec((const unsigned char *)f + i, n - i, &verb);
		if (k < 0) {
			k = 1;
			verb = 0xfffd;
		}
		i += (size_t)k;
		if (verb == '%') {
			kd_buf_putc(b, '%');
			continue;
		}
		if (an >= argc) {
			kd_buf_puts(b, "%!");
			put_rune(b, verb);
			kd_buf_puts(b, "(MISSING)");
			continue;
		}
		if (verb == 'T') {
			const char *tn = argv[an] ? kd_tmpl_type_name(argv[an])
						  : "<nil>";

			pad(b, tn, strlen(tn), &sp);
			an++;
			continue;
		}
		if (verb > 0x7f) {
			kd_buf_puts(b, "%!");
			put_rune(b, verb);
			kd_buf_putc(b, '(');
			if (!argv[an] || argv[an]->type == KD_NULL)
				kd_buf_puts(b, "<nil>");
			else {
				kd_buf_printf(b, "%s=", kd_tmpl_type_name(argv[an]));
				kd_tmpl_fmt_v(x, b, argv[an]);
			}
			kd_buf_putc(b, ')');
			an++;
			continue;
		}
		print_val(b, argv[an], (char)verb, &sp, 0);
		an++;
	}
	if (an < argc) {
		kd_buf_puts(b, "%!(EXTRA ");
		for (; an < argc; an++) {
			if (!argv[an] || argv[an]->type == KD_NULL)
				kd_buf_puts(b, "<nil>");
			else {
				kd_buf_printf(b, "%s=", kd_tmpl_type_name(argv[an]));
				kd_tmpl_fmt_v(x, b, argv[an]);
			}
			if (an + 1 < argc)
				kd_buf_puts(b, ", ");
		}
		kd_buf_putc(b, ')');
	}
}
