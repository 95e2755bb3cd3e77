#include "yaml/yaml.h"

#include "base/limits.h"
#include "base/num.h"

#include <yaml.h>

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_PREFIX "tag:yaml.org,2002:"
#define TAG_BINARY TAG_PREFIX "binary"

/* ------------------------------------------------------------------------
 * Go's number and time parsing, as far as go-yaml v2's resolve() uses it.
 */

enum rtype {
	R_NULL,
	R_BOOL,
	R_INT,
	R_UINT, /* above INT64_MAX: v2 gives a uint64 */
	R_FLOAT,
	R_TIMESTAMP,
	R_STR,
};

typedef struct scalar_res {
	enum rtype t;
	bool b;
	int64_t i;
	uint64_t u;
	double f;
} scalar_res;

static const char *const rtype_tag[] = {
	[R_NULL] = "null",   [R_BOOL] = "bool",	     [R_INT] = "int",
	[R_UINT] = "int",    [R_FLOAT] = "float",    [R_TIMESTAMP] = "timestamp",
	[R_STR] = "str",
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int lower(int c)
{
	return c | 0x20;
}

/* strconv.ParseUint(s, base, 64): base 0 reads 0b/0o/0x prefixes and a
 * leading 0 as octal. The input never holds '_' here (resolve() removes
 * them first). 0 on success, -1 syntax error, -2 out of range. */
static int go_parse_uint(const char *s, size_t n, int base, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	if (base == 0) {
		base = 10;
		if (s[0] == '0') {
			if (n >= 3 && lower(s[1]) == 'b') {
				base = 2;
				s += 2;
				n -= 2;
			} else if (n >= 3 && lower(s[1]) == 'o') {
				base = 8;
				s += 2;
				n -= 2;
			} else if (n >= 3 && lower(s[1]) == 'x') {
				base = 16;
				s += 2;
				n -= 2;
			} else {
				base = 8;
				s++;
				n--;
			}
		}
	}
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i], d;

		if (is_digit((char)c))
			d = c - '0';
		else if (lower(c) >= 'a' && lower(c) <= 'z')
			d = lower(c) - 'a' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -2;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* strconv.ParseInt(s, base, 64). */
static int go_parse_int(const char *s, size_t n, int base, int64_t *out)
{
	bool neg = false;
	uint64_t u;
	int rc;

	if (n == 0)
		return -1;
	if (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-';
		s++;
		n--;
	}
	rc = go_parse_uint(s, n, base, &u);
	if (rc == -1)
		return -1;
	if (rc == -2 || (!neg && u > (uint64_t)INT64_MAX) ||
	    (neg && u > (uint64_t)INT64_MAX + 1))
		return -2;
	*out = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

/* Go's underscoreOK: "_" only between digits (a base prefix counts as a
 * digit). */
static bool underscore_ok(const char *s, size_t n)
{
	char saw = '^';
	size_t i = 0;
	bool hex = false;

	if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
		s++;
		n--;
	}
	if (n >= 2 && s[0] == '0' &&
	    (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
		i = 2;
		saw = '0';
		hex = lower(s[1]) == 'x';
	}
	for (; i < n; i++) {
		if (is_digit(s[i]) ||
		    (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f')) {
			saw = '0';
			continue;
		}
		if (s[i] == '_') {
			if (saw != '0')
				return false;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return false;
		saw = '!';
	}
	return saw != '_';
}

/* Whether strconv.ParseFloat accepts s as decimal text ("_" between
 * digits allowed). resolve() only asks about text that starts with ".", so
 * hex and inf/nan forms do not arise. */
static bool go_float_syntax(const char *s, size_t n)
{
	bool underscores = false, dot = false, digits = false;
	size_t i = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < n; i++) {
		if (s[i] == '_') {
			underscores = true;
		} else if (s[i] == '.') {
			if (dot)
				break;
			dot = true;
		} else if (is_digit(s[i])) {
			digits = true;
		} else {
			break;
		}
	}
	if (!digits)
		return false;
	if (i < n && lower(s[i]) == 'e') {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i]))
			return false;
		for (; i < n && (is_digit(s[i]) || s[i] == '_'); i++)
			underscores |= s[i] == '_';
	}
	return i == n && (!underscores || underscore_ok(s, n));
}

/* ParseFloat's value for text whose syntax was checked, without "_":
 * overflow to infinity is an error, as in Go; underflow is not. */
static void go_float_value(const char *plain, scalar_res *r)
{
	double f = strtod(plain, NULL);

	if (!isinf(f)) {
		r->t = R_FLOAT;
		r->f = f;
	}
}

/* go-yaml v2's yamlStyleFloat:
 * ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return false;
	} else {
		for (d = i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return false;
		if (i < n && s[i] == '.')
			for (i++; i < n && is_digit(s[i]); i++)
				;
	}
	if (i < n && lower(s[i]) == 'e') {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return false;
	}
	return i == n;
}

/* time's getnum: one or two digits. */
static bool ts_num(const char *s, size_t n, size_t *i, int *out)
{
	if (*i >= n || !is_digit(s[*i]))
		return false;
	*out = s[(*i)++] - '0';
	if (*i < n && is_digit(s[*i]))
		*out = *out * 10 + (s[(*i)++] - '0');
	return true;
}

static int days_in(int month, int year)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};

	if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		return 29;
	return days[month - 1];
}

/* Go's time.Parse with the layout "2006-1-2" followed by sep ('\0': date
 * only; 'T', 't': "15:4:5.999999999Z07:00"; ' ': "15:4:5.999999999"). */
static bool ts_layout(const char *s, size_t n, char sep)
{
	size_t i = 5;
	int year, month, day, v;

	year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	       (s[3] - '0');
	if (!ts_num(s, n, &i, &month) || month < 1 || month > 12)
		return false;
	if (i >= n || s[i++] != '-' || !ts_num(s, n, &i, &day))
		return false;
	if (sep == ' ') {
		/* A space in a layout matches any run of spaces. */
		if (i < n && s[i] != ' ')
			return false;
		while (i < n && s[i] == ' ')
			i++;
	} else if (sep) {
		if (i >= n || s[i++] != sep)
			return false;
	}
	if (sep) {
		if (!ts_num(s, n, &i, &v) || v > 23 || i >= n ||
		    s[i++] != ':' || !ts_num(s, n, &i, &v) || v > 59 ||
		    i >= n || s[i++] != ':' || !ts_num(s, n, &i, &v) || v > 59)
			return false;
		if (i + 1 < n && (s[i] == '.' || s[i] == ',') &&
		    is_digit(s[i + 1]))
			for (i++; i < n && is_digit(s[i]); i++)
				;
	}
	if (sep && sep != ' ') {
		if (i < n && s[i] == 'Z') {
			i++;
		} else {
			if (n - i < 6 || (s[i] != '+' && s[i] != '-') ||
			    !is_digit(s[i + 1]) || !is_digit(s[i + 2]) ||
			    s[i + 3] != ':' || !is_digit(s[i + 4]) ||
			    !is_digit(s[i + 5]))
				return false;
			if ((s[i + 1] - '0') * 10 + (s[i + 2] - '0') > 24 ||
			    (s[i + 4] - '0') * 10 + (s[i + 5] - '0') > 60)
				return false;
			i += 6;
		}
	}
	return i == n && day >= 1 && day <= days_in(month, year);
}

