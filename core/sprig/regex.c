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
		size_t *cap)
{
	int rc = kd_regex_find(rx, s->u.str.ptr, s->u.str.len, from, cap);

	if (rc < 0)
		kd_tmpl_fail(x, KD_ELIMIT, "regular expression too complex for the input");
	return rc;
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
	size_t cap[KD_REGEX_MAXGROUPS * 2];
	bool bad;

	need(x, &rx, argv[0], must, &bad);
	if (bad)
		return vbool(x, false);
	return vbool(x, find(x, rx, argv[1], 0, cap) == 1);
}

FN(f_regexMatch) { (void)argc; return match(x, argv, false); }
FN(f_mustRegexMatch) { (void)argc; return match(x, argv, true); }

/* all matches, Go's FindAllString: an empty match right after a previous
 * match is skipped */
static kd_value *find_all(kd_tmpl_ex *x, kd_regex *rx, const kd_value *s,
			  int64_t lim, bool split)
{
	kd_value *l = vlist(x);
	size_t cap[KD_REGEX_MAXGROUPS * 2], pos = 0, prev_end = (size_t)-1, beg = 0;
	int64_t count = 0;

	if (lim == 0)
		return split ? l : &kd_tmpl_nil;
	if (split && s->u.str.len == 0) {
		kd_sprig_push(x, l, kd_tmpl_str(x, "", 0));
		return l;
	}
	while (pos <= s->u.str.len) {
		if (lim > 0 && count >= (split ? lim - 1 : lim))
			break;
		if (find(x, rx, s, pos, cap) != 1)
			break;
		if (cap[1] == cap[0] && cap[0] == prev_end) {
			/* empty match adjacent to the previous one */
			pos = cap[0] + 1;
			if (pos > s->u.str.len)
				break;
			continue;
		}
		if (split) {
			if (!(cap[1] == 0 && cap[0] == 0)) {
				kd_sprig_push(x, l, kd_tmpl_str(x, s->u.str.ptr + beg, cap[0] - beg));
				count++;
			}
			beg = cap[1];
		} else {
			kd_sprig_push(x, l, kd_tmpl_str(x, s->u.str.ptr + cap[0], cap[1] - cap[0]));
			count++;
		}
		prev_end = cap[1];
		pos = cap[1] > cap[0] ? cap[1] : cap[1] + 1;
	}
	if (split)
		kd_sprig_push(x, l, kd_tmpl_str(x, s->u.str.ptr + beg, s->u.str.len - beg));
	else if (!l->u.list.len)
		return l;
	return l;
}

static kd_value *findall_fn(kd_tmpl_ex *x, kd_value **argv, bool must)
{
	kd_regex *rx;
	bool bad;

	need(x, &rx, argv[0], must, &bad);
	if (bad)
		return vlist(x);
	return find_all(x, rx, argv[1], argv[2]->u.i, false);
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
	return find_all(x, rx, argv[1], argv[2]->u.i, true);
}

FN(f_regexSplit) { (void)argc; return split_fn(x, argv, false); }
FN(f_mustRegexSplit) { (void)argc; return split_fn(x, argv, true); }

static kd_value *find_fn(kd_tmpl_ex *x, kd_value **argv, bool must)
{
	kd_regex *rx;
	size_t cap[KD_REGEX_MAXGROUPS * 2];
	bool bad;

	need(x, &rx, argv[0], must, &bad);
	if (bad || find(x, rx, argv[1], 0, cap) != 1)
		return kd_tmpl_str(x, "", 0);
	return kd_tmpl_str(x, argv[1]->u.str.ptr + cap[0], cap[1] - cap[0]);
}

FN(f_regexFind) { (void)argc; return find_fn(x, argv, false); }
FN(f_mustRegexFind) { (void)argc; return find_fn(x, argv, true); }

/* Go's Regexp.Expand for $1 ${1} $name */
static void expand(kd_buf *b, const kd_value *repl, const kd_value *s,
		   const size_t *cap, int ngroups)
{
	const char *t = repl->u.str.ptr;
	size_t n = repl->u.str.len, i = 0;

	while (i < n) {
		if (t[i] != '$') {
			kd_buf_putc(b, t[i++]);
			continue;
		}
		i++;
		if (i < n && t[i] == '$') {
			kd_buf_putc(b, '$');
			i++;
			continue;
		}
		{
			bool brace = i < n && t[i] == '{';
			size_t st, e;
			int g = 0;
			bool num = true;

			if (brace)
				i++;
			st = i;
			while (i < n && ((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'z') ||
					 (t[i] >= 'A' && t[i] <= 'Z') || t[i] == '_'))
				i++;
			e = i;
			if (brace) {
				if (i >= n || t[i] != '}' || e == st) {
					kd_buf_putc(b, '$');
					i = st - 1;
					kd_buf_putc(b, t[i++]);
					continue;
				}
				i++;
			}
			if (e == st) {
				kd_buf_putc(b, '$');
				continue;
			}
			for (size_t k = st; k < e; k++) {
				if (t[k] < '0' || t[k] > '9')
					num = false;
				else if (num && g < 100000000) /* Go: larger is no group */
					g = g * 10 + (t[k] - '0');
			}
			if (num && g <= ngroups && g < KD_REGEX_MAXGROUPS &&
			    cap[2 * g] != (size_t)-1 && cap[2 * g + 1] != (size_t)-1)
				kd_buf_put(b, s->u.str.ptr + cap[2 * g],
					   cap[2 * g + 1] - cap[2 * g]);
		}
	}
}

static kd_value *replace_fn(kd_tmpl_ex *x, kd_value **argv, bool must,
			    bool literal)
{
	kd_regex *rx;
	size_t cap[KD_REGEX_MAXGROUPS * 2], pos = 0, last = 0, prev_end = (size_t)-1;
	const kd_value *s = argv[1], *repl = argv[2];
	kd_buf *b;
	bool bad;

	need(x, &rx, argv[0], must, &bad);
	if (bad)
		return argv[1];
	b = kd_tmpl_tmpbuf(x);
	while (pos <= s->u.str.len && find(x, rx, s, pos, cap) == 1) {
		if (cap[1] == cap[0] && cap[0] == prev_end) {
			pos = cap[0] + 1;
			continue;
		}
		kd_buf_put(b, s->u.str.ptr + last, cap[0] - last);
		if (literal)
			kd_buf_put(b, repl->u.str.ptr, repl->u.str.len);
		else
			expand(b, repl, s, cap, kd_regex_ngroups(rx));
		last = cap[1];
		prev_end = cap[1];
		pos = cap[1] > cap[0] ? cap[1] : cap[1] + 1;
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
