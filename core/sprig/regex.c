/* Sprig's regex* functions (regexMatch, regexFind, regexFindAll,
 * regexSplit, regexReplaceAll[Literal], regexQuoteMeta and their must*
 * forms) over the engine of core/regex. */
#include "sprig/internal.h"
#include "regex/regex.h"

#include <string.h>

static void need(kd_tmpl_ex *x, kd_regex **rx, const kd_value *re, bool must,
		 bool *bad)
{
	char err[512];

	*bad = false;
	if (kd_regex_compile(rx, x->a, re->u.str.ptr, re->u.str.len, err, sizeof err)) {
		if (must)
			kd_tmpl_fail(x, 0, "%s", err);
		*bad = true;
	}
}

static int find(kd_tmpl_ex *x, kd_regex *rx, const kd_value *s, size_t from,
		size_t *cap, int ncap)
{
	int rc = kd_regex_find(rx, s->u.str.ptr, s->u.str.len, from, cap, ncap);

	if (rc < 0)
		kd_tmpl_fail(x, KD_ENOMEM, "out of memory matching a regular expression");
	return rc;
}

/* the width of the rune at pos, as Go steps past an empty match (0 at
 * the end) */
static size_t rune_width(const kd_value *s, size_t pos)
{
	const unsigned char *u = (const unsigned char *)s->u.str.ptr;
	size_t n = s->u.str.len, k, i;

	if (pos >= n)
		return 0;
	if (u[pos] < 0x80)
		return 1;
	k = u[pos] >= 0xF0 && u[pos] <= 0xF4 ? 3 : u[pos] >= 0xE0 && u[pos] <= 0xEF ? 2 :
	    u[pos] >= 0xC2 && u[pos] <= 0xDF ? 1 : 0;
	if (!k || pos + k >= n)
		return 1;
	for (i = 1; i <= k; i++)
		if ((u[pos + i] & 0xC0) != 0x80)
			return 1;
	/* overlong, surrogate and too-large forms are one bad byte */
	if ((u[pos] == 0xE0 && u[pos + 1] < 0xA0) || (u[pos] == 0xED && u[pos + 1] > 0x9F) ||
	    (u[pos] == 0xF0 && u[pos + 1] < 0x90) || (u[pos] == 0xF4 && u[pos + 1] > 0x8F))
		return 1;
	return k + 1;
}

static kd_value *vbool(kd_tmpl_ex *x, bool b)
{
	kd_value *v = kd_value_bool(x->a, b);

	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	return v;
}

static kd_value *vlist(kd_tmpl_ex *x)
{
	kd_value *v = kd_value_list(x->a, 4);

	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	return v;
}

static kd_value *match(kd_tmpl_ex *x, kd_value **argv, bool must)
{
	kd_regex *rx;
	bool bad;

	need(x, &rx, argv[0], must, &bad);
	if (bad)
		return vbool(x, false);
	return vbool(x, find(x, rx, argv[1], 0, NULL, 0) == 1);
}

FN(f_regexMatch) { (void)argc; return match(x, argv, false); }
FN(f_mustRegexMatch) { (void)argc; return match(x, argv, true); }

/* Go's allMatches: each match's bounds into m (grown in x's arena), at
 * most lim (all when negative); an empty match right after a match is
 * skipped, and after an empty match the search moves on by a rune */