/* go-yaml v2's parseTimestamp. */
static bool go_timestamp(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && is_digit(s[i]); i++)
		;
	if (i != 4 || i == n || s[i] != '-')
		return false;
	return ts_layout(s, n, 'T') || ts_layout(s, n, 't') ||
	       ts_layout(s, n, ' ') || ts_layout(s, n, '\0');
}

struct resolve_word {
	const char *s;
	enum rtype t;
	int v; /* bool value; for floats 1 +Inf, -1 -Inf, 0 NaN */
};

/* resolveMap, bucketed by length. */
static const struct resolve_word words[][12] = {
	[1] = {{"y", R_BOOL, 1}, {"Y", R_BOOL, 1}, {"n", R_BOOL, 0},
	       {"N", R_BOOL, 0}, {"~", R_NULL, 0}},
	[2] = {{"on", R_BOOL, 1}, {"On", R_BOOL, 1}, {"ON", R_BOOL, 1},
	       {"no", R_BOOL, 0}, {"No", R_BOOL, 0}, {"NO", R_BOOL, 0}},
	[3] = {{"yes", R_BOOL, 1}, {"Yes", R_BOOL, 1}, {"YES", R_BOOL, 1},
	       {"off", R_BOOL, 0}, {"Off", R_BOOL, 0}, {"OFF", R_BOOL, 0}},
	[4] = {{"true", R_BOOL, 1}, {"True", R_BOOL, 1}, {"TRUE", R_BOOL, 1},
	       {"null", R_NULL, 0}, {"Null", R_NULL, 0}, {"NULL", R_NULL, 0},
	       {".nan", R_FLOAT, 0}, {".NaN", R_FLOAT, 0}, {".NAN", R_FLOAT, 0},
	       {".inf", R_FLOAT, 1}, {".Inf", R_FLOAT, 1}, {".INF", R_FLOAT, 1}},
	[5] = {{"false", R_BOOL, 0}, {"False", R_BOOL, 0},
	       {"FALSE", R_BOOL, 0}, {"+.inf", R_FLOAT, 1},
	       {"+.Inf", R_FLOAT, 1}, {"+.INF", R_FLOAT, 1},
	       {"-.inf", R_FLOAT, -1}, {"-.Inf", R_FLOAT, -1},
	       {"-.INF", R_FLOAT, -1}},
};

static bool lookup_word(const char *s, size_t n, scalar_res *r)
{
	const struct resolve_word *w;

	if (n == 0 || n >= sizeof(words) / sizeof(words[0]))
		return false;
	for (w = words[n]; w < words[n] + 12 && w->s; w++) {
		if (memcmp(w->s, s, n))
			continue;
		r->t = w->t;
		r->b = w->v;
		r->f = w->v > 0 ? INFINITY : w->v < 0 ? -INFINITY : NAN;
		return true;
	}
	return false;
}

/* go-yaml v2's resolve() for an untagged plain scalar (want_ts) or one
 * tagged with a resolvable tag other than !!str (want_ts only for
 * !!timestamp, as in v2). False only when out of memory. */
static bool resolve(const char *s, size_t n, bool want_ts, scalar_res *r)
{
	char stack[64], *plain = stack;
	size_t i, pn;
	int64_t iv;
	uint64_t uv;
	char c;

	r->t = R_STR;
	if (n == 0) {
		r->t = R_NULL;
		return true;
	}
	c = s[0];
	if (!(is_digit(c) || c == '+' || c == '-' || c == '.' ||
	      (c && strchr("yYnNtTfFoO~", c))))
		return true;
	if (lookup_word(s, n, r))
		return true;
	if (!(is_digit(c) || c == '+' || c == '-' || c == '.'))
		return true;
	if (c != '.' && want_ts && go_timestamp(s, n)) {
		r->t = R_TIMESTAMP;
		return true;
	}
	if (n >= sizeof(stack)) {
		plain = malloc(n + 1);
		if (!plain)
			return false;
	}
	for (i = pn = 0; i < n; i++)
		if (s[i] != '_')
			plain[pn++] = s[i];
	plain[pn] = '\0';
	if (c == '.') {
		if (go_float_syntax(s, n))
			go_float_value(plain, r);
	} else if (go_parse_int(plain, pn, 0, &iv) == 0) {
		r->t = R_INT;
		r->i = iv;
	} else if (go_parse_uint(plain, pn, 0, &uv) == 0) {
		r->t = R_UINT;
		r->u = uv;
	} else if (yaml_style_float(plain, pn)) {
		go_float_value(plain, r);
	} else if (pn >= 2 && plain[0] == '0' && plain[1] == 'b') {
		if (go_parse_int(plain + 2, pn - 2, 2, &iv) == 0) {
			r->t = R_INT;
			r->i = iv;
		} else if (go_parse_uint(plain + 2, pn - 2, 2, &uv) == 0) {
			r->t = R_UINT;
			r->u = uv;
		}
	} else if (pn > 3 && plain[0] == '-' && plain[1] == '0' &&
		   plain[2] == 'b' && plain[3] != '-' && plain[3] != '+') {
		/* v2 parses "-" followed by the digits. */
		if (go_parse_uint(plain + 3, pn - 3, 2, &uv) == 0 &&
		    uv <= (uint64_t)INT64_MAX + 1) {
			r->t = R_INT;
			r->i = (int64_t)(0 - uv);
		}
	}
	if (plain != stack)
		free(plain);
	return true;
}

/* go-yaml v2's isBase60Float:
 * ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static bool base60_float(const char *s, size_t n)
{
	size_t i = 0;
	int groups = 0;

	if (n == 0 || !memchr(s, ':', n))
		return false;
	if (s[i] == '+' || s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		return false;
	for (i++; i < n && (is_digit(s[i]) || s[i] == '_'); i++)
		;
	while (i < n && s[i] == ':') {
		i++;
		if (i + 1 < n && s[i] >= '0' && s[i] <= '5' && is_digit(s[i + 1]))
			i += 2;
		else if (i < n && is_digit(s[i]))
			i++;
		else
			return false;
		groups++;
	}
	if (!groups)
		return false;
	if (i < n && s[i] == '.')
		for (i++; i < n && (is_digit(s[i]) || s[i] == '_'); i++)
			;
	return i == n;
}

/* Go's utf8.ValidString. */
static bool utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xBF;
		size_t w, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			w = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			w = 3;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			w = 4;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			return false;
		}
		if (n - i < w || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (k = 2; k < w; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return false;
		i += w;
	}
	return true;
}

static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (is_digit((char)c))
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* base64.StdEncoding.DecodeString: padding required, "\r" and "\n"
 * skipped, trailing bits ignored. Decodes in place into out (which may be
 * s); returns the length or -1. */
