/* go-yaml v2's scalar resolution (the table in yaml.h), with Go's number
 * and time parsing as far as its resolve() uses it, and the UTF-8 and
 * base64 checks both directions need. */
#include "yaml/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const kd_yaml_rtype_tag[] = {
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
bool kd_yaml_resolve(const char *s, size_t n, bool want_ts, scalar_res *r)
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
bool kd_yaml_base60_float(const char *s, size_t n)
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
bool kd_yaml_utf8_valid(const char *str, size_t n)
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
long kd_yaml_b64_decode(const char *s, size_t n, char *out)
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

