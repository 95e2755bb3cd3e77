/* The parser: Go's RE2 syntax (syntax.Perl: Perl classes and flags,
 * Unicode classes, one-line ^ $, classes that match \n) into a syntax
 * tree, with Go's errors and limits. Groups are kept on an explicit stack,
 * not the C stack, so nesting is bounded by the tree height check alone
 * (KD_LIMIT_REGEX_DEPTH, as Go's maxHeight). */
#include "regex/internal.h"

#include "base/limits.h"

#include <stdio.h>
#include <string.h>

typedef struct frame {
	kd_rx_node **alts, **items;
	int nalts, calts, nitems, citems;
	int flags; /* the flags before the group, restored at its ) */
	int cap;   /* its group number, 0 for (?:...), -1 for the whole */
} frame;

typedef struct P {
	kd_arena *a;
	const char *s;
	size_t n, i;
	int flags;
	frame *st;
	int nst, cst;
	kd_rx_tree *t;
	int cnames;
	size_t nrunes;
	char *err;
	size_t errlen;
} P;

#define E_MISSPAREN "missing closing )"
#define E_UNEXPAREN "unexpected )"
#define E_MISSBRACKET "missing closing ]"
#define E_RANGE "invalid character class range"
#define E_ESCAPE "invalid escape sequence"
#define E_NAMED "invalid named capture"
#define E_PERLOP "invalid or unsupported Perl syntax"
#define E_REPOP "invalid nested repetition operator"
#define E_REPSIZE "invalid repeat count"
#define E_UTF8 "invalid UTF-8"
#define E_MISSARG "missing argument to repetition operator"
#define E_BACKSLASH "trailing backslash at end of expression"
#define E_DEPTH "expression nests too deeply"
#define E_LARGE "expression too large"

/* the first a b pair in s[from..n), NULL when none (memmem is GNU's) */
static const char *find2(const char *s, size_t from, size_t n, char a, char b)
{
	for (size_t k = from; k + 1 < n; k++)
		if (s[k] == a && s[k + 1] == b)
			return s + k;
	return NULL;
}

static int fail(P *p, const char *what, size_t from, size_t to)
{
	snprintf(p->err, p->errlen, "error parsing regexp: %s: `%.*s`", what,
		 (int)(to - from), p->s + from);
	return -1;
}

static int oom(P *p)
{
	snprintf(p->err, p->errlen, "error parsing regexp: out of memory");
	return -1;
}

/* the rune at byte at; -1 (with Go's error) on invalid UTF-8 */
static int next_rune(P *p, size_t at, uint32_t *c, size_t *w)
{
	*c = kd_rx_decode(p->s + at, p->n - at, w);
	if (*c == RX_BADRUNE && *w == 1)
		return fail(p, E_UTF8, at, p->n);
	return 0;
}

static int grow(P *p, kd_rx_node ***v, int *cap, int need)
{
	kd_rx_node **nv;
	int nc;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap * 2 : 4;
	nv = kd_arena_grow(p->a, *v, (size_t)*cap * sizeof **v, (size_t)nc * sizeof **v);
	if (!nv)
		return oom(p);
	*v = nv;
	*cap = nc;
	return 0;
}

static kd_rx_node *node(P *p, int op, kd_rx_node **sub, int nsub)
{
	kd_rx_node *x = kd_arena_zalloc(p->a, sizeof *x);
	int h = 0;

	if (!x) {
		oom(p);
		return NULL;
	}
	x->op = op;
	x->sub = sub;
	x->nsub = nsub;
	for (int k = 0; k < nsub; k++)
		if (sub[k]->height > h)
			h = sub[k]->height;
	x->height = h + 1;
	if (x->height > KD_LIMIT_REGEX_DEPTH) {
		fail(p, E_DEPTH, 0, p->n);
		return NULL;
	}
	return x;
}

static kd_rx_node *wrap1(P *p, int op, kd_rx_node *sub)
{
	kd_rx_node **v = kd_arena_alloc(p->a, sizeof *v);

	if (!v) {
		oom(p);
		return NULL;
	}
	v[0] = sub;
	return node(p, op, v, 1);
}