static long b64_decode(const char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	for (;;) {
		int q[4], j;

		for (j = 0; j < 4; j++) {
			while (i < n && (s[i] == '\n' || s[i] == '\r'))
				i++;
			if (i == n) {
				if (j == 0)
					return (long)o;
				return -1;
			}
			if (s[i] == '=') {
				if (j < 2)
					return -1;
				i++;
				if (j == 2) {
					while (i < n && (s[i] == '\n' || s[i] == '\r'))
						i++;
					if (i == n || s[i] != '=')
						return -1;
					i++;
				}
				while (i < n && (s[i] == '\n' || s[i] == '\r'))
					i++;
				if (i < n)
					return -1;
				break;
			}
			q[j] = b64_val((unsigned char)s[i++]);
			if (q[j] < 0)
				return -1;
		}
		out[o++] = (char)(q[0] << 2 | q[1] >> 4);
		if (j > 2)
			out[o++] = (char)(q[1] << 4 | q[2] >> 2);
		if (j > 3)
			out[o++] = (char)(q[2] << 6 | q[3]);
		if (j < 4)
			return (long)o;
	}
}

/* ------------------------------------------------------------------------
 * Decoding
 */

typedef struct anchor {
	kd_value *v; /* NULL while the anchored node is still open */
	size_t nodes;
	int height;
} anchor;

typedef struct frame {
	kd_value *v;	/* KD_LIST or KD_MAP */
	long anchor;	/* index into dec.anchors, or -1 */
	size_t nodes;	/* nodes so far, v included */
	int height;	/* levels of collections, v included */
	bool want_value; /* maps: a key has been read */
	bool merge;	/* ... and it is "<<" */
	const char *key;
	size_t klen;
	yaml_mark_t key_mark;
	const char *path; /* positions only: this node's path */
	size_t plen;
} frame;

typedef struct dec {
	kd_arena *a;	  /* results */
	kd_arena scratch; /* stack, pending keys, anchors */
	const char *name;
	const char *text;
	size_t len;
	kd_err *err;
	bool as_float;
	bool single;
	size_t alias_max, alias_used;
	frame *stack;
	size_t depth;
	anchor *anchors;
	size_t nanchors, anchors_cap;
	kd_value *anchor_names; /* this document's: name -> KD_INT index */
	kd_value *root;
	kd_value *docs;
	size_t ndocs;
	kd_value *pos; /* path -> [line, column], when asked for */
} dec;

static int arena_fail(dec *d, kd_arena *a)
{
	int code = a->failed ? a->failed : KD_ENOMEM;

	if (code == KD_ELIMIT)
		return kd_err_set(d->err, code,
				  "%s: decoded YAML exceeds the memory limit "
				  "of its arena (%zu bytes)",
				  d->name, a->limit);
	return kd_err_set(d->err, code, "%s: out of memory decoding YAML",
			  d->name);
}

static int fail_at(dec *d, int code, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_at(dec *d, int code, yaml_mark_t m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kd_err_set(d->err, code, "%s:%zu:%zu: %s", d->name, m.line + 1,
			  m.column + 1, msg);
}

/* A reader error has a byte offset, not a mark. */
static int reader_error(dec *d, const yaml_parser_t *p)
{
	size_t off = p->problem_offset, i, line = 1, col = 1;

	if (off > d->len)
		off = d->len;
	for (i = 0; i < off; i++) {
		if (d->text[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)d->text[i] & 0xC0) != 0x80) {
			col++;
		}
	}
	if (p->problem_value >= 0)
		return kd_err_set(d->err, KD_EPARSE,
				  "%s:%zu:%zu: %s (#%X at byte %zu)", d->name,
				  line, col, p->problem, p->problem_value,
				  p->problem_offset);
	return kd_err_set(d->err, KD_EPARSE, "%s:%zu:%zu: %s (at byte %zu)",
			  d->name, line, col, p->problem, p->problem_offset);
}

static int parser_error(dec *d, const yaml_parser_t *p)
{
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return kd_err_set(d->err, KD_ENOMEM,
				  "%s: out of memory parsing YAML", d->name);
	case YAML_READER_ERROR:
		return reader_error(d, p);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (p->context)
			return kd_err_set(
				d->err, KD_EPARSE,
				"%s:%zu:%zu: %s (%s that started at line %zu, "
				"column %zu)",
				d->name, p->problem_mark.line + 1,
				p->problem_mark.column + 1, p->problem,
				p->context, p->context_mark.line + 1,
				p->context_mark.column + 1);
		return kd_err_set(d->err, KD_EPARSE, "%s:%zu:%zu: %s", d->name,
				  p->problem_mark.line + 1,
				  p->problem_mark.column + 1,
				  p->problem ? p->problem : "invalid YAML");
	default:
		return kd_err_set(d->err, KD_EINTERNAL,
				  "%s: libyaml failed without a reason (error %d)",
				  d->name, (int)p->error);
	}
}

static frame *top(dec *d)
{
	return d->depth ? &d->stack[d->depth - 1] : NULL;
}

static bool want_key(const frame *f)
{
	return f && f->v->type == KD_MAP && !f->want_value;
}

/* The path of a child of f (the document root when f is NULL): the
 * parent's path, a dot unless the parent is the root of a single-document
 * decode, and the key, the list index, or "<<" for a merge's value. The
 * result lives in scratch memory. */
static int child_path(dec *d, const frame *f, const char **out, size_t *n)
{
	char idx[32];
	const char *comp;
	size_t clen, len;
	char *p;

	if (!f) {
		if (d->single) {
			*out = "";
			*n = 0;
			return 0;
		}
		clen = (size_t)snprintf(idx, sizeof idx, "%zu", d->ndocs);
		comp = idx;
	} else if (f->v->type == KD_LIST) {
		clen = (size_t)snprintf(idx, sizeof idx, "%zu", f->v->u.list.len);
		comp = idx;
	} else if (f->merge) {
		comp = "<<";
		clen = 2;
	} else {
		comp = f->key;
		clen = f->klen;
	}
	len = f && f->plen ? f->plen + 1 + clen : clen;
	p = kd_arena_alloc(&d->scratch, len + 1);
	if (!p)
		return arena_fail(d, &d->scratch);
	if (f && f->plen) {
		memcpy(p, f->path, f->plen);
		p[f->plen] = '.';
		memcpy(p + f->plen + 1, comp, clen);
	} else {
		memcpy(p, comp, clen);
	}
	p[len] = '\0';
	*out = p;
	*n = len;
	return 0;
}

static int record_pos(dec *d, const char *path, size_t plen, yaml_mark_t m)
{
	kd_value *at = kd_value_list(d->a, 2);
	kd_value *line = kd_value_int(d->a, (int64_t)m.line + 1);
	kd_value *col = kd_value_int(d->a, (int64_t)m.column + 1);

	if (!at || !line || !col || kd_list_push(d->a, at, line) ||
	    kd_list_push(d->a, at, col) ||
	    kd_map_set(d->a, d->pos, path, plen, at))
		return arena_fail(d, d->a);
	return 0;
}

/* Records where a node that is not a map key starts: list items and the
 * root (map values are found by their key's position). */
static int node_pos(dec *d, yaml_mark_t m)
{
	frame *f = top(d);
	const char *path;
	size_t plen;
	int rc;

	if (!d->pos || (f && f->v->type == KD_MAP))
		return 0;
	rc = child_path(d, f, &path, &plen);
	return rc ? rc : record_pos(d, path, plen, m);
}

