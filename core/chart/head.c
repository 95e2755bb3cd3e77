/* A quick reader of a rendered document's head (kind and the helm.sh/hook
 * annotation) for the plain block YAML that templates almost always
 * produce, so that render.c need not run libyaml's event parser over every
 * byte of the output. It accepts only documents it is sure libyaml parses
 * without an error and whose head render.c's event scan would read the
 * same way; for anything else (tabs, non-ASCII bytes, anchors, tags,
 * multi-line quoted scalars, flow mappings, a value starting on the next
 * line, odd indentation, ...) it answers "unsure" and the caller reads
 * the document with libyaml, which also gives Helm's error message. */
#include "chart/tree.h"

#include "base/limits.h"

#include <stdbool.h>
#include <string.h>

/* Well below KD_LIMIT_DEPTH, so an accepted document is never too deep. */
#define QDEPTH 48

enum { R_NONE, R_TOP, R_META, R_ANN };

typedef struct qlvl {
	int indent;
	bool seq, indentless;
	int role;
} qlvl;

typedef struct qs {
	const char *s, *e;
	qlvl st[QDEPTH];
	int sp;
	/* a "key:" or "-" whose value is on the following lines */
	bool pend, pend_key, pend_strict;
	int pend_indent, pend_role;
	/* the last value was a plain scalar that may go on over lines */
	bool cont, cont_strict;
	kd_chart_qhead *h;
} qs;

static bool is_ind(char c)
{
	return c && strchr("-?:,[]{}#&*!|>'\"%@`", c);
}

/* Where the line starting at p ends (its '\n' or the end). */
static const char *eol(const qs *q, const char *p)
{
	const char *n = memchr(p, '\n', (size_t)(q->e - p));

	return n ? n : q->e;
}

/* Whether p..e holds only spaces, then optionally a comment. */
static bool tail_ok(const char *p, const char *e)
{
	const char *b = p;

	while (p < e && *p == ' ')
		p++;
	return p == e || (*p == '#' && p > b);
}

/* A plain scalar from p to the line's end e: *end is where its text ends
 * (trailing spaces and a comment cut), *comment whether a comment ended
 * it. False when a ": " or a final ':' would make libyaml complain. */
static bool plain(const char *p, const char *e, const char **end,
		  bool *comment)
{
	const char *t = p;

	*comment = false;
	for (; t < e; t++) {
		if (*t == ':' && (t + 1 == e || t[1] == ' '))
			return false;
		if (*t == '#' && t > p && t[-1] == ' ') {
			*comment = true;
			break;
		}
	}
	while (t > p && t[-1] == ' ')
		t--;
	*end = t;
	return true;
}

/* A quoted scalar at p on one line: its text (without the quotes) and
 * whether it holds escapes; NULL when it does not close on the line or
 * holds an escape libyaml might refuse. */
static const char *quoted(const char *p, const char *e, const char **text,
			  size_t *n, bool *esc)
{
	char qc = *p;
	const char *t = p + 1;

	*esc = false;
	for (; t < e; t++) {
		if (qc == '\'' && *t == '\'') {
			if (t + 1 < e && t[1] == '\'') {
				*esc = true;
				t++;
				continue;
			}
			break;
		}
		if (qc == '"' && *t == '"')
			break;
		if (qc == '"' && *t == '\\') {
			if (t + 1 == e || !strchr("0abtnvfre \"/\\N_LP", t[1]))
				return NULL;
			*esc = true;
			t++;
		}
	}
	if (t >= e)
		return NULL;
	*text = p + 1;
	*n = (size_t)(t - p - 1);
	return t + 1;
}

static bool push(qs *q, int indent, bool seq, bool indentless, int role)
{
	if (q->sp + 1 >= QDEPTH)
		return false;
	q->sp++;
	q->st[q->sp].indent = indent;
	q->st[q->sp].seq = seq;
	q->st[q->sp].indentless = indentless;
	q->st[q->sp].role = role;
	return true;
}

static void field(const char **dst, size_t *dn, const char *s, size_t n)
{
	*dst = s;
	*dn = n;
}

static bool yaml_null(const char *v, size_t n)
{
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) ||
			   !memcmp(v, "NULL", 4)));
}

/* A block scalar's header at p ("|", ">-", ...) and its lines from next
 * on: where the first line after it starts, or NULL. */