static int push(P *p, kd_rx_node *x)
{
	frame *f = &p->st[p->nst - 1];

	if (!x || grow(p, &f->items, &f->citems, f->nitems + 1))
		return -1;
	f->items[f->nitems++] = x;
	return 0;
}

static int push_op(P *p, int op)
{
	return push(p, node(p, op, NULL, 0));
}

static int push_class(P *p, kd_rx_class *c)
{
	kd_rx_node *x = node(p, RX_CLASS, NULL, 0);

	if (!x)
		return -1;
	kd_rx_class_clean(c);
	x->cls = *c;
	p->nrunes += 2 * c->n;
	return push(p, x);
}

/* a literal rune; under (?i) the class of its folding orbit */
static int literal(P *p, uint32_t c)
{
	kd_rx_node *x;

	if ((p->flags & RX_FOLD) && kd_rx_simple_fold(c) != c) {
		kd_rx_class k = {0};

		if (kd_rx_class_add_folded(p->a, &k, c, c))
			return oom(p);
		return push_class(p, &k);
	}
	x = node(p, RX_RUNE, NULL, 0);
	if (!x)
		return -1;
	x->rune = c;
	p->nrunes++;
	return push(p, x);
}

/* the frame's current concatenation as one node */
static kd_rx_node *concat(P *p, frame *f)
{
	kd_rx_node *x;

	if (f->nitems == 0)
		x = node(p, RX_EMPTY, NULL, 0);
	else if (f->nitems == 1)
		x = f->items[0];
	else
		x = node(p, RX_CAT, f->items, f->nitems);
	f->items = NULL;
	f->nitems = f->citems = 0;
	return x;
}

static int bar(P *p)
{
	frame *f = &p->st[p->nst - 1];
	kd_rx_node *x = concat(p, f);

	if (!x || grow(p, &f->alts, &f->calts, f->nalts + 1))
		return -1;
	f->alts[f->nalts++] = x;
	return 0;
}

/* the frame as one node: its alternation */
static kd_rx_node *close_frame(P *p)
{
	frame *f = &p->st[p->nst - 1];

	if (bar(p))
		return NULL;
	if (f->nalts == 1)
		return f->alts[0];
	return node(p, RX_ALT, f->alts, f->nalts);
}

static int open_group(P *p, int cap, const char *name, size_t namelen)
{
	frame *f;

	if (p->nst == p->cst) {
		int nc = p->cst * 2;
		frame *ns = kd_arena_grow(p->a, p->st, (size_t)p->cst * sizeof *ns,
					  (size_t)nc * sizeof *ns);

		if (!ns)
			return oom(p);
		p->st = ns;
		p->cst = nc;
	}
	f = &p->st[p->nst++];
	memset(f, 0, sizeof *f);
	f->flags = p->flags;
	f->cap = cap;
	if (cap > 0) {
		kd_rx_tree *t = p->t;

		if (cap >= p->cnames) {
			int nc = p->cnames ? p->cnames * 2 : 8;

			t->names = kd_arena_grow(p->a, t->names, (size_t)p->cnames * sizeof *t->names,
						 (size_t)nc * sizeof *t->names);
			t->namelens = kd_arena_grow(p->a, t->namelens,
						    (size_t)p->cnames * sizeof *t->namelens,
						    (size_t)nc * sizeof *t->namelens);
			if (!t->names || !t->namelens)
				return oom(p);
			p->cnames = nc;
		}
		t->names[cap] = name;
		t->namelens[cap] = namelen;
	}
	return 0;
}

static int close_group(P *p)
{
	kd_rx_node *x;
	int cap, flags;

	if (p->nst == 1)
		return fail(p, E_UNEXPAREN, 0, p->n);
	cap = p->st[p->nst - 1].cap;
	flags = p->st[p->nst - 1].flags;
	x = close_frame(p);
	if (!x)
		return -1;
	p->nst--;
	p->flags = flags;
	if (cap > 0) {
		x = wrap1(p, RX_CAP, x);
		if (!x)
			return -1;
		x->cap = cap;
	}
	return push(p, x);
}