static int anchor_define(dec *d, const yaml_char_t *name, kd_value *v,
			 size_t nodes, int height, long *idx_out)
{
	kd_value *idx;
	anchor *an;

	if (d->nanchors == d->anchors_cap) {
		size_t ncap = d->anchors_cap ? d->anchors_cap * 2 : 16;
		anchor *p = kd_arena_grow(&d->scratch, d->anchors,
					  d->anchors_cap * sizeof(*p),
					  ncap * sizeof(*p));

		if (!p)
			return arena_fail(d, &d->scratch);
		d->anchors = p;
		d->anchors_cap = ncap;
	}
	if (!d->anchor_names) {
		d->anchor_names = kd_value_map(&d->scratch, 0);
		if (!d->anchor_names)
			return arena_fail(d, &d->scratch);
	}
	idx = kd_value_int(&d->scratch, (int64_t)d->nanchors);
	if (!idx || kd_map_setz(&d->scratch, d->anchor_names,
				(const char *)name, idx))
		return arena_fail(d, &d->scratch);
	an = &d->anchors[d->nanchors];
	an->v = v;
	an->nodes = nodes;
	an->height = height;
	if (idx_out)
		*idx_out = (long)d->nanchors;
	d->nanchors++;
	return 0;
}

static int merge_map(dec *d, kd_value *dst, const kd_value *src)
{
	size_t i;

	for (i = 0; i < src->u.map.len; i++) {
		const kd_map_ent *e = &src->u.map.ents[i];

		if (kd_map_set(d->a, dst, e->key, e->klen, e->val))
			return arena_fail(d, d->a);
	}
	return 0;
}

static bool all_maps(const kd_value *list)
{
	size_t i;

	for (i = 0; i < list->u.list.len; i++)
		if (list->u.list.items[i]->type != KD_MAP)
			return false;
	return true;
}

/* v2's merge(): a map, or a list of maps of which earlier ones win (so they
 * are merged last). */
