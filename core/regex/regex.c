/* The regex engine: a recursive-descent parser into a node tree and a
 * backtracking matcher with continuations, a step budget and a depth
 * bound (see regex.h). */
#include "regex/regex.h"

#include "base/limits.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RX_STEPS 2000000L
#define RX_MAXGROUPS KD_REGEX_MAXGROUPS
#define RX_DEPTH 10000 /* recursion bound: the C stack, not time */

enum { R_CHAR, R_ANY, R_ANYNL, R_CLASS, R_BOL, R_EOL, R_BOT, R_EOT, R_WORDB,
       R_NWORDB, R_GROUP, R_CAT, R_ALT, R_REP, R_EMPTY };

typedef struct rx_node rx_node;
struct rx_node {
	int type;
	unsigned char c;
	bool icase;
	unsigned char set[32];
	int group;
	int min, max; /* max -1: unbounded */
	bool lazy;
	rx_node **kids;
	int nkids;
};

typedef struct rx_state {
	kd_arena *a;
	const char *p;
	size_t n, i;
	int ngroups;
	bool icase, dotnl, multiline;
	const char *err;
	/* matching */
	const char *s;
	size_t sn;
	long steps;
	int depth;
	size_t cap[RX_MAXGROUPS * 2];
} rx_state;

static rx_node *nn(rx_state *r, int type)
{
	rx_node *n = kd_arena_zalloc(r->a, sizeof *n);

	if (!n) {
		r->err = "out of memory";
		return NULL;
	}
	n->type = type;
	return n;
}

static void kid(rx_state *r, rx_node *p, rx_node *k)
{
	rx_node **nk = kd_arena_alloc(r->a, (size_t)(p->nkids + 1) * sizeof *nk);

	if (!nk) {
		r->err = "out of memory";
		return;
	}
	if (p->nkids)
		memcpy(nk, p->kids, (size_t)p->nkids * sizeof *nk);
	nk[p->nkids++] = k;
	p->kids = nk;
}

static void setb(unsigned char *s, int c) { s[c >> 3] |= (unsigned char)(1 << (c & 7)); }
static bool getb(const unsigned char *s, int c) { return s[c >> 3] & (1 << (c & 7)); }

static void add_perl(unsigned char *s, char k)
{
	int c;

	for (c = 0; c < 256; c++) {
		bool in;

		switch (k | 32) {
		case 'd': in = c >= '0' && c <= '9'; break;
		case 'w': in = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			       (c >= 'A' && c <= 'Z') || c == '_'; break;
		default: in = c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
			      c == '\f' || c == '\v';
		}
		if (k >= 'A' && k <= 'Z')
			in = !in;
		if (in)
			setb(s, c);
	}
}

static int esc_char(char c)
{
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'v': return '\v';
	case 'a': return '\a';
	}
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return -1;
	return (unsigned char)c;
}

static rx_node *parse_alt(rx_state *r);