static bool is_alnum(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* (?flags), (?flags:re), (?P<name>re), (?<name>re); p->i at the ( */
static int perl_flags(P *p)
{
	const char *t = p->s + p->i;
	size_t tn = p->n - p->i, k;
	int flags = p->flags, sign = 1;
	bool saw = false;

	if ((tn > 4 && t[2] == 'P' && t[3] == '<') || (tn > 3 && t[2] == '<')) {
		size_t start = t[2] == 'P' ? 4 : 3, end;
		const char *gt = memchr(t, '>', tn);
		uint32_t c;
		size_t w;

		if (!gt) {
			for (k = p->i; k < p->n; k += w)
				if (next_rune(p, k, &c, &w))
					return -1;
			return fail(p, E_NAMED, p->i, p->n);
		}
		end = (size_t)(gt - t);
		for (k = p->i + start; k < p->i + end; k += w)
			if (next_rune(p, k, &c, &w))
				return -1;
		if (end == start)
			return fail(p, E_NAMED, p->i, p->i + end + 1);
		for (k = start; k < end; k++)
			if (t[k] != '_' && !is_alnum((unsigned char)t[k]))
				return fail(p, E_NAMED, p->i, p->i + end + 1);
		p->i += end + 1;
		return open_group(p, ++p->t->ngroups, t + start, end - start);
	}
	for (k = 2; k < tn;) {
		uint32_t c;
		size_t w;

		if (next_rune(p, p->i + k, &c, &w))
			return -1;
		k += w;
		switch (c) {
		case 'i': flags |= RX_FOLD; saw = true; continue;
		case 'm': flags &= ~RX_ONELINE; saw = true; continue;
		case 's': flags |= RX_DOTNL; saw = true; continue;
		case 'U': flags |= RX_NONGREEDY; saw = true; continue;
		case '-':
			if (sign < 0)
				break;
			/* inverted, so that setting a bit above clears it */
			sign = -1;
			flags = ~flags;
			saw = false;
			continue;
		case ':':
		case ')':
			if (sign < 0) {
				if (!saw)
					break;
				flags = ~flags;
			}
			p->i += k;
			if (c == ':' && open_group(p, 0, NULL, 0))
				return -1;
			p->flags = flags;
			return 0;
		}
		break;
	}
	return fail(p, E_PERLOP, p->i, p->i + k);
}

/* Go's repeatIsValid: nested counts multiplied stay within the bound */
static bool repeat_valid(const kd_rx_node *x, int n)
{
	if (x->op == RX_REPEAT) {
		int m = x->max;

		if (m == 0)
			return true;
		if (m < 0)
			m = x->min;
		if (m > n)
			return false;
		if (m > 0)
			n /= m;
	}
	for (int k = 0; k < x->nsub; k++)
		if (!repeat_valid(x->sub[k], n))
			return false;
	return true;
}

/* applies * + ? {n,m} (op text from at, p->i after it) to the last item */
static int repeat(P *p, int op, int min, int max, size_t at, size_t last_rep)
{
	frame *f = &p->st[p->nst - 1];
	bool lazy = p->flags & RX_NONGREEDY;
	kd_rx_node *x;

	if (p->i < p->n && p->s[p->i] == '?') {
		p->i++;
		lazy = !lazy;
	}
	if (last_rep != (size_t)-1)
		return fail(p, E_REPOP, last_rep, p->i);
	if (f->nitems == 0)
		return fail(p, E_MISSARG, at, p->i);
	x = wrap1(p, op, f->items[f->nitems - 1]);
	if (!x)
		return -1;
	x->lazy = lazy;
	x->min = min;
	x->max = max;
	f->items[f->nitems - 1] = x;
	if (op == RX_REPEAT && (min >= 2 || max >= 2) && !repeat_valid(x, KD_LIMIT_REGEX_REPEAT))
		return fail(p, E_REPSIZE, at, p->i);
	return 0;
}

/* Go's parseInt: digits without a leading zero, -1 when too large */
static bool parse_int(P *p, size_t *i, int *v)
{
	size_t st = *i;

	if (st >= p->n || p->s[st] < '0' || p->s[st] > '9')
		return false;
	if (st + 1 < p->n && p->s[st] == '0' && p->s[st + 1] >= '0' && p->s[st + 1] <= '9')
		return false;
	*v = 0;
	for (; *i < p->n && p->s[*i] >= '0' && p->s[*i] <= '9'; (*i)++) {
		if (*v >= 100000000)
			*v = -1;
		else if (*v >= 0)
			*v = *v * 10 + (p->s[*i] - '0');
	}
	return true;
}

/* {n}, {n,}, {n,m} at p->i; false (a literal {) when it is none of them */
static bool parse_braces(P *p, int *min, int *max, size_t *end)
{
	size_t i = p->i + 1;

	if (!parse_int(p, &i, min))
		return false;
	if (i >= p->n)
		return false;
	if (p->s[i] == ',') {
		i++;
		if (i >= p->n)
			return false;
		if (p->s[i] == '}')
			*max = -1;
		else if (!parse_int(p, &i, max))
			return false;
	} else {
		*max = *min;
	}
	if (i >= p->n || p->s[i] != '}')
		return false;
	*end = i + 1;
	return true;
}

static int parse_repeat_op(P *p, size_t *rep, size_t last_rep)
{
	size_t at = p->i, end;
	int min, max;

	*rep = at;
	if (p->s[at] == '{') {
		if (!parse_braces(p, &min, &max, &end)) {
			*rep = (size_t)-1;
			p->i++;
			return literal(p, '{');
		}
		p->i = end;
		if (min < 0 || min > KD_LIMIT_REGEX_REPEAT || max > KD_LIMIT_REGEX_REPEAT ||
		    (max >= 0 && min > max))
			return fail(p, E_REPSIZE, at, end);
		return repeat(p, RX_REPEAT, min, max, at, last_rep);
	}
	p->i++;
	return repeat(p, p->s[at] == '*' ? RX_STAR : p->s[at] == '+' ? RX_PLUS : RX_QUEST,
		      0, 0, at, last_rep);
}

static int hexval(uint32_t c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* Go's parseEscape: one escaped rune at p->i (the backslash) */
static int parse_escape(P *p, uint32_t *out)
{
	size_t at = p->i, i = at + 1, w;
	uint32_t c;

	if (i >= p->n)
		return fail(p, E_BACKSLASH, 0, 0);
	if (next_rune(p, i, &c, &w))
		return -1;
	i += w;
	switch (c) {
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
		/* a lone digit would be a backreference */
		if (i >= p->n || p->s[i] < '0' || p->s[i] > '7')
			break;
		/* fall through */
	case '0':
		*out = c - '0';
		for (int k = 1; k < 3 && i < p->n && p->s[i] >= '0' && p->s[i] <= '7'; k++)
			*out = *out * 8 + (uint32_t)(p->s[i++] - '0');
		p->i = i;
		return 0;
	case 'x':
		if (i >= p->n)
			break;
		if (next_rune(p, i, &c, &w))
			return -1;
		i += w;
		if (c == '{') {
			int nhex = 0;

			*out = 0;
			for (;;) {
				int v;

				if (i >= p->n)
					goto bad;
				if (next_rune(p, i, &c, &w))
					return -1;
				i += w;
				if (c == '}')
					break;
				v = hexval(c);
				if (v < 0)
					goto bad;
				*out = *out * 16 + (uint32_t)v;
				if (*out > RX_MAXRUNE)
					goto bad;
				nhex++;
			}
			if (!nhex)
				break;
			p->i = i;
			return 0;
		} else {
			int x = hexval(c), y;

			if (next_rune(p, i, &c, &w))
				return -1;
			i += w;
			y = hexval(c);
			if (x < 0 || y < 0)
				break;
			*out = (uint32_t)(x * 16 + y);
			p->i = i;
			return 0;
		}
	case 'a': *out = '\a'; p->i = i; return 0;
	case 'f': *out = '\f'; p->i = i; return 0;
	case 'n': *out = '\n'; p->i = i; return 0;
	case 'r': *out = '\r'; p->i = i; return 0;
	case 't': *out = '\t'; p->i = i; return 0;
	case 'v': *out = '\v'; p->i = i; return 0;
	default:
		/* escaped punctuation is itself */
		if (c < 0x80 && !is_alnum(c)) {
			*out = c;
			p->i = i;
			return 0;
		}
	}
bad:
	return fail(p, E_ESCAPE, at, i);
}

static const struct group {
	const char *name;
	const char *r; /* lo hi pairs */
} perl_groups[] = {
	{"\\d", "09"}, {"\\s", "\t\n\f\f\r\r  "}, {"\\w", "09AZ__az"},
}, posix_groups[] = {
	{"[:alnum:]", "09AZaz"}, {"[:alpha:]", "AZaz"}, {"[:ascii:]", "\x01\x7f"},
	{"[:blank:]", "\t\t  "}, {"[:cntrl:]", "\x01\x1f\x7f\x7f"}, {"[:digit:]", "09"},
	{"[:graph:]", "!~"}, {"[:lower:]", "az"}, {"[:print:]", " ~"},
	{"[:punct:]", "!/:@[`{~"}, {"[:space:]", "\t\r  "}, {"[:upper:]", "AZ"},
	{"[:word:]", "09AZ__az"}, {"[:xdigit:]", "09AFaf"},
};

/* adds a group (negated when neg) to c, folded under (?i) as Go folds it
 * first and negates after */
static int add_group(P *p, kd_rx_class *c, const uint32_t *r, size_t n, bool neg)
{
	kd_rx_class t = {0};

	if (kd_rx_class_add_table(p->a, &t, r, n, p->flags & RX_FOLD))
		return oom(p);
	kd_rx_class_clean(&t);
	if (neg && kd_rx_class_negate(p->a, &t))
		return oom(p);
	if (kd_rx_class_add_table(p->a, c, t.r, t.n, false))
		return oom(p);
	return 0;
}

static int add_ascii_group(P *p, kd_rx_class *c, const char *r, bool neg)
{
	uint32_t v[16];
	size_t n = strlen(r) / 2;

	for (size_t k = 0; k < 2 * n; k++)
		v[k] = (unsigned char)r[k];
	if (r == posix_groups[2].r || r == posix_groups[4].r)
		v[0] = 0; /* the tables are C strings: NUL stands as \x01 */
	return add_group(p, c, v, n, neg);
}

/* \d \D \s \S \w \W at p->i: 1 added, 0 not one */
static int perl_class(P *p, kd_rx_class *c)
{
	char k;

	if (p->i + 1 >= p->n || p->s[p->i] != '\\')
		return 0;
	k = p->s[p->i + 1];
	for (size_t g = 0; g < sizeof perl_groups / sizeof *perl_groups; g++)
		if (perl_groups[g].name[1] == (k | 32) && (k == 'd' || k == 'D' || k == 's' ||
							    k == 'S' || k == 'w' || k == 'W')) {
			p->i += 2;
			return add_ascii_group(p, c, perl_groups[g].r, k < 'a') ? -1 : 1;
		}
	return 0;
}

/* \pN \p{Name} \PN \P{^Name} at p->i: 1 added, 0 not one */
static int unicode_class(P *p, kd_rx_class *c)
{
	size_t at = p->i, i, w, name, namelen, end;
	const kd_rx_utable *t;
	bool neg;
	uint32_t ch;

	if (at + 1 >= p->n || p->s[at] != '\\' || (p->s[at + 1] != 'p' && p->s[at + 1] != 'P'))
		return 0;
	neg = p->s[at + 1] == 'P';
	i = at + 2;
	if (i < p->n && next_rune(p, i, &ch, &w))
		return -1;
	if (i < p->n && ch == '{') {
		const char *cb = memchr(p->s + at, '}', p->n - at);

		if (!cb) {
			for (size_t k = at; k < p->n; k += w)
				if (next_rune(p, k, &ch, &w))
					return -1;
			return fail(p, E_RANGE, at, p->n);
		}
		end = (size_t)(cb - p->s) + 1;
		name = at + 3;
		namelen = end - 1 - name;
		for (size_t k = name; k < name + namelen; k += w)
			if (next_rune(p, k, &ch, &w))
				return -1;
	} else {
		end = i < p->n ? i + w : i;
		name = i;
		namelen = end - i;
	}
	if (namelen && p->s[name] == '^') {
		neg = !neg;
		name++;
		namelen--;
	}
	t = kd_rx_utable_find(p->s + name, namelen);
	if (!t)
		return fail(p, E_RANGE, at, end);
	p->i = end;
	return add_group(p, c, t->r, t->n, neg) ? -1 : 1;
}

/* [:alpha:] [:^alpha:] inside a class: 1 added, 0 not one */
static int posix_class(P *p, kd_rx_class *c)
{
	const char *e;
	size_t len;
	bool neg;

	if (p->i + 2 >= p->n || p->s[p->i] != '[' || p->s[p->i + 1] != ':')
		return 0;
	e = find2(p->s, p->i + 2, p->n, ':', ']');
	if (!e)
		return 0;
	len = (size_t)(e + 2 - (p->s + p->i));
	neg = p->s[p->i + 2] == '^';
	for (size_t g = 0; g < sizeof posix_groups / sizeof *posix_groups; g++) {
		const char *nm = posix_groups[g].name;
		size_t nl = strlen(nm);

		if (len == nl + neg && !memcmp(p->s + p->i + 2 + neg, nm + 2, nl - 2)) {
			p->i += len;
			return add_ascii_group(p, c, posix_groups[g].r, neg) ? -1 : 1;
		}
	}
	return fail(p, E_RANGE, p->i, p->i + len);
}

static int class_char(P *p, size_t whole, uint32_t *c)
{
	size_t w;

	if (p->i >= p->n)
		return fail(p, E_MISSBRACKET, whole, p->n);
	if (p->s[p->i] == '\\')
		return parse_escape(p, c);
	if (next_rune(p, p->i, c, &w))
		return -1;
	p->i += w;
	return 0;
}

/* a bracketed class at p->i */
static int parse_class(P *p)
{
	size_t whole = p->i;
	kd_rx_class c = {0};
	bool neg = false, first = true;

	p->i++;
	if (p->i < p->n && p->s[p->i] == '^') {
		neg = true;
		p->i++;
	}
	while (p->i >= p->n || p->s[p->i] != ']' || first) {
		size_t rng = p->i;
		uint32_t lo, hi;
		int rc;

		first = false;
		if ((rc = posix_class(p, &c)) || (rc = unicode_class(p, &c)) ||
		    (rc = perl_class(p, &c))) {
			if (rc < 0)
				return -1;
			continue;
		}
		if (class_char(p, whole, &lo))
			return -1;
		hi = lo;
		if (p->i + 1 < p->n && p->s[p->i] == '-' && p->s[p->i + 1] != ']') {
			p->i++;
			if (class_char(p, whole, &hi))
				return -1;
			if (hi < lo)
				return fail(p, E_RANGE, rng, p->i);
		}
		if (((p->flags & RX_FOLD) ? kd_rx_class_add_folded : kd_rx_class_add)(p->a, &c, lo, hi))
			return oom(p);
	}
	p->i++;
	kd_rx_class_clean(&c);
	if (neg && kd_rx_class_negate(p->a, &c))
		return oom(p);
	return push_class(p, &c);
}

/* a backslash outside a class */
static int backslash(P *p)
{
	kd_rx_class c = {0};
	uint32_t r;
	int rc;

	if (p->i + 1 < p->n) {
		switch (p->s[p->i + 1]) {
		case 'A': p->i += 2; return push_op(p, RX_BOT);
		case 'z': p->i += 2; return push_op(p, RX_EOT);
		case 'b': p->i += 2; return push_op(p, RX_WORDB);
		case 'B': p->i += 2; return push_op(p, RX_NWORDB);
		case 'C': return fail(p, E_ESCAPE, p->i, p->i + 2);
		case 'Q': {
			const char *e = find2(p->s, p->i + 2, p->n, '\\', 'E');
			size_t end = e ? (size_t)(e - p->s) : p->n, w;

			for (p->i += 2; p->i < end; p->i += w) {
				if (next_rune(p, p->i, &r, &w) || literal(p, r))
					return -1;
			}
			if (e)
				p->i += 2;
			return 0;
		}
		}
	}
	if ((rc = unicode_class(p, &c)) || (rc = perl_class(p, &c)))
		return rc < 0 ? -1 : push_class(p, &c);
	if (parse_escape(p, &r))
		return -1;
	return literal(p, r);
}

/* one token at p->i; *rep set to where a repetition operator began */
static int token(P *p, size_t *rep, size_t last_rep)
{
	uint32_t c;
	size_t w;

	*rep = (size_t)-1;
	switch (p->s[p->i]) {
	case '(':
		if (p->i + 1 < p->n && p->s[p->i + 1] == '?')
			return perl_flags(p);
		p->i++;
		return open_group(p, ++p->t->ngroups, NULL, 0);
	case '|':
		p->i++;
		return bar(p);
	case ')':
		p->i++;
		return close_group(p);
	case '^':
		p->i++;
		return push_op(p, (p->flags & RX_ONELINE) ? RX_BOT : RX_BOL);
	case '$':
		p->i++;
		return push_op(p, (p->flags & RX_ONELINE) ? RX_EOT : RX_EOL);
	case '.':
		p->i++;
		return push_op(p, (p->flags & RX_DOTNL) ? RX_ANY : RX_ANYNL);
	case '[':
		return parse_class(p);
	case '*': case '+': case '?': case '{':
		return parse_repeat_op(p, rep, last_rep);
	case '\\':
		return backslash(p);
	}
	if (next_rune(p, p->i, &c, &w))
		return -1;
	p->i += w;
	return literal(p, c);
}

/* Go's calcSize: the instructions the program will need */
static int64_t calc_size(const kd_rx_node *x)
{
	int64_t s = 0, sub = x->nsub ? calc_size(x->sub[0]) : 0;

	switch (x->op) {
	case RX_RUNE: s = 1; break;
	case RX_CAP: case RX_STAR: s = 2 + sub; break;
	case RX_PLUS: case RX_QUEST: s = 1 + sub; break;
	case RX_CAT: case RX_ALT:
		for (int k = 0; k < x->nsub; k++)
			s += k ? calc_size(x->sub[k]) : sub;
		if (x->op == RX_ALT)
			s += x->nsub - 1;
		break;
	case RX_REPEAT:
		if (x->max == -1)
			s = x->min == 0 ? 2 + sub : 1 + (int64_t)x->min * sub;
		else
			s = (int64_t)x->max * sub + (x->max - x->min);
		break;
	}
	if (s > KD_LIMIT_REGEX_INSTS)
		s = (int64_t)KD_LIMIT_REGEX_INSTS + 1;
	return s < 1 ? 1 : s;
}

int kd_rx_parse(kd_rx_tree *out, kd_arena *a, const char *s, size_t n,
		char *err, size_t errlen)
{
	P p = {.a = a, .s = s, .n = n, .flags = RX_ONELINE, .t = out, .err = err,
	       .errlen = errlen};
	size_t last_rep = (size_t)-1;

	memset(out, 0, sizeof *out);
	p.cst = 8;
	p.st = kd_arena_alloc(a, (size_t)p.cst * sizeof *p.st);
	if (!p.st)
		return oom(&p);
	if (open_group(&p, -1, NULL, 0))
		return -1;
	while (p.i < p.n) {
		size_t rep;

		if (token(&p, &rep, last_rep))
			return -1;
		last_rep = rep;
		if (p.nrunes > KD_LIMIT_REGEX_RUNES)
			return fail(&p, E_LARGE, 0, n);
	}
	if (p.nst > 1)
		return fail(&p, E_MISSPAREN, 0, n);
	out->root = close_frame(&p);
	if (!out->root)
		return -1;
	if (calc_size(out->root) > KD_LIMIT_REGEX_INSTS)
		return fail(&p, E_LARGE, 0, n);
	if (out->ngroups >= KD_LIMIT_REGEX_GROUPS) {
		snprintf(err, errlen,
			 "error parsing regexp: more than %d capture groups (kedge's limit): `%.*s`",
			 KD_LIMIT_REGEX_GROUPS - 1, (int)n, s);
		return -1;
	}
	return 0;
}