static int apply_merge(dec *d, frame *f, const kd_value *v)
{
	size_t i;
	int rc;

	if (v->type == KD_MAP)
		return merge_map(d, f->v, v);
	if (v->type != KD_LIST || !all_maps(v))
		return fail_at(d, KD_EPARSE, f->key_mark,
			       "map merge requires map or sequence of maps as "
			       "the value");
	for (i = v->u.list.len; i-- > 0;) {
		rc = merge_map(d, f->v, v->u.list.items[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Hands a finished node to its parent, or makes it the document. */
static int add_value(dec *d, kd_value *v, size_t nodes, int height)
{
	frame *f = top(d);
	int rc = 0;

	if (!f) {
		d->root = v;
		return 0;
	}
	f->nodes += nodes;
	if (height + 1 > f->height)
		f->height = height + 1;
	if (f->v->type == KD_LIST) {
		if (kd_list_push(d->a, f->v, v))
			return arena_fail(d, d->a);
		return 0;
	}
	if (f->merge)
		rc = apply_merge(d, f, v);
	else if (kd_map_set(d->a, f->v, f->key, f->klen, v))
		rc = arena_fail(d, d->a);
	f->want_value = false;
	f->merge = false;
	return rc;
}

static kd_value *make_value(dec *d, const scalar_res *r, const char *s,
			    size_t n)
{
	switch (r->t) {
	case R_NULL: return kd_value_null(d->a);
	case R_BOOL: return kd_value_bool(d->a, r->b);
	case R_INT: return kd_value_int(d->a, r->i);
	case R_UINT: return kd_value_float(d->a, (double)r->u);
	case R_FLOAT: return kd_value_float(d->a, r->f);
	case R_TIMESTAMP:
	case R_STR: break;
	}
	return kd_value_str(d->a, s, n);
}

/* Resolves a scalar event as v2's decoder does. A !!binary value is decoded
 * into *s / *n, in scratch memory. */
static int resolve_event(dec *d, const yaml_event_t *ev, scalar_res *r,
			 const char **s, size_t *n)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *name;
	long bl;
	char *buf;

	*s = (const char *)ev->data.scalar.value;
	*n = ev->data.scalar.length;
	r->t = R_STR;
	if (!tag) {
		if (ev->data.scalar.plain_implicit && !resolve(*s, *n, true, r))
			return kd_err_set(d->err, KD_ENOMEM,
					  "%s: out of memory decoding YAML",
					  d->name);
		return 0;
	}
	if (strncmp(tag, TAG_PREFIX, sizeof(TAG_PREFIX) - 1))
		return 0;
	name = tag + sizeof(TAG_PREFIX) - 1;
	if (!strcmp(name, "binary")) {
		buf = kd_arena_alloc(&d->scratch, *n + 1);
		if (!buf)
			return arena_fail(d, &d->scratch);
		bl = b64_decode(*s, *n, buf);
		if (bl < 0)
			return fail_at(d, KD_EPARSE, ev->start_mark,
				       "!!binary value contains invalid base64 "
				       "data");
		*s = buf;
		*n = (size_t)bl;
		return 0;
	}
	if (strcmp(name, "bool") && strcmp(name, "int") &&
	    strcmp(name, "float") && strcmp(name, "null") &&
	    strcmp(name, "timestamp"))
		return 0;
	if (!resolve(*s, *n, !strcmp(name, "timestamp"), r))
		return kd_err_set(d->err, KD_ENOMEM,
				  "%s: out of memory decoding YAML", d->name);
	if (!strcmp(rtype_tag[r->t], name))
		return 0;
	if (!strcmp(name, "float") && r->t == R_INT) {
		r->t = R_FLOAT;
		r->f = (double)r->i;
		return 0;
	}
	return fail_at(d, KD_EPARSE, ev->start_mark,
		       "cannot decode !!%s `%.*s%s` as a !!%s", rtype_tag[r->t],
		       *n > 40 ? 37 : (int)*n, *s, *n > 40 ? "..." : "", name);
}

/* sigs.k8s.io/yaml's conversion of go-yaml v2's float keys: Go's
 * FormatFloat(f, 'g', -1, 32). */
static int float32_key(kd_buf *b, double f)
{
	char s[32];
	float x;
	int p;

	if (isnan(f))
		return kd_buf_puts(b, ".nan");
	/* Go rounds to float32 and overflows to infinity from the midpoint
	 * between FLT_MAX and 2^128 on; C leaves that conversion undefined. */
	if (fabs(f) >= 0x1.ffffffp127)
		return kd_buf_puts(b, f > 0 ? ".inf" : "-.inf");
	x = (float)f;
	if (x == 0)
		return kd_num_format_float(b, (double)x, 'g', -1);
	for (p = 1; p <= 9; p++) {
		snprintf(s, sizeof(s), "%.*e", p - 1, (double)x);
		if (strtof(s, NULL) == x)
			break;
	}
	/* The shortest float32 digits are also the shortest for the double
	 * nearest to them, so the 64-bit formatter prints them Go's way. */
	return kd_num_format_float(b, strtod(s, NULL), 'g', -1);
}

/* Stores the pending key of f, converted to a string as sigs.k8s.io/yaml
 * does with go-yaml v2's keys. */
static int set_key(dec *d, frame *f, enum rtype t, const scalar_res *r,
		   const char *s, size_t n, yaml_mark_t m)
{
	char num[32];
	kd_buf fb = KD_BUF_INIT(64);
	char *k;

	switch (t) {
	case R_NULL:
		return fail_at(d, KD_EPARSE, m,
			       "unsupported map key: null (a key must be a "
			       "string, number or boolean)");
	case R_UINT:
		return fail_at(d, KD_EPARSE, m,
			       "unsupported map key: %" PRIu64
			       " (an integer key must fit in 64 signed bits)",
			       r->u);
	case R_BOOL:
		s = r->b ? "true" : "false";
		n = strlen(s);
		break;
	case R_INT:
		n = (size_t)snprintf(num, sizeof(num), "%" PRId64, r->i);
		s = num;
		break;
	case R_FLOAT:
		if (float32_key(&fb, r->f)) {
			kd_buf_free(&fb);
			return kd_err_set(d->err, KD_ENOMEM,
					  "%s: out of memory decoding YAML",
					  d->name);
		}
		n = fb.len < sizeof(num) ? fb.len : sizeof(num) - 1;
		memcpy(num, fb.ptr, n);
		kd_buf_free(&fb);
		s = num;
		break;
	case R_TIMESTAMP:
	case R_STR: break;
	}
	k = kd_arena_strndup(&d->scratch, s, n);
	if (!k)
		return arena_fail(d, &d->scratch);
	f->key = k;
	f->klen = n;
	f->key_mark = m;
	f->want_value = true;
	if (d->pos) {
		const char *path;
		size_t plen;
		int rc = child_path(d, f, &path, &plen);

		return rc ? rc : record_pos(d, path, plen, m);
	}
	return 0;
}

static int on_scalar(dec *d, const yaml_event_t *ev)
{
	const yaml_char_t *anchor_name = ev->data.scalar.anchor;
	frame *f = top(d);
	scalar_res r;
	kd_value *v = NULL;
	const char *s;
	size_t n;
	int rc;

	if (want_key(f) && ev->data.scalar.length == 2 &&
	    !memcmp(ev->data.scalar.value, "<<", 2) &&
	    (ev->data.scalar.plain_implicit ||
	     (ev->data.scalar.tag &&
	      !strcmp((const char *)ev->data.scalar.tag, TAG_PREFIX "merge")))) {
		f->merge = true;
		f->want_value = true;
		f->key_mark = ev->start_mark;
		if (!anchor_name)
			return 0;
		v = kd_value_str(d->a, "<<", 2);
		if (!v)
			return arena_fail(d, d->a);
		return anchor_define(d, anchor_name, v, 1, 0, NULL);
	}
	rc = resolve_event(d, ev, &r, &s, &n);
	if (rc)
		return rc;
	if (!want_key(f) || anchor_name) {
		v = make_value(d, &r, s, n);
		if (!v)
			return arena_fail(d, d->a);
		if (anchor_name) {
			rc = anchor_define(d, anchor_name, v, 1, 0, NULL);
			if (rc)
				return rc;
		}
	}
	if (want_key(f))
		return set_key(d, f, r.t, &r, s, n, ev->start_mark);
	rc = node_pos(d, ev->start_mark);
	return rc ? rc : add_value(d, v, 1, 0);
}

/* A deep copy for an alias: new lists, maps and scalars, so either side can
 * be changed alone, but string bytes (immutable) are shared, which keeps an
 * aliased long string cheap. The depth was checked against the anchor's
 * height. */
static kd_value *copy_value(kd_arena *a, const kd_value *v)
{
	kd_value *c;
	size_t i;

	switch (v->type) {
	case KD_STR: return kd_value_str_ref(a, v->u.str.ptr, v->u.str.len);
	case KD_LIST:
		c = kd_value_list(a, v->u.list.len);
		for (i = 0; c && i < v->u.list.len; i++) {
			kd_value *item = copy_value(a, v->u.list.items[i]);

			if (!item || kd_list_push(a, c, item))
				return NULL;
		}
		return c;
	case KD_MAP:
		c = kd_value_map(a, v->u.map.len);
		for (i = 0; c && i < v->u.map.len; i++) {
			const kd_map_ent *e = &v->u.map.ents[i];
			kd_value *item = copy_value(a, e->val);

			if (!item || kd_map_set(a, c, e->key, e->klen, item))
				return NULL;
		}
		return c;
	default:
		c = kd_arena_alloc(a, sizeof(*c));
		if (c)
			*c = *v;
		return c;
	}
}

static int on_alias(dec *d, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	frame *f = top(d);
	const kd_value *idx = kd_map_getz(d->anchor_names, name);
	const anchor *an;
	kd_value *c;
	scalar_res r = {0};
	int rc;

	if (!idx)
		return fail_at(d, KD_EPARSE, ev->start_mark,
			       "unknown anchor '%s' referenced", name);
	an = &d->anchors[idx->u.i];
	if (!an->v)
		return fail_at(d, KD_EPARSE, ev->start_mark,
			       "anchor '%s' value contains itself", name);
	if (an->nodes > d->alias_max - d->alias_used)
		return fail_at(d, KD_ELIMIT, ev->start_mark,
			       "alias expansion exceeds %zu nodes (possible "
			       "\"billion laughs\")",
			       d->alias_max);
	d->alias_used += an->nodes;
	if (want_key(f)) {
		switch (an->v->type) {
		case KD_NULL: r.t = R_NULL; break;
		case KD_BOOL:
			r.t = R_BOOL;
			r.b = an->v->u.b;
			break;
		case KD_INT:
			r.t = R_INT;
			r.i = an->v->u.i;
			break;
		case KD_FLOAT:
			r.t = R_FLOAT;
			r.f = an->v->u.f;
			break;
		case KD_STR:
			return set_key(d, f, R_STR, NULL, an->v->u.str.ptr,
				       an->v->u.str.len, ev->start_mark);
		case KD_LIST:
		case KD_MAP:
			return fail_at(d, KD_EPARSE, ev->start_mark,
				       "invalid map key: a %s cannot be a key",
				       kd_vtype_name(an->v->type));
		}
		return set_key(d, f, r.t, &r, NULL, 0, ev->start_mark);
	}
	if (d->depth + (size_t)an->height > KD_LIMIT_DEPTH)
		return fail_at(d, KD_ELIMIT, ev->start_mark,
			       "alias '%s' nests deeper than %d levels", name,
			       KD_LIMIT_DEPTH);
	c = copy_value(d->a, an->v);
	if (!c)
		return arena_fail(d, d->a);
	rc = node_pos(d, ev->start_mark);
	return rc ? rc : add_value(d, c, an->nodes, an->height);
}

static int on_start(dec *d, const yaml_event_t *ev)
{
	bool is_map = ev->type == YAML_MAPPING_START_EVENT;
	const yaml_char_t *anchor_name = is_map
		? ev->data.mapping_start.anchor
		: ev->data.sequence_start.anchor;
	frame *f;

	if (want_key(top(d)))
		return fail_at(d, KD_EPARSE, ev->start_mark,
			       "invalid map key: a %s cannot be a key",
			       is_map ? "mapping" : "sequence");
	if (d->depth >= KD_LIMIT_DEPTH)
		return fail_at(d, KD_ELIMIT, ev->start_mark,
			       "mappings and sequences nest deeper than %d "
			       "levels",
			       KD_LIMIT_DEPTH);
	if (d->pos) {
		const char *path;
		size_t plen;
		int rc = node_pos(d, ev->start_mark);

		if (!rc)
			rc = child_path(d, top(d), &path, &plen);
		if (rc)
			return rc;
		f = &d->stack[d->depth];
		memset(f, 0, sizeof(*f));
		f->path = path;
		f->plen = plen;
	} else {
		f = &d->stack[d->depth];
		memset(f, 0, sizeof(*f));
	}
	f->v = is_map ? kd_value_map(d->a, 0) : kd_value_list(d->a, 0);
	if (!f->v)
		return arena_fail(d, d->a);
	f->anchor = -1;
	f->nodes = 1;
	f->height = 1;
	d->depth++;
	if (anchor_name)
		return anchor_define(d, anchor_name, NULL, 0, 0, &f->anchor);
	return 0;
}

static int on_end(dec *d)
{
	frame f = d->stack[--d->depth];

	if (f.anchor >= 0) {
		anchor *an = &d->anchors[f.anchor];

		an->v = f.v;
		an->nodes = f.nodes;
		an->height = f.height;
	}
	return add_value(d, f.v, f.nodes, f.height);
}

/* Helm's JSON step: every number is a float64. */
static void ints_to_floats(kd_value *v)
{
	size_t i;

	switch (v->type) {
	case KD_INT: {
		int64_t x = v->u.i;

		v->type = KD_FLOAT;
		v->u.f = (double)x;
		break;
	}
	case KD_LIST:
		for (i = 0; i < v->u.list.len; i++)
			ints_to_floats(v->u.list.items[i]);
		break;
	case KD_MAP:
		for (i = 0; i < v->u.map.len; i++)
			ints_to_floats(v->u.map.ents[i].val);
		break;
	default: break;
	}
}

static int on_document_start(dec *d, const yaml_event_t *ev)
{
	if (d->single && d->ndocs)
		return fail_at(d, KD_EPARSE, ev->start_mark,
			       "a second document, where only one is allowed");
	if (d->ndocs >= KD_LIMIT_YAML_DOCS)
		return fail_at(d, KD_ELIMIT, ev->start_mark,
			       "more than %u documents in one stream",
			       (unsigned)KD_LIMIT_YAML_DOCS);
	d->anchor_names = NULL;
	d->nanchors = 0;
	d->root = NULL;
	return 0;
}

static int on_document_end(dec *d)
{
	if (!d->root) {
		d->root = kd_value_null(d->a);
		if (!d->root)
			return arena_fail(d, d->a);
	}
	if (d->as_float)
		ints_to_floats(d->root);
	d->ndocs++;
	if (d->docs && kd_list_push(d->a, d->docs, d->root))
		return arena_fail(d, d->a);
	return 0;
}

static int on_event(dec *d, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT: return on_document_start(d, ev);
	case YAML_DOCUMENT_END_EVENT: return on_document_end(d);
	case YAML_SCALAR_EVENT: return on_scalar(d, ev);
	case YAML_ALIAS_EVENT: return on_alias(d, ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: return on_start(d, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: return on_end(d);
	default: return 0;
	}
}

static int decode(dec *d, const kd_yaml_decode_opts *opts)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_parser = false, have_event = false, done = false;
	int rc = 0;

	kd_arena_init(&d->scratch, KD_LIMIT_ARENA_BYTES);
	d->as_float = opts && opts->numbers_as_float;
	d->alias_max = opts && opts->max_alias_nodes
		? opts->max_alias_nodes
		: KD_LIMIT_YAML_ALIAS_NODES;
	if (d->len > KD_LIMIT_DOC_BYTES) {
		rc = kd_err_set(d->err, KD_ELIMIT,
				"%s: YAML input of %zu bytes exceeds the limit "
				"of %u bytes",
				d->name, d->len, (unsigned)KD_LIMIT_DOC_BYTES);
		goto cleanup;
	}
	d->stack = kd_arena_alloc(&d->scratch,
				  KD_LIMIT_DEPTH * sizeof(*d->stack));
	if (!d->stack) {
		rc = arena_fail(d, &d->scratch);
		goto cleanup;
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = kd_err_set(d->err, KD_ENOMEM,
				"%s: out of memory parsing YAML", d->name);
		goto cleanup;
	}
	have_parser = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)d->text,
				     d->len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = parser_error(d, &parser);
			goto cleanup;
		}
		have_event = true;
		rc = on_event(d, &ev);
		if (rc)
			goto cleanup;
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		have_event = false;
	}
cleanup:
	if (have_event)
		yaml_event_delete(&ev);
	if (have_parser)
		yaml_parser_delete(&parser);
	kd_arena_free(&d->scratch);
	return rc;
}