static size_t all_matches(kd_tmpl_ex *x, kd_regex *rx, const kd_value *s, int64_t lim,
			  size_t **m)
{
	size_t cap[2], pos = 0, prev_end = (size_t)-1, cnt = 0, cm = 0;

	*m = NULL;
	while (pos <= s->u.str.len && (lim < 0 || (int64_t)cnt < lim)) {
		bool accept = true;

		if (find(x, rx, s, pos, cap, 2) != 1)
			break;
		if (cap[1] == pos) {
			size_t w = rune_width(s, pos);

			if (cap[0] == prev_end)
				accept = false;
			pos = w ? pos + w : s->u.str.len + 1;
		} else {
			pos = cap[1];
		}
		prev_end = cap[1];
		if (!accept)
			continue;
		if (cnt == cm) {
			size_t nc = cm ? cm * 2 : 8;
			size_t *nm = kd_arena_grow(x->a, *m, cm * 2 * sizeof *nm, nc * 2 * sizeof *nm);

			if (!nm) {
				kd_tmpl_errorf(x, "out of memory");
				break;
			}
			*m = nm;
			cm = nc;
		}
		(*m)[2 * cnt] = cap[0];
		(*m)[2 * cnt + 1] = cap[1];
		cnt++;
	}
	return cnt;
}

/* Go's FindAllString (nil when nothing matched) and Split */
static kd_value *find_all(kd_tmpl_ex *x, kd_regex *rx, const kd_value *s,
			  int64_t lim, bool split, const kd_value *re)
{
	const char *p = s->u.str.ptr;
	size_t *m, cnt, k, beg = 0, end = 0, nout = 0;
	kd_value *l;

	if (lim == 0)
		return split ? vlist(x) : &kd_tmpl_nil;
	l = vlist(x);
	if (split && s->u.str.len == 0 && re->u.str.len) {
		kd_sprig_push(x, l, kd_tmpl_str(x, "", 0));
		return l;
	}
	cnt = all_matches(x, rx, s, lim, &m);
	if (!split) {
		for (k = 0; k < cnt; k++)
			kd_sprig_push(x, l, kd_tmpl_str(x, p + m[2 * k], m[2 * k + 1] - m[2 * k]));
		return cnt ? l : &kd_tmpl_nil;
	}
	for (k = 0; k < cnt; k++) {
		if (lim > 0 && (int64_t)nout == lim - 1)
			break;
		end = m[2 * k];
		if (m[2 * k + 1] != 0) {
			kd_sprig_push(x, l, kd_tmpl_str(x, p + beg, end - beg));
			nout++;
		}
		beg = m[2 * k + 1];
	}
	if (end != s->u.str.len)
		kd_sprig_push(x, l, kd_tmpl_str(x, p + beg, s->u.str.len - beg));
	return l;
}

static kd_value *findall_fn(kd_tmpl_ex *x, kd_value **argv, bool must)
{
	kd_regex *rx;
	bool bad;

	need(x, &rx, argv[0], must, &bad);
	if (bad)
		return vlist(x);
	return find_all(x, rx, argv[1], argv[2]->u.i, false, argv[0]);
}

FN(f_regexFindAll) { (void)argc; return findall_fn(x, argv, false); }
FN(f_mustRegexFindAll) { (void)argc; return findall_fn(x, argv, true); }

static kd_value *split_fn(kd_tmpl_ex *x, kd_value **argv, bool must)
{
	kd_regex *rx;
	bool bad;

	need(x, &rx, argv[0], must, &bad);
	if (bad)
		return vlist(x);
	return find_all(x, rx, argv[1], argv[2]->u.i, true, argv[0]);
}

FN(f_regexSplit) { (void)argc; return split_fn(x, argv, false); }
FN(f_mustRegexSplit) { (void)argc; return split_fn(x, argv, true); }

static kd_value *find_fn(kd_tmpl_ex *x, kd_value **argv, bool must)
{
	kd_regex *rx;
	size_t cap[2];
	bool bad;

	need(x, &rx, argv[0], must, &bad);
	if (bad || find(x, rx, argv[1], 0, cap, 2) != 1)
		return kd_tmpl_str(x, "", 0);
	return kd_tmpl_str(x, argv[1]->u.str.ptr + cap[0], cap[1] - cap[0]);
}

FN(f_regexFind) { (void)argc; return find_fn(x, argv, false); }
FN(f_mustRegexFind) { (void)argc; return find_fn(x, argv, true); }