static const char *block(const qs *q, const char *p, const char *e,
			 const char *next)
{
	int bi = 0, parent = q->st[q->sp].indent;

	p++;
	if (p < e && (*p == '-' || *p == '+'))
		p++;
	if (!tail_ok(p, e) || (p < e && *p == '#'))
		return NULL;
	while (next < q->e) {
		const char *le = eol(q, next), *t = next;

		while (t < le && *t == ' ')
			t++;
		if (t == le) {
			if (!bi) /* libyaml weighs leading empty lines' spaces */
				return NULL;
		} else if ((!bi && t - next > parent) ||
			   (bi && t - next >= bi)) {
			if (!bi)
				bi = (int)(t - next);
		} else {
			return next;
		}
		next = le < q->e ? le + 1 : le;
	}
	return next;
}

/* A value on the line after a key or a "-", from p (not a space) to e;
 * strict when it must be a string (kind, an annotation), dst the head
 * field it fills. Gives where the next line starts, or NULL. */
static const char *value(qs *q, const char *p, const char *e,
			 const char *next, bool strict, const char **dst,
			 size_t *dn)
{
	const char *t, *text;
	size_t n;
	bool esc, comment;

	switch (*p) {
	case '"':
	case '\'':
		t = quoted(p, e, &text, &n, &esc);
		if (!t || !tail_ok(t, e) || (dst && esc))
			return NULL;
		if (dst)
			field(dst, dn, text, n);
		return next;
	case '|':
	case '>':
		return strict ? NULL : block(q, p, e, next);
	case '[':
	case '{':
		if (strict || q->sp + 2 >= QDEPTH)
			return NULL;
		t = p + 1;
		if (*p == '{')
			return t < e && *t == '}' && tail_ok(t + 1, e) ? next : NULL;
		for (;;) {
			while (t < e && *t == ' ')
				t++;
			if (t < e && *t == ']' && t[-1] == '[')
				break;
			if (t < e && (*t == '"' || *t == '\'')) {
				if (!(t = quoted(t, e, &text, &n, &esc)))
					return NULL;
			} else {
				const char *b = t;

				while (t < e && (((*t | 32) >= 'a' && (*t | 32) <= 'z') ||
						 (*t >= '0' && *t <= '9') ||
						 (t > b && strchr("_./=+-", *t))))
					t++;
				if (t == b)
					return NULL;
			}
			while (t < e && *t == ' ')
				t++;
			if (t < e && *t == ']')
				break;
			if (t >= e || *t != ',')
				return NULL;
			t++;
		}
		return tail_ok(t + 1, e) ? next : NULL;
	default:
		if (is_ind(*p) && !((*p == '-' || *p == '?' || *p == ':') &&
				    p + 1 < e && p[1] != ' '))
			return NULL;
		if (!plain(p, e, &t, &comment))
			return NULL;
		if (dst && yaml_null(p, (size_t)(t - p)))
			field(dst, dn, "", 0);
		else if (dst)
			field(dst, dn, p, (size_t)(t - p));
		q->cont = !comment;
		q->cont_strict = strict;
		return next;
	}
}

/* A "key: ..." at p in the map on top of the stack; NULL when p holds no
 * key this reader is sure of. */
static const char *key_line(qs *q, const char *p, const char *e,
			    const char *next)
{
	const char *k = p, *t, *colon;
	size_t kn;
	bool esc, comment, strict = false;
	int role = q->st[q->sp].role, child = R_NONE;
	const char **dst = NULL;
	size_t *dn = NULL;

	if (*p == '"' || *p == '\'') {
		colon = quoted(p, e, &k, &kn, &esc);
		if (!colon || esc || colon >= e || *colon != ':' ||
		    (colon + 1 < e && colon[1] != ' '))
			return NULL;
	} else {
		if (is_ind(*p) && !((*p == '-' || *p == '?' || *p == ':') &&
				    p + 1 < e && p[1] != ' '))
			return NULL;
		for (colon = p; colon < e; colon++)
			if (*colon == ':' && (colon + 1 == e || colon[1] == ' '))
				break;
		if (colon == e || !plain(p, colon, &t, &comment) || comment)
			return NULL;
		kn = (size_t)(t - p);
	}
	if (colon - p > 512) /* libyaml's simple keys end at 1024 */
		return NULL;
	if (role == R_TOP && kn == 4 && !memcmp(k, "kind", 4)) {
		strict = true;
		dst = &q->h->kind;
		dn = &q->h->kind_n;
	} else if (role == R_TOP && kn == 8 && !memcmp(k, "metadata", 8)) {
		child = R_META;
	} else if (role == R_META && kn == 11 && !memcmp(k, "annotations", 11)) {
		child = R_ANN;
	} else if (role == R_ANN) {
		strict = true;
		if (kn == 12 && !memcmp(k, "helm.sh/hook", 12)) {
			dst = &q->h->hook;
			dn = &q->h->hook_n;
		}
	}
	for (t = colon + 1; t < e && *t == ' '; t++)
		;
	if (t == e || *t == '#') {
		if (dst)
			field(dst, dn, "", 0);
		q->pend = q->pend_key = true;
		q->pend_strict = strict;
		q->pend_indent = q->st[q->sp].indent;
		q->pend_role = child;
		return next;
	}
	return value(q, t, e, next, strict, dst, dn);
}