int kd_yaml_decode(kd_value **out, kd_arena *a, const char *text, size_t len,
		   const char *name, const kd_yaml_decode_opts *opts,
		   kd_err *err)
{
	dec d;
	int rc;

	memset(&d, 0, sizeof(d));
	d.a = a;
	d.name = name ? name : "<input>";
	d.text = text;
	d.len = len;
	d.err = err;
	d.single = true;
	if (opts && opts->positions) {
		d.pos = kd_value_map(a, 0);
		if (!d.pos)
			return arena_fail(&d, a);
	}
	rc = decode(&d, opts);
	if (rc)
		return rc;
	if (!d.ndocs) {
		d.root = kd_value_null(a);
		if (!d.root)
			return arena_fail(&d, a);
	}
	*out = d.root;
	if (d.pos)
		*opts->positions = d.pos;
	return 0;
}

int kd_yaml_decode_all(kd_value **out, kd_arena *a, const char *text,
		       size_t len, const char *name,
		       const kd_yaml_decode_opts *opts, kd_err *err)
{
	dec d;
	int rc;

	memset(&d, 0, sizeof(d));
	d.a = a;
	d.name = name ? name : "<input>";
	d.text = text;
	d.len = len;
	d.err = err;
	d.docs = kd_value_list(a, 0);
	if (!d.docs)
		return arena_fail(&d, a);
	if (opts && opts->positions) {
		d.pos = kd_value_map(a, 0);
		if (!d.pos)
			return arena_fail(&d, a);
	}
	rc = decode(&d, opts);
	if (rc)
		return rc;
	*out = d.docs;
	if (d.pos)
		*opts->positions = d.pos;
	return 0;
}

/* ------------------------------------------------------------------------
 * Encoding
 */

typedef struct enc {
	yaml_emitter_t em;
	kd_buf *out;
	const kd_yaml_encode_opts *opts;
	kd_err *err;
} enc;

static int write_out(void *data, unsigned char *buffer, size_t size)
{
	return kd_buf_put(data, buffer, size) == 0;
}

