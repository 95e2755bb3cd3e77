/* Semantic versions and ranges: see semver.h for the rules. One scanner
 * reads versions in three modes (strict, lenient, range term); ranges are
 * a flat array of terms where a flag marks the start of each OR group. */
#include "semver/semver.h"

#include "base/limits.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum { MODE_STRICT, MODE_LENIENT, MODE_RANGE };

/* Which part of a range term's version is the first wildcard or missing
 * one ("*" -> WILD_MAJOR, "1" or "1.x" -> WILD_MINOR, "1.2" or "1.2.x" ->
 * WILD_PATCH). Masterminds calls these dirty, minorDirty, patchDirty. */
enum { WILD_NONE, WILD_MAJOR, WILD_MINOR, WILD_PATCH };

enum { OP_EQ, OP_NE, OP_GT, OP_LT, OP_GE, OP_LE, OP_TILDE, OP_CARET };

typedef struct term {
	kd_semver v;
	unsigned char op;
	unsigned char wild;
	unsigned char or_start; /* first term of an OR group */
} term;

struct kd_semver_range {
	size_t n;
	term t[];
};

#define WHY_MAX 96

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_ident_char(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-';
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static int is_wild(int c)
{
	return c == 'x' || c == 'X' || c == '*';
}

/* Writes s as a double-quoted string for messages: non-printable bytes
 * as \xNN, long input cut with "...". */
static void quote(char *dst, size_t size, const char *s, size_t n)
{
	size_t o = 0, i, max = 80;

	dst[o++] = '"';
	for (i = 0; i < n && i < max && o + 6 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(dst + o, size - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	if (i < n && o + 5 < size) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

/* Dot-separated identifiers from s[*pos] up to the first byte that
 * cannot belong to them. Pre-release identifiers (pre set) that are
 * numeric must not have leading zeros. */
static int scan_idents(const char *s, size_t n, size_t *pos, int pre,
		       char *why)
{
	const char *what = pre ? "pre-release" : "build metadata";
	size_t i = *pos;

	for (;;) {
		size_t start = i;
		int numeric = 1;

		while (i < n && is_ident_char((unsigned char)s[i])) {
			if (!is_digit((unsigned char)s[i]))
				numeric = 0;
			i++;
		}
		if (i == start) {
			unsigned char c = i < n ? (unsigned char)s[i] : 0;

			if (i == n || c == '.' || c == '+')
				snprintf(why, WHY_MAX, "empty %s identifier",
					 what);
			else if (c >= 0x20 && c < 0x7f)
				snprintf(why, WHY_MAX,
					 "'%c' is not allowed in %s", c, what);
			else
				snprintf(why, WHY_MAX,
					 "byte 0x%02x is not allowed in %s", c,
					 what);
			return -1;
		}
		if (pre && numeric && i - start > 1 && s[start] == '0') {
			snprintf(why, WHY_MAX,
				 "numeric pre-release identifier '%.*s' has a leading zero",
				 (int)(i - start > 20 ? 20 : i - start), s + start);
			return -1;
		}
		if (i < n && s[i] == '.') {
			i++;
			continue;
		}
		break;
	}
	*pos = i;
	return 0;
}

/* Reads a whole version from s[0..n). In MODE_RANGE parts may be
 * wildcards; *wild says which part is the first wildcard or missing one,
 * and the parts after it read as 0. */
static int scan_version(kd_semver *out, int *wild, const char *s, size_t n,
			int mode, char *why)
{
	static const char *const names[] = {"major", "minor", "patch"};
	uint64_t part[3] = {0, 0, 0};
	size_t i = 0;
	int k, w = WILD_NONE;

	memset(out, 0, sizeof(*out));
	if (n == 0) {
		snprintf(why, WHY_MAX, "empty version");
		return -1;
	}
	if (s[0] == 'v') {
		if (mode == MODE_STRICT) {
			snprintf(why, WHY_MAX,
				 "a leading 'v' is not SemVer 2.0 (lenient parsing accepts it)");
			return -1;
		}
		i++;
	}
	for (k = 0; k < 3; k++) {
		size_t start;
		uint64_t val = 0;

		if (k > 0) {
			if (i < n && s[i] == '.') {
				i++;
			} else if (mode == MODE_STRICT) {
				snprintf(why, WHY_MAX,
					 "expected MAJOR.MINOR.PATCH, the %s version is missing",
					 names[k]);
				return -1;
			} else {
				if (w == WILD_NONE)
					w = k + 1;
				break;
			}
		}
		if (mode == MODE_RANGE && i < n && is_wild((unsigned char)s[i])) {
			i++;
			if (w == WILD_NONE)
				w = k + 1;
			continue;
		}
		start = i;
		while (i < n && is_digit((unsigned char)s[i])) {
			unsigned d = (unsigned)(s[i] - '0');

			if (val > (UINT64_MAX - d) / 10) {
				snprintf(why, WHY_MAX,
					 "the %s version is larger than %" PRIu64,
					 names[k], UINT64_MAX);
				return -1;
			}
			val = val * 10 + d;
			i++;
		}
		if (i == start) {
			if (i < n)
				snprintf(why, WHY_MAX,
					 "expected the %s version, found '%c'",
					 names[k], s[i]);
			else
				snprintf(why, WHY_MAX,
					 "expected the %s version, found the end",
					 names[k]);
			return -1;
		}
		if (mode == MODE_STRICT && i - start > 1 && s[start] == '0') {
			snprintf(why, WHY_MAX, "the %s version has a leading zero",
				 names[k]);
			return -1;
		}
		if (w == WILD_NONE)
			part[k] = val;
	}
	if (i < n && s[i] == '-') {
		size_t start = ++i;

		if (scan_idents(s, n, &i, 1, why))
			return -1;
		out->pre = s + start;
		out->pre_len = i - start;
	}
	if (i < n && s[i] == '+') {
		size_t start = ++i;

		if (scan_idents(s, n, &i, 0, why))
			return -1;
		out->build = s + start;
		out->build_len = i - start;
	}
	if (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' && w == WILD_NONE && !out->pre && !out->build)
			snprintf(why, WHY_MAX,
				 "more than three version numbers");
		else if (c >= 0x20 && c < 0x7f)
			snprintf(why, WHY_MAX, "unexpected '%c' at offset %zu",
				 c, i);
		else
			snprintf(why, WHY_MAX,
				 "unexpected byte 0x%02x at offset %zu", c, i);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->major = part[0];
	out->minor = part[1];
	out->patch = part[2];
	if (wild)
		*wild = w;
	return 0;
}

int kd_semver_parse(kd_semver *out, const char *s, size_t n, int lenient,
		    kd_err *err)
{
	char why[WHY_MAX], q[128];

	memset(out, 0, sizeof(*out));
	if (n > KD_LIMIT_SEMVER_BYTES) {
		quote(q, sizeof(q), s, n);
		return kd_err_set(err, KD_ELIMIT,
				  "version %s: longer than KD_LIMIT_SEMVER_BYTES (%u bytes)",
				  q, (unsigned)KD_LIMIT_SEMVER_BYTES);
	}
	if (scan_version(out, NULL, s, n,
			 lenient ? MODE_LENIENT : MODE_STRICT, why)) {
		/* a bad build part comes after pre was set: zero it all */
		memset(out, 0, sizeof(*out));
		quote(q, sizeof(q), s, n);
		return kd_err_set(err, KD_EPARSE, "invalid version %s: %s", q,
				  why);
	}
	return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_digit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* One pre-release identifier against another: numbers numerically (no
 * leading zeros, so the longer one is larger) and below words, words in
 * ASCII order. */
static int cmp_ident(const char *a, size_t an, const char *b, size_t bn)
{
	int anum = all_digits(a, an), bnum = all_digits(b, bn);
	size_t m = an < bn ? an : bn;
	int r;

	if (anum && bnum && an != bn)
		return an < bn ? -1 : 1;
	if (anum != bnum)
		return anum ? -1 : 1;
	r = memcmp(a, b, m);
	if (r)
		return r < 0 ? -1 : 1;
	return cmp_u64(an, bn);
}

static int cmp_pre(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;

	for (;;) {
		size_t ie = i, je = j;
		int r;

		if (i >= an || j >= bn)
			return (i < an) - (j < bn);
		while (ie < an && a[ie] != '.')
			ie++;
		while (je < bn && b[je] != '.')
			je++;
		r = cmp_ident(a + i, ie - i, b + j, je - j);
		if (r)
			return r;
		i = ie + 1;
		j = je + 1;
	}
}

int kd_semver_cmp(const kd_semver *a, const kd_semver *b)
{
	int r;

	if ((r = cmp_u64(a->major, b->major)) ||
	    (r = cmp_u64(a->minor, b->minor)) ||
	    (r = cmp_u64(a->patch, b->patch)))
		return r;
	if (!a->pre || !b->pre)
		return (!a->pre) - (!b->pre);
	return cmp_pre(a->pre, a->pre_len, b->pre, b->pre_len);
}

size_t kd_semver_format(const kd_semver *v, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%" PRIu64 ".%" PRIu64 ".%" PRIu64 "%s%.*s%s%.*s",
			 v->major, v->minor, v->patch, v->pre ? "-" : "",
			 v->pre ? (int)v->pre_len : 0, v->pre ? v->pre : "",
			 v->build ? "+" : "",
			 v->build ? (int)v->build_len : 0,
			 v->build ? v->build : "");

	return n < 0 ? 0 : (size_t)n;
}

/* ---- ranges ---- */

typedef struct range_parser {
	const char *s;   /* the arena copy of the range text */
	size_t n;
	term *t;         /* KD_LIMIT_SEMVER_TERMS slots */
	size_t nt;
	int or_start;
	kd_err *err;
	char q[128];     /* the quoted range, for messages */
} range_parser;

static size_t skip_space(const char *s, size_t i, size_t end)
{
	while (i < end && is_space((unsigned char)s[i]))
		i++;
	return i;
}

static int range_error(range_parser *p, int code, const char *fmt,
		       const char *arg)
{
	return kd_err_set(p->err, code, "invalid version range %s: %s%s", p->q,
			  fmt, arg ? arg : "");
}

static int add_term(range_parser *p, int op, const kd_semver *v, int wild)
{
	term *t;

	if (p->nt >= KD_LIMIT_SEMVER_TERMS)
		return kd_err_set(p->err, KD_ELIMIT,
				  "version range %s: more than KD_LIMIT_SEMVER_TERMS (%u) terms",
				  p->q, (unsigned)KD_LIMIT_SEMVER_TERMS);
	t = &p->t[p->nt++];
	t->v = *v;
	t->op = (unsigned char)op;
	t->wild = (unsigned char)wild;
	t->or_start = (unsigned char)p->or_start;
	p->or_start = 0;
	return 0;
}

/* The operator at s[*pos], longest first; OP_EQ with nothing consumed
 * when there is none. */
static int scan_op(const char *s, size_t *pos, size_t end)
{
	static const struct {
		const char *text;
		int op;
	} ops[] = {
		{"!=", OP_NE}, {">=", OP_GE}, {"=>", OP_GE}, {"<=", OP_LE},
		{"=<", OP_LE}, {"~>", OP_TILDE}, {">", OP_GT}, {"<", OP_LT},
		{"=", OP_EQ}, {"~", OP_TILDE}, {"^", OP_CARET},
	};
	size_t i, len;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		len = strlen(ops[i].text);
		if (end - *pos >= len && !memcmp(s + *pos, ops[i].text, len)) {
			*pos += len;
			return ops[i].op;
		}
	}
	return OP_EQ;
}

/* Reads the version token at s[*pos] (up to a space, a comma or end). */
static int scan_term_version(range_parser *p, size_t *pos, size_t end,
			     kd_semver *v, int *wild, const char *missing)
{
	char why[WHY_MAX], tq[128], msg[WHY_MAX + 160];
	size_t i = *pos;

	while (i < end && !is_space((unsigned char)p->s[i]) && p->s[i] != ',')
		i++;
	if (i == *pos)
		return range_error(p, KD_EPARSE, missing, NULL);
	if (scan_version(v, wild, p->s + *pos, i - *pos, MODE_RANGE, why)) {
		quote(tq, sizeof(tq), p->s + *pos, i - *pos);
		snprintf(msg, sizeof(msg), "%s: %s", tq, why);
		return range_error(p, KD_EPARSE, "bad version ", msg);
	}
	*pos = i;
	return 0;
}

/* One OR group: s[pos..end). */
static int parse_group(range_parser *p, size_t pos, size_t end)
{
	const char *s = p->s;
	size_t i = skip_space(s, pos, end);
	int rc;

	if (i == end)
		return range_error(p, KD_EPARSE,
				   p->n == 0 || skip_space(s, 0, p->n) == p->n
					   ? "empty range"
					   : "empty alternative around '||'",
				   NULL);
	for (;;) {
		size_t op_at = i, k;
		int op = scan_op(s, &i, end), wild;
		int has_op = i > op_at;
		kd_semver v;

		i = skip_space(s, i, end);
		rc = scan_term_version(p, &i, end, &v, &wild,
				       has_op ? "an operator without a version"
					      : "expected a version");
		if (rc)
			return rc;
		k = skip_space(s, i, end);
		if (k > i && k + 1 < end && s[k] == '-' &&
		    is_space((unsigned char)s[k + 1])) {
			kd_semver hi;
			int hwild;

			if (has_op)
				return range_error(p, KD_EPARSE,
						   "the bounds of a hyphen range take no operator",
						   NULL);
			i = skip_space(s, k + 1, end);
			rc = scan_term_version(p, &i, end, &hi, &hwild,
					       "a hyphen range without an upper bound");
			if (!rc)
				rc = add_term(p, OP_GE, &v, wild);
			if (!rc)
				rc = add_term(p, OP_LE, &hi, hwild);
		} else {
			rc = add_term(p, op, &v, wild);
		}
		if (rc)
			return rc;
		k = skip_space(s, i, end);
		if (k == end)
			return 0;
		if (s[k] == ',') {
			k = skip_space(s, k + 1, end);
			if (k == end)
				return range_error(p, KD_EPARSE,
						   "a comma without a term after it",
						   NULL);
		} else if (k == i) {
			return range_error(p, KD_EPARSE,
					   "terms must be separated by a space or a comma",
					   NULL);
		}
		i = k;
	}
}

int kd_semver_range_parse(kd_semver_range **out, kd_arena *a, const char *s,
			  size_t n, kd_err *err)
{
	term terms[KD_LIMIT_SEMVER_TERMS];
	range_parser p;
	kd_semver_range *r;
	size_t pos = 0;
	int rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.err = err;
	quote(p.q, sizeof(p.q), s, n);
	if (n > KD_LIMIT_SEMVER_BYTES)
		return kd_err_set(err, KD_ELIMIT,
				  "version range %s: longer than KD_LIMIT_SEMVER_BYTES (%u bytes)",
				  p.q, (unsigned)KD_LIMIT_SEMVER_BYTES);
	p.s = kd_arena_strndup(a, s, n);
	if (!p.s)
		goto nomem;
	p.n = n;
	p.t = terms;
	for (;;) {
		const char *bar = NULL;
		size_t end, i;

		for (i = pos; i + 1 < n; i++)
			if (p.s[i] == '|' && p.s[i + 1] == '|') {
				bar = p.s + i;
				break;
			}
		end = bar ? (size_t)(bar - p.s) : n;
		p.or_start = 1;
		rc = parse_group(&p, pos, end);
		if (rc)
			return rc;
		if (!bar)
			break;
		pos = end + 2;
	}
	r = kd_arena_alloc(a, sizeof(*r) + p.nt * sizeof(term));
	if (!r)
		goto nomem;
	r->n = p.nt;
	memcpy(r->t, terms, p.nt * sizeof(term));
	*out = r;
	return 0;
nomem:
	return kd_err_set(err, a->failed ? a->failed : KD_ENOMEM,
			  "version range %s: out of memory", p.q);
}

/* ---- matching, term by term as Masterminds v3.2 does ---- */

static bool tilde(const term *t, const kd_semver *v, int c)
{
	const kd_semver *con = &t->v;

	if (c < 0)
		return false;
	if (t->wild == WILD_MAJOR ||
	    (t->wild == WILD_NONE && !con->major && !con->minor && !con->patch))
		return true;
	if (v->major != con->major)
		return false;
	return v->minor == con->minor || t->wild == WILD_MINOR;
}

static bool caret(const term *t, const kd_semver *v, int c)
{
	const kd_semver *con = &t->v;

	if (c < 0)
		return false;
	/* ^* : Masterminds documents "any"; its code compares 0.0.0 alone. */
	if (t->wild == WILD_MAJOR)
		return true;
	if (con->major > 0 || t->wild == WILD_MINOR)
		return v->major == con->major;
	if (v->major > 0)
		return false;
	if (con->minor > 0 || t->wild == WILD_PATCH)
		return v->minor == con->minor;
	if (v->minor > 0)
		return false;
	return v->patch == con->patch;
}

static bool not_equal(const term *t, const kd_semver *v, int c)
{
	const kd_semver *con = &t->v;

	if (t->wild != WILD_NONE) {
		if (v->pre && !con->pre)
			return false;
		if (v->major != con->major)
			return true;
		if (t->wild == WILD_MINOR)
			return false;
		if (v->minor != con->minor)
			return true;
		if (t->wild == WILD_PATCH) {
			if (v->pre || con->pre)
				return !v->pre || !con->pre ||
				       cmp_pre(v->pre, v->pre_len, con->pre,
					       con->pre_len) != 0;
			return false;
		}
		if (v->patch != con->patch)
			return true;
	}
	return c != 0;
}

static bool term_match(const term *t, const kd_semver *v)
{
	const kd_semver *con = &t->v;
	int c = kd_semver_cmp(v, con);

	if (t->op == OP_NE)
		return not_equal(t, v, c);
	/* A pre-release version only matches terms that name one. */
	if (v->pre && !con->pre)
		return false;
	switch (t->op) {
	case OP_EQ:
		return t->wild != WILD_NONE ? tilde(t, v, c) : c == 0;
	case OP_LT:
		return c < 0;
	case OP_GE:
		return c >= 0;
	case OP_GT:
		if (t->wild == WILD_NONE)
			return c > 0;
		if (v->major != con->major)
			return v->major > con->major;
		if (t->wild == WILD_MINOR)
			return false;
		if (t->wild == WILD_PATCH)
			return v->minor > con->minor;
		return c > 0;
	case OP_LE:
		if (t->wild == WILD_NONE)
			return c <= 0;
		if (v->major > con->major)
			return false;
		return !(v->major == con->major && v->minor > con->minor &&
			 t->wild != WILD_MINOR);
	case OP_TILDE:
		return tilde(t, v, c);
	case OP_CARET:
		return caret(t, v, c);
	}
	return false;
}

bool kd_semver_range_match(const kd_semver_range *r, const kd_semver *v)
{
	size_t i = 0;

	while (i < r->n) {
		bool ok = true;
		size_t j = i;

		do {
			if (ok && !term_match(&r->t[j], v))
				ok = false;
			j++;
		} while (j < r->n && !r->t[j].or_start);
		if (ok)
			return true;
		i = j;
	}
	return false;
}