static rx_node *parse_class(rx_state *r)
{
	rx_node *n = nn(r, R_CLASS);
	bool neg = false, first = true;
	int c, i;

	if (!n)
		return NULL;
	if (r->i < r->n && r->p[r->i] == '^')
		neg = true, r->i++;
	for (;;) {
		int lo, hi;

		if (r->i >= r->n) {
			r->err = "missing closing ]";
			return NULL;
		}
		c = (unsigned char)r->p[r->i];
		if (c == ']' && !first) {
			r->i++;
			break;
		}
		first = false;
		if (c == '[' && r->i + 1 < r->n && r->p[r->i + 1] == ':') {
			const char *e = memchr(r->p + r->i, ']', r->n - r->i);
			static const struct { const char *name; const char *k; } pc[] = {
				{"[:digit:]", "d"}, {"[:space:]", "s"}, {"[:word:]", "w"},
				{"[:alpha:]", "a"}, {"[:alnum:]", "n"}, {"[:upper:]", "u"},
				{"[:lower:]", "l"}, {"[:xdigit:]", "x"}, {"[:punct:]", "p"}};
			size_t len = e ? (size_t)(e - (r->p + r->i)) + 1 : 0;

			for (i = 0; e && i < 9; i++)
				if (strlen(pc[i].name) == len && !memcmp(pc[i].name, r->p + r->i, len))
					break;
			if (e && i < 9) {
				int k;

				for (k = 0; k < 128; k++) {
					bool in = false;

					switch (pc[i].k[0]) {
					case 'd': in = k >= '0' && k <= '9'; break;
					case 's': in = k == ' ' || (k >= 9 && k <= 13); break;
					case 'w': in = (k >= '0' && k <= '9') || (k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z') || k == '_'; break;
					case 'a': in = (k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z'); break;
					case 'n': in = (k >= '0' && k <= '9') || (k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z'); break;
					case 'u': in = k >= 'A' && k <= 'Z'; break;
					case 'l': in = k >= 'a' && k <= 'z'; break;
					case 'x': in = (k >= '0' && k <= '9') || (k >= 'a' && k <= 'f') || (k >= 'A' && k <= 'F'); break;
					case 'p': in = k > 32 && k < 127 && !((k >= '0' && k <= '9') || (k >= 'a' && k <= 'z') || (k >= 'A' && k <= 'Z')); break;
					}
					if (in)
						setb(n->set, k);
				}
				r->i += len;
				continue;
			}
		}
		if (c == '\\') {
			r->i++;
			if (r->i >= r->n) {
				r->err = "trailing backslash at end of expression";
				return NULL;
			}
			c = (unsigned char)r->p[r->i++];
			if (strchr("dDwWsS", c)) {
				add_perl(n->set, (char)c);
				continue;
			}
			lo = esc_char((char)c);
			if (lo < 0) {
				r->err = "invalid escape sequence";
				return NULL;
			}
		} else {
			lo = c;
			r->i++;
		}
		hi = lo;
		if (r->i + 1 < r->n && r->p[r->i] == '-' && r->p[r->i + 1] != ']') {
			r->i++;
			hi = (unsigned char)r->p[r->i++];
			if (hi == '\\' && r->i < r->n)
				hi = esc_char(r->p[r->i++]);
			if (hi < lo) {
				r->err = "invalid character class range";
				return NULL;
			}
		}
		for (i = lo; i <= hi; i++) {
			setb(n->set, i);
			if (r->icase && i >= 'a' && i <= 'z')
				setb(n->set, i - 32);
			if (r->icase && i >= 'A' && i <= 'Z')
				setb(n->set, i + 32);
		}
	}
	if (neg)
		for (i = 0; i < 32; i++)
			n->set[i] = (unsigned char)~n->set[i];
	if (neg)
		for (i = 0x80; i < 0x100; i++) /* keep UTF-8 bytes matchable */
			setb(n->set, i);
	return n;
}

static rx_node *parse_atom(rx_state *r)
{
	char c = r->p[r->i];
	rx_node *n;

	switch (c) {
	case '(': {
		int g = -1;

		r->i++;
		if (r->i + 1 < r->n && r->p[r->i] == '?') {
			if (r->p[r->i + 1] == ':') {
				r->i += 2;
			} else if (r->p[r->i + 1] == 'P' || r->p[r->i + 1] == '<') {
				const char *e = memchr(r->p + r->i, '>', r->n - r->i);

				if (!e) {
					r->err = "invalid named capture";
					return NULL;
				}
				r->i = (size_t)(e - r->p) + 1;
				g = ++r->ngroups;
			} else {
				/* flags: (?i) (?s) (?m) (?U) */
				size_t j = r->i + 1;

				while (j < r->n && strchr("imsU-", r->p[j])) {
					if (r->p[j] == 'i')
						r->icase = true;
					if (r->p[j] == 's')
						r->dotnl = true;
					if (r->p[j] == 'm')
						r->multiline = true;
					j++;
				}
				if (j < r->n && r->p[j] == ')') {
					r->i = j + 1;
					return nn(r, R_EMPTY);
				}
				if (j < r->n && r->p[j] == ':') {
					r->i = j + 1;
				} else {
					r->err = "invalid or unsupported Perl syntax";
					return NULL;
				}
			}
		} else {
			g = ++r->ngroups;
		}
		n = nn(r, R_GROUP);
		if (!n)
			return NULL;
		n->group = g;
		kid(r, n, parse_alt(r));
		if (r->err)
			return NULL;
		if (r->i >= r->n || r->p[r->i] != ')') {
			r->err = "missing closing )";
			return NULL;
		}
		r->i++;
		return n;
	}
	case '[':
		r->i++;
		return parse_class(r);
	case '.':
		r->i++;
		return nn(r, r->dotnl ? R_ANYNL : R_ANY);
	case '^':
		r->i++;
		return nn(r, r->multiline ? R_BOL : R_BOT);
	case '$':
		r->i++;
		return nn(r, r->multiline ? R_EOL : R_EOT);
	case '\\': {
		int e;

		r->i++;
		if (r->i >= r->n) {
			r->err = "trailing backslash at end of expression";
			return NULL;
		}
		c = r->p[r->i++];
		if (strchr("dDwWsS", c)) {
			n = nn(r, R_CLASS);
			if (n)
				add_perl(n->set, c);
			return n;
		}
		if (c == 'b' || c == 'B')
			return nn(r, c == 'b' ? R_WORDB : R_NWORDB);
		if (c == 'A')
			return nn(r, R_BOT);
		if (c == 'z')
			return nn(r, R_EOT);
		e = esc_char(c);
		if (e < 0) {
			r->err = "invalid escape sequence";
			return NULL;
		}
		n = nn(r, R_CHAR);
		if (n)
			n->c = (unsigned char)e, n->icase = r->icase;
		return n;
	}
	case '*': case '+': case '?':
		r->err = "missing argument to repetition operator";
		return NULL;
	}
	r->i++;
	n = nn(r, R_CHAR);
	if (n)
		n->c = (unsigned char)c, n->icase = r->icase;
	return n;
}

static rx_node *parse_cat(rx_state *r)
{
	rx_node *cat = nn(r, R_CAT);

	while (cat && !r->err && r->i < r->n && r->p[r->i] != '|' && r->p[r->i] != ')') {
		rx_node *a = parse_atom(r), *rep;
		int min = -2, max = -1;

		if (!a || r->err)
			return NULL;
		for (;;) {
			char q = r->i < r->n ? r->p[r->i] : 0;

			min = -2;
			if (q == '*')
				min = 0, max = -1;
			else if (q == '+')
				min = 1, max = -1;
			else if (q == '?')
				min = 0, max = 1;
			else if (q == '{') {
				size_t j = r->i + 1;
				int lo = 0, hi;

				if (j >= r->n || r->p[j] < '0' || r->p[j] > '9')
					break;
				/* counts stop growing past 1e8, as in Go: any of
				 * them is an invalid repeat count */
				for (; j < r->n && r->p[j] >= '0' && r->p[j] <= '9'; j++)
					if (lo < 100000000)
						lo = lo * 10 + (r->p[j] - '0');
				hi = lo;
				if (j < r->n && r->p[j] == ',') {
					j++;
					hi = -1;
					if (j < r->n && r->p[j] >= '0' && r->p[j] <= '9') {
						hi = 0;
						for (; j < r->n && r->p[j] >= '0' && r->p[j] <= '9'; j++)
							if (hi < 100000000)
								hi = hi * 10 + (r->p[j] - '0');
					}
				}
				if (j >= r->n || r->p[j] != '}')
					break;
				if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) {
					r->err = "invalid repeat count";
					return NULL;
				}
				r->i = j;
				min = lo, max = hi;
			}
			if (min == -2)
				break;
			r->i++;
			if (a->type == R_REP) {
				r->err = "invalid nested repetition operator";
				return NULL;
			}
			rep = nn(r, R_REP);
			if (!rep)
				return NULL;
			rep->min = min;
			rep->max = max;
			if (r->i < r->n && r->p[r->i] == '?')
				rep->lazy = true, r->i++;
			kid(r, rep, a);
			a = rep;
		}
		kid(r, cat, a);
	}
	return cat;
}

static rx_node *parse_alt(rx_state *r)
{
	rx_node *alt = nn(r, R_ALT);

	if (!alt)
		return NULL;
	kid(r, alt, parse_cat(r));
	while (!r->err && r->i < r->n && r->p[r->i] == '|') {
		r->i++;
		kid(r, alt, parse_cat(r));
	}
	return alt;
}

/* ---- matching: backtracking with explicit continuations ---- */

typedef struct cont cont;
struct cont {
	const rx_node *n; /* CAT: the cat; REP: the rep; GROUP: the group */
	int idx;          /* CAT: next kid; REP: count so far */
	size_t start;     /* REP: where this iteration started */
	const cont *next;
};

static int m_node(rx_state *r, const rx_node *n, size_t i, const cont *k, size_t *end);

static bool is_word(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_';
}

static int run_cont(rx_state *r, const cont *k, size_t i, size_t *end)
{
	if (!k) {
		*end = i;
		return 1;
	}
	if (k->n->type == R_CAT) {
		if (k->idx < k->n->nkids) {
			cont c = {k->n, k->idx + 1, 0, k->next};

			return m_node(r, k->n->kids[k->idx], i, &c, end);
		}
		return run_cont(r, k->next, i, end);
	}
	if (k->n->type == R_GROUP) {
		int g = k->n->group, rc;
		size_t old = r->cap[2 * g + 1];

		r->cap[2 * g + 1] = i;
		rc = run_cont(r, k->next, i, end);
		if (rc != 1)
			r->cap[2 * g + 1] = old;
		return rc;
	}
	/* R_REP: one more iteration finished at i */
	{
		const rx_node *n = k->n;
		int cnt = k->idx;
		int rc;

		if (i == k->start && cnt > n->min) /* empty iteration: stop */
			return 0;
		if (n->max >= 0 && cnt >= n->max)
			return run_cont(r, k->next, i, end);
		if (cnt < n->min) {
			cont c = {n, cnt + 1, i, k->next};

			return m_node(r, n->kids[0], i, &c, end);
		}
		if (n->lazy) {
			cont c = {n, cnt + 1, i, k->next};

			rc = run_cont(r, k->next, i, end);
			if (rc)
				return rc;
			return m_node(r, n->kids[0], i, &c, end);
		} else {
			cont c = {n, cnt + 1, i, k->next};

			rc = m_node(r, n->kids[0], i, &c, end);
			if (rc)
				return rc;
			return run_cont(r, k->next, i, end);
		}
	}
}

static int m_node1(rx_state *r, const rx_node *n, size_t i, const cont *k,
		   size_t *end);

/* One character-class node at i: the position after it, or -1. */
static size_t step1(rx_state *r, const rx_node *n, size_t i)
{
	int c;

	if (i >= r->sn)
		return (size_t)-1;
	c = (unsigned char)r->s[i];
	switch (n->type) {
	case R_CHAR:
		if (c != n->c && !(n->icase && (c | 32) == (n->c | 32) &&
				   (c | 32) >= 'a' && (c | 32) <= 'z'))
			return (size_t)-1;
		return i + 1;
	case R_ANY:
	case R_ANYNL:
		if (n->type == R_ANY && c == '\n')
			return (size_t)-1;
		break;
	default:
		if (!getb(n->set, c))
			return (size_t)-1;
		if (c < 0xc0)
			return i + 1;
	}
	i++;
	while (i < r->sn && ((unsigned char)r->s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

/* Moves *jpos back over the last of cnt single-character steps that began
 * at i. Walking back over continuation bytes agrees with the forward
 * decoder on valid UTF-8; where it does not (stray continuation bytes
 * count one character each going forward), the steps are recounted from
 * i. -1 when that exceeds the step budget. */
static int back1(rx_state *r, const rx_node *kd, size_t i, size_t *jpos, int cnt)
{
	size_t old = *jpos, p = old - 1;
	int c;

	while (p > i && ((unsigned char)r->s[p] & 0xc0) == 0x80)
		p--;
	if (step1(r, kd, p) == old) {
		*jpos = p;
		return 0;
	}
	for (p = i, c = 0; c < cnt - 1; c++) {
		p = step1(r, kd, p);
		if (++r->steps > RX_STEPS)
			return -1;
	}
	*jpos = p;
	return 0;
}

static int m_node(rx_state *r, const rx_node *n, size_t i, const cont *k, size_t *end)
{
	int rc;

	if (++r->steps > RX_STEPS || r->depth >= RX_DEPTH)
		return -1;
	r->depth++;
	rc = m_node1(r, n, i, k, end);
	r->depth--;
	return rc;
}

static int m_node1(rx_state *r, const rx_node *n, size_t i, const cont *k,
		   size_t *end)
{
	int c, rc, j;

	switch (n->type) {
	case R_EMPTY:
		return run_cont(r, k, i, end);
	case R_CHAR:
		if (i >= r->sn)
			return 0;
		c = (unsigned char)r->s[i];
		if (c != n->c && !(n->icase && (c | 32) == (n->c | 32) &&
				   (c | 32) >= 'a' && (c | 32) <= 'z'))
			return 0;
		return run_cont(r, k, i + 1, end);
	case R_ANY:
	case R_ANYNL:
		if (i >= r->sn || (n->type == R_ANY && r->s[i] == '\n'))
			return 0;
		i++;
		while (i < r->sn && ((unsigned char)r->s[i] & 0xc0) == 0x80)
			i++;
		return run_cont(r, k, i, end);
	case R_CLASS:
		if (i >= r->sn || !getb(n->set, (unsigned char)r->s[i]))
			return 0;
		i++;
		if ((unsigned char)r->s[i - 1] >= 0xc0)
			while (i < r->sn && ((unsigned char)r->s[i] & 0xc0) == 0x80)
				i++;
		return run_cont(r, k, i, end);
	case R_BOT:
		return i == 0 ? run_cont(r, k, i, end) : 0;
	case R_EOT:
		return i == r->sn ? run_cont(r, k, i, end) : 0;
	case R_BOL:
		return i == 0 || r->s[i - 1] == '\n' ? run_cont(r, k, i, end) : 0;
	case R_EOL:
		return i == r->sn || r->s[i] == '\n' ? run_cont(r, k, i, end) : 0;
	case R_WORDB:
	case R_NWORDB: {
		bool a = i > 0 && is_word((unsigned char)r->s[i - 1]);
		bool b = i < r->sn && is_word((unsigned char)r->s[i]);

		if ((a != b) != (n->type == R_WORDB))
			return 0;
		return run_cont(r, k, i, end);
	}
	case R_CAT: {
		cont cc = {n, 1, 0, k};

		if (!n->nkids)
			return run_cont(r, k, i, end);
		return m_node(r, n->kids[0], i, &cc, end);
	}
	case R_ALT:
		for (j = 0; j < n->nkids; j++)
			if ((rc = m_node(r, n->kids[j], i, k, end)))
				return rc;
		return 0;
	case R_GROUP: {
		cont cc = {n, 0, 0, k};
		size_t os = 0, oe = 0;
		int g = n->group;

		if (g < 0)
			return m_node(r, n->kids[0], i, k, end);
		if (g < RX_MAXGROUPS) {
			os = r->cap[2 * g];
			oe = r->cap[2 * g + 1];
			r->cap[2 * g] = i;
		}
		rc = m_node(r, n->kids[0], i, g < RX_MAXGROUPS ? &cc : k, end);
		if (rc != 1 && g < RX_MAXGROUPS) {
			r->cap[2 * g] = os;
			r->cap[2 * g + 1] = oe;
		}
		return rc;
	}
	case R_REP: {
		cont cc = {n, 0, i, k};
		const rx_node *kd = n->kids[0];

		if (kd->type == R_CHAR || kd->type == R_ANY ||
		    kd->type == R_ANYNL || kd->type == R_CLASS) {
			/* one character per iteration: loop instead of
			 * recursing, so long inputs do not deepen the stack */
			size_t jpos = i, nj;
			int cnt = 0;

			if (!n->lazy) {
				while ((n->max < 0 || cnt < n->max) &&
				       (nj = step1(r, kd, jpos)) != (size_t)-1) {
					jpos = nj;
					cnt++;
					if (++r->steps > RX_STEPS)
						return -1;
				}
				if (cnt < n->min)
					return 0;
				for (;;) {
					if ((rc = run_cont(r, k, jpos, end)))
						return rc;
					if (cnt == n->min)
						return 0;
					if (back1(r, kd, i, &jpos, cnt))
						return -1;
					cnt--;
					if (++r->steps > RX_STEPS)
						return -1;
				}
			}
			for (;;) {
				if (cnt >= n->min && (rc = run_cont(r, k, jpos, end)))
					return rc;
				if (n->max >= 0 && cnt >= n->max)
					return 0;
				if ((nj = step1(r, kd, jpos)) == (size_t)-1)
					return 0;
				jpos = nj;
				cnt++;
				if (++r->steps > RX_STEPS)
					return -1;
			}
		}

		if (n->min == 0 && n->max == 0)
			return run_cont(r, k, i, end);
		cc.idx = 0;
		cc.start = (size_t)-1;
		/* enter as if an iteration just ended at i with count 0 */
		return run_cont(r, &cc, i, end);
	}
	}
	return 0;
}

struct kd_regex {
	rx_state r;
	rx_node *root;
};

int kd_regex_compile(kd_regex **res, kd_arena *a, const char *p, size_t n,
		     char *err, size_t errlen)
{
	kd_regex *out = kd_arena_zalloc(a, sizeof *out);

	*res = out;
	if (!out) {
		snprintf(err, errlen, "error parsing regexp: out of memory");
		return -1;
	}
	out->r.a = a;
	out->r.p = p;
	out->r.n = n;
	out->root = parse_alt(&out->r);
	if (!out->r.err && out->r.i < n)
		out->r.err = "unexpected )";
	if (out->r.err) {
		snprintf(err, errlen, "error parsing regexp: %s: `%.*s`",
			 out->r.err, (int)n, p);
		return -1;
	}
	if (out->r.ngroups >= RX_MAXGROUPS) {
		snprintf(err, errlen, "error parsing regexp: too many groups");
		return -1;
	}
	return 0;
}

int kd_regex_find(kd_regex *x, const char *s, size_t n, size_t from,
		  size_t cap[2 * KD_REGEX_MAXGROUPS])
{
	size_t i, end;
	int rc;

	x->r.s = s;
	x->r.sn = n;
	x->r.steps = 0;
	x->r.depth = 0;
	for (i = from; i <= n; i++) {
		memset(x->r.cap, 0xff, sizeof x->r.cap);
		rc = m_node(&x->r, x->root, i, NULL, &end);
		if (rc < 0)
			return -1;
		if (rc) {
			memcpy(cap, x->r.cap, sizeof x->r.cap);
			cap[0] = i;
			cap[1] = end;
			return 1;
		}
	}
	return 0;
}

int kd_regex_ngroups(const kd_regex *rx)
{
	return rx->r.ngroups;
}

int kd_regex_match(const char *re, size_t re_len, const char *s, size_t len,
		   kd_err *err)
{
	kd_arena a;
	kd_regex *rx;
	size_t cap[RX_MAXGROUPS * 2];
	char msg[512];
	int rc;

	kd_arena_init(&a, KD_LIMIT_ARENA_BYTES);
	if (kd_regex_compile(&rx, &a, re, re_len, msg, sizeof msg)) {
		rc = kd_err_set(err, KD_EPARSE, "%s", msg);
		goto cleanup;
	}
	rc = kd_regex_find(rx, s, len, 0, cap);
	if (rc < 0)
		rc = kd_err_set(err, KD_ELIMIT,
				"regular expression too complex for the input (%zu bytes)", len);

cleanup:
	kd_arena_free(&a);
	return rc;
}