static int emit(enc *e, yaml_event_t *ev)
{
	if (yaml_emitter_emit(&e->em, ev))
		return 0;
	if (e->out->failed == KD_ELIMIT)
		return kd_err_set(e->err, KD_ELIMIT,
				  "YAML output exceeds its limit of %zu bytes",
				  e->out->limit);
	if (e->out->failed || e->em.error == YAML_MEMORY_ERROR)
		return kd_err_set(e->err, KD_ENOMEM,
				  "out of memory encoding YAML");
	return kd_err_set(e->err, KD_EINTERNAL, "libyaml emitter: %s",
			  e->em.problem ? e->em.problem : "unknown error");
}

static int emit_scalar(enc *e, const char *tag, const char *s, size_t n,
		       yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (n > INT_MAX)
		return kd_err_set(e->err, KD_ELIMIT,
				  "a string of %zu bytes is too long for YAML",
				  n);
	if (!yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *)tag,
					  (yaml_char_t *)s, (int)n, !tag, !tag,
					  style))
		return kd_err_set(e->err, KD_ENOMEM,
				  "out of memory encoding YAML");
	return emit(e, &ev);
}

/* go-yaml v2's encodeBase64: lines of 70, each ending in "\n" once there is
 * more than one. */
static char *b64_encode(const char *s, size_t n, size_t *outlen)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t enc_len = (n + 2) / 3 * 4, lines = enc_len / 70 + 1;
	char *tmp = malloc(enc_len * 2 + lines + 1), *out;
	size_t i, o = 0, k = 0;

	if (!tmp)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16 |
			     (unsigned char)s[i + 1] << 8 |
			     (unsigned char)s[i + 2];

		tmp[o++] = abc[v >> 18];
		tmp[o++] = abc[(v >> 12) & 63];
		tmp[o++] = abc[(v >> 6) & 63];
		tmp[o++] = abc[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		tmp[o++] = abc[v >> 18];
		tmp[o++] = abc[(v >> 12) & 63];
		tmp[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		tmp[o++] = '=';
	}
	out = tmp + enc_len;
	for (i = 0; i < enc_len; i += 70) {
		size_t j = i + 70 < enc_len ? i + 70 : enc_len;

		memcpy(out + k, tmp + i, j - i);
		k += j - i;
		if (lines > 1)
			out[k++] = '\n';
	}
	memmove(tmp, out, k);
	tmp[k] = '\0';
	*outlen = k;
	return tmp;
}

/* go-yaml v2's stringv. */
static int emit_string(enc *e, const char *s, size_t n)
{
	yaml_scalar_style_t style;
	scalar_res r;
	char *b64;
	size_t bn;
	int rc;

	if (!utf8_valid(s, n)) {
		b64 = b64_encode(s, n, &bn);
		if (!b64)
			return kd_err_set(e->err, KD_ENOMEM,
					  "out of memory encoding YAML");
		rc = emit_scalar(e, TAG_BINARY, b64, bn,
				 memchr(b64, '\n', bn)
					 ? YAML_LITERAL_SCALAR_STYLE
					 : YAML_PLAIN_SCALAR_STYLE);
		free(b64);
		return rc;
	}
	if (memchr(s, '\n', n)) {
		style = YAML_LITERAL_SCALAR_STYLE;
	} else {
		if (!resolve(s, n, true, &r))
			return kd_err_set(e->err, KD_ENOMEM,
					  "out of memory encoding YAML");
		style = r.t == R_STR && !base60_float(s, n)
			? YAML_PLAIN_SCALAR_STYLE
			: YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	}
	return emit_scalar(e, NULL, s, n, style);
}

/* A key decoded to code points, as Go's []rune(string) does (an invalid
 * byte is U+FFFD). */
typedef struct sort_key {
	const kd_map_ent *e;
	uint32_t *r;
	size_t n;
} sort_key;

static size_t to_runes(const char *str, size_t n, uint32_t *out)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k = 0;

	while (i < n) {
		size_t w = 1;

		if (s[i] < 0x80) {
			out[k++] = s[i];
		} else if (utf8_valid(str + i, n - i >= 2 ? 2 : 1)) {
			out[k++] = (uint32_t)(s[i] & 0x1F) << 6 | (s[i + 1] & 0x3F);
			w = 2;
		} else if (n - i >= 3 && utf8_valid(str + i, 3)) {
			out[k++] = (uint32_t)(s[i] & 0x0F) << 12 |
				   (uint32_t)(s[i + 1] & 0x3F) << 6 |
				   (s[i + 2] & 0x3F);
			w = 3;
		} else if (n - i >= 4 && utf8_valid(str + i, 4)) {
			out[k++] = (uint32_t)(s[i] & 0x07) << 18 |
				   (uint32_t)(s[i + 1] & 0x3F) << 12 |
				   (uint32_t)(s[i + 2] & 0x3F) << 6 |
				   (s[i + 3] & 0x3F);
			w = 4;
		} else {
			out[k++] = 0xFFFD;
		}
		i += w;
	}
	return k;
}

/* unicode.IsLetter: exact for ASCII and Latin-1; above that, everything
 * but the punctuation, symbol, mark and private-use blocks. */
static bool rune_letter(uint32_t r)
{
	if (r < 0x80)
		return (r | 0x20) >= 'a' && (r | 0x20) <= 'z';
	if (r < 0xC0)
		return r == 0xAA || r == 0xB5 || r == 0xBA;
	if (r < 0x100)
		return r != 0xD7 && r != 0xF7;
	return !((r >= 0x300 && r <= 0x36F) || (r >= 0x2000 && r <= 0x2BFF) ||
		 (r >= 0x3000 && r <= 0x303F) || (r >= 0xD800 && r <= 0xF8FF) ||
		 (r >= 0xFE00 && r <= 0xFE6F) || (r >= 0xFF00 && r <= 0xFF20) ||
		 (r >= 0xFFF0 && r <= 0xFFFF) ||
		 (r >= 0x1F000 && r <= 0x1FAFF) || r >= 0xE0000);
}

static bool rune_digit(uint32_t r)
{
	return r >= '0' && r <= '9';
}

/* go-yaml v2's keyList.Less for two strings. */
static bool key_less(const sort_key *a, const sort_key *b)
{
	const uint32_t *ar = a->r, *br = b->r;
	size_t i, j, ai, bi;

	for (i = 0; i < a->n && i < b->n; i++) {
		bool al, bl;
		uint64_t an = 0, bn = 0;

		if (ar[i] == br[i])
			continue;
		al = rune_letter(ar[i]);
		bl = rune_letter(br[i]);
		if (al && bl)
			return ar[i] < br[i];
		if (al || bl)
			return bl;
		if (ar[i] == '0' || br[i] == '0') {
			for (j = i; j-- > 0 && rune_digit(ar[j]);) {
				if (ar[j] != '0') {
					an = bn = 1;
					break;
				}
			}
		}
		/* Go's int64 arithmetic wraps; so does this. */
		for (ai = i; ai < a->n && rune_digit(ar[ai]); ai++)
			an = an * 10 + (ar[ai] - '0');
		for (bi = i; bi < b->n && rune_digit(br[bi]); bi++)
			bn = bn * 10 + (br[bi] - '0');
		if (an != bn)
			return (int64_t)an < (int64_t)bn;
		if (ai != bi)
			return ai < bi;
		return ar[i] < br[i];
	}
	return a->n < b->n;
}