/* Go's replaceAll: the replacement is not made for an empty match right
 * after a match, and the search always moves on by at least a rune */
static kd_value *replace_fn(kd_tmpl_ex *x, kd_value **argv, bool must,
			    bool literal)
{
	kd_regex *rx;
	size_t cap[KD_REGEX_MAXGROUPS * 2], pos = 0, last = 0;
	const kd_value *s = argv[1], *repl = argv[2];
	int ncap = 2;
	kd_buf *b;
	bool bad;

	need(x, &rx, argv[0], must, &bad);
	if (bad)
		return argv[1];
	if (!literal && repl->u.str.len && memchr(repl->u.str.ptr, '$', repl->u.str.len))
		ncap = 2 * (kd_regex_ngroups(rx) + 1);
	b = kd_tmpl_tmpbuf(x);
	while (pos <= s->u.str.len && find(x, rx, s, pos, cap, ncap) == 1) {
		size_t w = rune_width(s, pos);

		kd_buf_put(b, s->u.str.ptr + last, cap[0] - last);
		if (cap[1] > last || cap[0] == 0) {
			if (literal || ncap == 2)
				kd_buf_put(b, repl->u.str.ptr, repl->u.str.len);
			else
				kd_regex_expand(rx, b, repl->u.str.ptr, repl->u.str.len,
						s->u.str.ptr, cap);
		}
		last = cap[1];
		if (pos + w > cap[1])
			pos += w;
		else if (pos + 1 > cap[1])
			pos++;
		else
			pos = cap[1];
	}
	kd_buf_put(b, s->u.str.ptr + last, s->u.str.len - last);
	return kd_tmpl_tmpbuf_value(x, b);
}

FN(f_regexReplaceAll) { (void)argc; return replace_fn(x, argv, false, false); }
FN(f_mustRegexReplaceAll) { (void)argc; return replace_fn(x, argv, true, false); }
FN(f_regexReplaceAllLiteral) { (void)argc; return replace_fn(x, argv, false, true); }
FN(f_mustRegexReplaceAllLiteral) { (void)argc; return replace_fn(x, argv, true, true); }

FN(f_regexQuoteMeta)
{
	kd_buf b = KD_BUF_INIT(1u << 28);
	size_t i;

	(void)argc;
	for (i = 0; i < argv[0]->u.str.len; i++) {
		char c = argv[0]->u.str.ptr[i];

		if (strchr("\\.+*?()|[]{}^$", c) && c)
			kd_buf_putc(&b, '\\');
		kd_buf_putc(&b, c);
	}
	return kd_tmpl_buf_value(x, &b);
}

static const kd_tmpl_func regex_funcs[] = {
	{"regexMatch", f_regexMatch, "ss", false, false},
	{"mustRegexMatch", f_mustRegexMatch, "ss", false, false},
	{"regexFindAll", f_regexFindAll, "ssi", false, false},
	{"mustRegexFindAll", f_mustRegexFindAll, "ssi", false, false},
	{"regexSplit", f_regexSplit, "ssi", false, false},
	{"mustRegexSplit", f_mustRegexSplit, "ssi", false, false},
	{"regexFind", f_regexFind, "ss", false, false},
	{"mustRegexFind", f_mustRegexFind, "ss", false, false},
	{"regexReplaceAll", f_regexReplaceAll, "sss", false, false},
	{"mustRegexReplaceAll", f_mustRegexReplaceAll, "sss", false, false},
	{"regexReplaceAllLiteral", f_regexReplaceAllLiteral, "sss", false, false},
	{"mustRegexReplaceAllLiteral", f_mustRegexReplaceAllLiteral, "sss", false, false},
	{"regexQuoteMeta", f_regexQuoteMeta, "s", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_sprig_register_regex(kd_tmpl_funcs *fs)
{
	kd_tmpl_funcs_add(fs, regex_funcs);
}