/* An entry "- ..." at p (line starts the line) in the sequence on top of
 * the stack. */
static const char *entry_line(qs *q, const char *line, const char *p,
			      const char *e, const char *next)
{
	const char *t = p + 1, *c;

	while (t < e && *t == ' ')
		t++;
	if (t == e || *t == '#') {
		q->pend = true;
		q->pend_key = q->pend_strict = false;
		q->pend_indent = q->st[q->sp].indent;
		q->pend_role = R_NONE;
		return next;
	}
	if (*t == '-' && (t + 1 == e || t[1] == ' '))
		return NULL;
	for (c = t; c < e; c++)
		if (*c == ':' && (c + 1 == e || c[1] == ' '))
			break;
	if (c < e && !strchr("[{|>", *t)) { /* "- key: ...", a compact map */
		if (!push(q, (int)(t - line), false, false, R_NONE))
			return NULL;
		return key_line(q, t, e, next);
	}
	return value(q, t, e, next, false, NULL, NULL);
}

/* The lines of one document, each checked against the stack of the block
 * collections it is in. */
static bool lines(qs *q)
{
	const char *p = q->s, *e = q->e;

	while (p < e) {
		const char *le = eol(q, p), *next = le < e ? le + 1 : le, *t = p;
		const char *x;
		bool dash, cm;
		int ind;

		while (t < le && *t == ' ')
			t++;
		ind = (int)(t - p);
		if (t == le || *t == '#') {
			if (t < le)
				q->cont = false; /* a comment ends a plain scalar */
			p = next;
			continue;
		}
		if (!ind && le - p >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3)))
			return false;
		if (q->cont && ind > q->st[q->sp].indent) {
			if (q->cont_strict || is_ind(*t) || !plain(t, le, &x, &cm))
				return false;
			q->cont = !cm;
			p = next;
			continue;
		}
		q->cont = false;
		dash = *t == '-' && (t + 1 == le || t[1] == ' ');
		if (q->pend) {
			q->pend = false;
			if (ind > q->pend_indent || (q->pend_key && dash && ind == q->pend_indent)) {
				if (q->pend_strict || (!q->sp && dash) ||
				    !push(q, ind, dash, ind == q->pend_indent,
					  dash ? R_NONE : q->pend_role))
					return false;
				goto item;
			}
		}
		while (q->st[q->sp].indent > ind ||
		       (q->st[q->sp].indentless && q->st[q->sp].indent == ind && !dash))
			q->sp--;
		if (!q->sp || q->st[q->sp].indent != ind)
			return false;
item:
		if (q->st[q->sp].seq)
			p = dash ? entry_line(q, p, t, le, next) : NULL;
		else
			p = key_line(q, t, le, next);
		if (!p)
			return false;
	}
	return true;
}

bool kd_chart_quick_head(const char *s, size_t n, kd_chart_qhead *h)
{
	qs q;
	size_t i;

	memset(h, 0, sizeof *h);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n') || c >= 0x7f)
			return false;
	}
	memset(&q, 0, sizeof q);
	q.s = s;
	q.e = s + n;
	q.h = h;
	q.st[0].indent = -1;
	q.pend = true;
	q.pend_indent = -1;
	q.pend_role = R_TOP;
	return lines(&q);
}