static int key_cmp(const void *x, const void *y)
{
	const sort_key *a = x, *b = y;

	if (key_less(a, b))
		return -1;
	if (key_less(b, a))
		return 1;
	/* Only keys whose invalid bytes differ get here. */
	return kd_bytes_cmp(a->e->key, a->e->klen, b->e->key, b->e->klen);
}

static int emit_node(enc *e, const kd_value *v, int depth);

static int emit_entry(enc *e, const kd_map_ent *ent, int depth)
{
	int rc = emit_string(e, ent->key, ent->klen);

	return rc ? rc : emit_node(e, ent->val, depth + 1);
}

static int emit_map(enc *e, const kd_value *v, int depth)
{
	sort_key *keys = NULL;
	uint32_t *runes = NULL;
	yaml_event_t ev;
	size_t i, total = 0, used = 0;
	int rc;

	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
					    YAML_BLOCK_MAPPING_STYLE);
	rc = emit(e, &ev);
	if (rc)
		goto cleanup;
	if (e->opts && e->opts->sort_keys && v->u.map.len > 1) {
		for (i = 0; i < v->u.map.len; i++)
			total += v->u.map.ents[i].klen;
		keys = malloc(v->u.map.len * sizeof(*keys));
		runes = malloc((total ? total : 1) * sizeof(*runes));
		if (!keys || !runes) {
			rc = kd_err_set(e->err, KD_ENOMEM,
					"out of memory encoding YAML");
			goto cleanup;
		}
		for (i = 0; i < v->u.map.len; i++) {
			const kd_map_ent *ent = &v->u.map.ents[i];

			keys[i].e = ent;
			keys[i].r = runes + used;
			keys[i].n = to_runes(ent->key, ent->klen, runes + used);
			used += keys[i].n;
		}
		qsort(keys, v->u.map.len, sizeof(*keys), key_cmp);
	}
	for (i = 0; i < v->u.map.len; i++) {
		rc = emit_entry(e, keys ? keys[i].e : &v->u.map.ents[i], depth);
		if (rc)
			goto cleanup;
	}
	yaml_mapping_end_event_initialize(&ev);
	rc = emit(e, &ev);
cleanup:
	free(keys);
	free(runes);
	return rc;
}

static int emit_node(enc *e, const kd_value *v, int depth)
{
	char num[32];
	kd_buf fb = KD_BUF_INIT(64);
	yaml_event_t ev;
	size_t i, n;
	int rc;

	switch (v->type) {
	case KD_NULL:
		return emit_scalar(e, NULL, "null", 4, YAML_PLAIN_SCALAR_STYLE);
	case KD_BOOL:
		return v->u.b ? emit_scalar(e, NULL, "true", 4,
					    YAML_PLAIN_SCALAR_STYLE)
			      : emit_scalar(e, NULL, "false", 5,
					    YAML_PLAIN_SCALAR_STYLE);
	case KD_INT:
		n = (size_t)snprintf(num, sizeof(num), "%" PRId64, v->u.i);
		return emit_scalar(e, NULL, num, n, YAML_PLAIN_SCALAR_STYLE);
	case KD_FLOAT:
		if (isnan(v->u.f))
			return emit_scalar(e, NULL, ".nan", 4,
					   YAML_PLAIN_SCALAR_STYLE);
		if (isinf(v->u.f))
			return emit_scalar(e, NULL, v->u.f > 0 ? ".inf" : "-.inf",
					   v->u.f > 0 ? 4 : 5,
					   YAML_PLAIN_SCALAR_STYLE);
		rc = kd_num_format_float(&fb, v->u.f, 'g', -1);
		if (!rc)
			rc = emit_scalar(e, NULL, fb.ptr, fb.len,
					 YAML_PLAIN_SCALAR_STYLE);
		else
			rc = kd_err_set(e->err, KD_ENOMEM,
					"out of memory encoding YAML");
		kd_buf_free(&fb);
		return rc;
	case KD_STR: return emit_string(e, v->u.str.ptr, v->u.str.len);
	case KD_LIST:
	case KD_MAP: break;
	}
	if (depth >= KD_LIMIT_DEPTH)
		return kd_err_set(e->err, KD_ELIMIT,
				  "value to encode as YAML nests deeper than %d "
				  "levels",
				  KD_LIMIT_DEPTH);
	if (v->type == KD_MAP)
		return emit_map(e, v, depth);
	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
					     YAML_BLOCK_SEQUENCE_STYLE);
	rc = emit(e, &ev);
	for (i = 0; !rc && i < v->u.list.len; i++)
		rc = emit_node(e, v->u.list.items[i], depth + 1);
	if (rc)
		return rc;
	yaml_sequence_end_event_initialize(&ev);
	return emit(e, &ev);
}

int kd_yaml_encode(kd_buf *out, const kd_value *v,
		   const kd_yaml_encode_opts *opts, kd_err *err)
{
	enc e;
	yaml_event_t ev;
	size_t start = out->len;
	bool have_emitter = false;
	int rc;

	e.out = out;
	e.opts = opts;
	e.err = err;
	if (out->failed) {
		rc = kd_err_set(err, out->failed,
				"YAML output buffer already failed");
		goto cleanup;
	}
	if (!yaml_emitter_initialize(&e.em)) {
		rc = kd_err_set(err, KD_ENOMEM, "out of memory encoding YAML");
		goto cleanup;
	}
	have_emitter = true;
	yaml_emitter_set_output(&e.em, write_out, out);
	yaml_emitter_set_unicode(&e.em, 1);
	yaml_emitter_set_indent(&e.em, 2);
	yaml_emitter_set_width(&e.em, 80);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	rc = emit(&e, &ev);
	if (rc)
		goto cleanup;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	rc = emit(&e, &ev);
	if (rc)
		goto cleanup;
	rc = emit_node(&e, v, 0);
	if (rc)
		goto cleanup;
	yaml_document_end_event_initialize(&ev, 1);
	rc = emit(&e, &ev);
	if (rc)
		goto cleanup;
	/* go-yaml v2 clears this too, so no "..." follows a document that
	 * ends in an open-ended scalar. */
	e.em.open_ended = 0;
	yaml_stream_end_event_initialize(&ev);
	rc = emit(&e, &ev);
cleanup:
	if (have_emitter)
		yaml_emitter_delete(&e.em);
	if (rc && !out->failed && out->len > start) {
		out->len = start;
		out->ptr[start] = '\0';
	}
	return rc;
}

int kd_yaml_encode_all(kd_buf *out, const kd_value *docs,
		       const kd_yaml_encode_opts *opts, kd_err *err)
{
	size_t i;
	int rc;

	if (!docs || docs->type != KD_LIST)
		return kd_err_set(err, KD_EINVAL,
				  "kd_yaml_encode_all needs a list of documents, "
				  "not a %s",
				  docs ? kd_vtype_name(docs->type) : "NULL");
	for (i = 0; i < docs->u.list.len; i++) {
		if (i && kd_buf_puts(out, "---\n"))
			return kd_err_set(err, out->failed,
					  "YAML output exceeds its limit of %zu "
					  "bytes",
					  out->limit);
		rc = kd_yaml_encode(out, docs->u.list.items[i], opts, err);
		if (rc)
			return rc;
	}
	return 0;
}
