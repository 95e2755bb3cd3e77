#include "json/json.h"

#include "base/limits.h"
#include "base/num.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared ---- */

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0.
 * Exactly the sequences Go's utf8.DecodeRune accepts: no overlong forms,
 * no encoded surrogates, nothing past U+10FFFF. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t avail = (size_t)(end - p);
	unsigned c = p[0], lo = 0x80, hi = 0xBF;

	if (c < 0xC2 || c > 0xF4)
		return 0;
	if (c < 0xE0)
		return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
		return 0;
	if (c < 0xF0)
		return 3;
	return avail >= 4 && (p[3] & 0xC0) == 0x80 ? 4 : 0;
}

/* kd_buf_put, without the call while the bytes fit the allocation: the
 * encoder and string decoder write many tiny pieces. */
static inline void put(kd_buf *b, const void *s, size_t n)
{
	if (n < b->cap - b->len && n <= b->limit - b->len && !b->failed) {
		memcpy(b->ptr + b->len, s, n);
		b->len += n;
		b->ptr[b->len] = '\0';
		return;
	}
	kd_buf_put(b, s, n);
}

/* ---- decoding ---- */

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* The fast path for numbers divides or multiplies two exact doubles once,
 * which rounds correctly only when double arithmetic is not done in a
 * wider format (x87). */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define FAST_FLOAT 1
#else
#define FAST_FLOAT 0
#endif

static const double pow10_exact[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* A container being read: its members wait in slots[base..] until it
 * closes, so it can be allocated at its final size. */
struct frame {
	size_t base;
	const unsigned char *open;
	int is_map;
};

struct slot {
	kd_value *val;
	const char *key; /* in the input or the arena; NULL in lists */
	size_t klen;
};

struct dec {
	const unsigned char *start, *p, *end;
	kd_arena *a;
	const char *name;
	kd_err *err;
	int as_float;
	char after; /* what came before the value being read: 0 [ , : */
	struct slot *slots;
	size_t nslots, cslots;
	struct frame *frames;
	size_t depth, cframes;
	kd_buf sbuf; /* a string that needed decoding, or a long number */
};

static void dec_pos(const struct dec *d, const unsigned char *at,
		    size_t *line, size_t *col)
{
	const unsigned char *q = d->start, *ls = d->start;

	*line = 1;
	while ((q = memchr(q, '\n', (size_t)(at - q))) != NULL) {
		(*line)++;
		ls = ++q;
	}
	*col = (size_t)(at - ls) + 1;
}

static int dec_fail(struct dec *d, int code, const unsigned char *at,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int dec_fail(struct dec *d, int code, const unsigned char *at,
		    const char *fmt, ...)
{
	char what[KD_ERR_MSG_MAX];
	size_t line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	dec_pos(d, at, &line, &col);
	return kd_err_set(d->err, code, "%s:%zu:%zu: %s", d->name, line, col,
			  what);
}

/* How an error names the byte at `at`. */
static const char *describe(const struct dec *d, const unsigned char *at,
			    char buf[40])
{
	if (at >= d->end)
		return "end of input";
	if (*at == '\'')
		return "'\\''";
	if (*at > 0x20 && *at < 0x7F)
		snprintf(buf, 40, "'%c'", *at);
	else if (*at < 0x80)
		snprintf(buf, 40, "control character U+%04X", *at);
	else
		snprintf(buf, 40, "byte 0x%02X", *at);
	return buf;
}

/* A hint for a byte found where a value or key should start. */
static const char *hint(const struct dec *d, const unsigned char *at)
{
	if (at >= d->end)
		return "";
	if (at == d->start && d->end - at >= 3 && !memcmp(at, "\xEF\xBB\xBF", 3))
		return " (a UTF-8 byte order mark is not allowed; remove it)";
	switch (*at) {
	case '\'':
		return " (JSON strings use double quotes)";
	case '/':
		return " (comments are not allowed in JSON)";
	}
	return "";
}

static const char *kind(const struct frame *f)
{
	return f->is_map ? "object" : "array";
}

static int fail_eof(struct dec *d)
{
	const struct frame *f;
	size_t line, col;

	if (!d->depth)
		return dec_fail(d, KD_EPARSE, d->end, "unexpected end of input");
	f = &d->frames[d->depth - 1];
	dec_pos(d, f->open, &line, &col);
	return dec_fail(d, KD_EPARSE, d->end,
			"unexpected end of input: the %s opened at %zu:%zu is not closed",
			kind(f), line, col);
}

static int fail_alloc(struct dec *d, int code)
{
	if (code == KD_ELIMIT)
		return dec_fail(d, KD_ELIMIT, d->p,
				"the arena limit of %zu bytes was reached while decoding",
				d->a->limit);
	return dec_fail(d, KD_ENOMEM, d->p, "out of memory while decoding");
}

static int fail_arena(struct dec *d)
{
	return fail_alloc(d, d->a->failed ? d->a->failed : KD_ENOMEM);
}

/* The array arr of *cap elements, reallocated twice as big; NULL (arr
 * untouched) on failure. */
static void *grow(void *arr, size_t *cap, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p;

	if (ncap > SIZE_MAX / elem)
		return NULL;
	p = realloc(arr, ncap * elem);
	if (p)
		*cap = ncap;
	return p;
}

static const unsigned char *skip_ws(const unsigned char *p,
				    const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static int plain_byte(unsigned c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Skips bytes a string keeps as they are without a closer look: ASCII
 * other than '"', '\\' and controls. Eight at a time while none of them
 * is special. */
static const unsigned char *skip_plain(const unsigned char *p,
				       const unsigned char *end)
{
	while (end - p >= 8) {
		uint64_t x, q, b;

		memcpy(&x, p, 8);
		q = x ^ (ONES * '"');
		b = x ^ (ONES * '\\');
		if ((((q - ONES) & ~q) | ((b - ONES) & ~b) |
		     ((x - ONES * 0x20) & ~x) | x) & HIGHS)
			break;
		p += 8;
	}
	while (p < end && plain_byte(*p))
		p++;
	return p;
}

static int hexval(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	return -1;
}

/* The code unit of "\uXXXX" at p, -1 if malformed, -2 if cut short. */
static long hex4(const unsigned char *p, const unsigned char *end)
{
	long r = 0;
	int i, h;

	if (end - p < 2 || p[0] != '\\' || p[1] != 'u')
		return end - p < 2 ? -2 : -1;
	for (i = 2; i < 6; i++) {
		if (p + i >= end)
			return -2;
		h = hexval(p[i]);
		if (h < 0)
			return -1;
		r = r << 4 | h;
	}
	return r;
}

static void put_utf8(kd_buf *b, unsigned long r)
{
	char u[4];

	if (r < 0x80) {
		u[0] = (char)r;
		put(b, u, 1);
	} else if (r < 0x800) {
		u[0] = (char)(0xC0 | r >> 6);
		u[1] = (char)(0x80 | (r & 0x3F));
		put(b, u, 2);
	} else if (r < 0x10000) {
		u[0] = (char)(0xE0 | r >> 12);
		u[1] = (char)(0x80 | (r >> 6 & 0x3F));
		u[2] = (char)(0x80 | (r & 0x3F));
		put(b, u, 3);
	} else {
		u[0] = (char)(0xF0 | r >> 18);
		u[1] = (char)(0x80 | (r >> 12 & 0x3F));
		u[2] = (char)(0x80 | (r >> 6 & 0x3F));
		u[3] = (char)(0x80 | (r & 0x3F));
		put(b, u, 4);
	}
}

static int fail_string_eof(struct dec *d, const unsigned char *open)
{
	size_t line, col;

	dec_pos(d, open, &line, &col);
	return dec_fail(d, KD_EPARSE, d->end,
			"unexpected end of input in the string opened at %zu:%zu (missing closing '\"')",
			line, col);
}

static int fail_control(struct dec *d, const unsigned char *at)
{
	static const char *const named[0x20] = {
		['\b'] = "\\b", ['\t'] = "\\t", ['\n'] = "\\n",
		['\f'] = "\\f", ['\r'] = "\\r",
	};
	char esc[8];

	if (named[*at])
		snprintf(esc, sizeof(esc), "%s", named[*at]);
	else
		snprintf(esc, sizeof(esc), "\\u%04x", *at);
	return dec_fail(d, KD_EPARSE, at,
			"control character U+%04X in string (escape it as %s)",
			*at, esc);
}

static int fail_escape(struct dec *d, const unsigned char *at)
{
	char shown[8], buf[40];
	int n = 0;

	if (at[1] == 'u') {
		/* Show as much of the \u escape as is printable. */
		while (n < 6 && at + n < d->end && at[n] > 0x20 && at[n] < 0x7F &&
		       (n < 1 || at[n] != '"'))
			n++;
		return dec_fail(d, KD_EPARSE, at,
				"invalid escape '%.*s' in string (\\u needs 4 hex digits)",
				n, (const char *)at);
	}
	if (at[1] > 0x20 && at[1] < 0x7F) {
		snprintf(shown, sizeof(shown), "\\%c", at[1]);
		return dec_fail(d, KD_EPARSE, at,
				"invalid escape '%s' in string (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
				shown);
	}
	return dec_fail(d, KD_EPARSE, at,
			"invalid escape in string: '\\' followed by %s",
			describe(d, at + 1, buf));
}

/* Reads the escape at *pp (a backslash) of the string opened at open into
 * b and moves *pp past it. */
static int read_escape(struct dec *d, const unsigned char *open,
		       const unsigned char **pp, kd_buf *b)
{
	const unsigned char *p = *pp, *end = d->end;
	long r, r2;
	char c;

	if (end - p < 2)
		return fail_string_eof(d, open);
	switch (p[1]) {
	case '"': c = '"'; break;
	case '\\': c = '\\'; break;
	case '/': c = '/'; break;
	case 'b': c = '\b'; break;
	case 'f': c = '\f'; break;
	case 'n': c = '\n'; break;
	case 'r': c = '\r'; break;
	case 't': c = '\t'; break;
	case 'u':
		r = hex4(p, end);
		if (r == -2)
			return fail_string_eof(d, open);
		if (r < 0)
			return fail_escape(d, p);
		*pp = p + 6;
		if (r < 0xD800 || r > 0xDFFF) {
			put_utf8(b, (unsigned long)r);
			return 0;
		}
		/* As Go: a surrogate only counts with its partner right after
		 * it; otherwise it alone becomes U+FFFD and whatever follows is
		 * read on its own. */
		r2 = hex4(p + 6, end);
		if (r < 0xDC00 && r2 >= 0xDC00 && r2 <= 0xDFFF) {
			put_utf8(b, 0x10000 + (((unsigned long)r - 0xD800) << 10 |
					       ((unsigned long)r2 - 0xDC00)));
			*pp = p + 12;
			return 0;
		}
		put_utf8(b, 0xFFFD);
		return 0;
	default:
		return fail_escape(d, p);
	}
	put(b, &c, 1);
	*pp = p + 2;
	return 0;
}

/* Reads the string whose opening quote is at d->p. The contents point into
 * the input when no byte needs changing, else into d->sbuf. */
static int read_string(struct dec *d, const char **s, size_t *n)
{
	const unsigned char *open = d->p, *end = d->end, *p = open + 1, *run;
	kd_buf *b = &d->sbuf;
	int k;

	for (;;) {
		p = skip_plain(p, end);
		if (p == end)
			return fail_string_eof(d, open);
		if (*p == '"') {
			*s = (const char *)open + 1;
			*n = (size_t)(p - open - 1);
			d->p = p + 1;
			return 0;
		}
		if (*p < 0x80 || !(k = utf8_len(p, end)))
			break;
		p += k;
	}
	kd_buf_reset(b);
	run = open + 1;
	for (;;) {
		if (*p == '"')
			break;
		if (*p == '\\') {
			put(b, run, (size_t)(p - run));
			k = read_escape(d, open, &p, b);
			if (k)
				return k;
			run = p;
		} else if (*p < 0x20) {
			return fail_control(d, p);
		} else if ((k = utf8_len(p, end)) != 0) {
			p += k;
		} else {
			put(b, run, (size_t)(p - run));
			put(b, "\xEF\xBF\xBD", 3);
			run = ++p;
		}
		p = skip_plain(p, end);
		if (p == end)
			return fail_string_eof(d, open);
	}
	put(b, run, (size_t)(p - run));
	if (b->failed)
		return fail_alloc(d, b->failed);
	*s = b->ptr;
	*n = b->len;
	d->p = p + 1;
	return 0;
}

static int is_digit(unsigned c)
{
	return c - '0' < 10;
}

static int is_alpha(unsigned c)
{
	return (c | 0x20) - 'a' < 26;
}

/* ASCII case-insensitive comparison of s (n bytes) with the word w. */
static int same_word(const unsigned char *s, size_t n, const char *w)
{
	size_t i;

	if (n != strlen(w))
		return 0;
	for (i = 0; i < n; i++)
		if ((s[i] | 0x20) != (unsigned char)w[i])
			return 0;
	return 1;
}

static int fail_number(struct dec *d, const unsigned char *at,
		       const char *what)
{
	char buf[40];

	if (at >= d->end)
		return dec_fail(d, KD_EPARSE, at,
				"unexpected end of input in number (expected a digit %s)",
				what);
	return dec_fail(d, KD_EPARSE, at, "expected a digit %s, found %s%s",
			what, describe(d, at, buf),
			*at == 'I' || *at == 'i' || *at == 'N' ?
			" (NaN and Infinity are not allowed)" : "");
}

/* Converts the number text [s, e) with strtod, which needs it
 * NUL-terminated. */
static int slow_float(struct dec *d, const unsigned char *s,
		      const unsigned char *e, double *f)
{
	char small[64];
	size_t n = (size_t)(e - s);
	const char *txt = small;

	if (n < sizeof(small)) {
		memcpy(small, s, n);
		small[n] = '\0';
	} else {
		kd_buf_reset(&d->sbuf);
		if (kd_buf_put(&d->sbuf, s, n))
			return fail_alloc(d, d->sbuf.failed);
		txt = d->sbuf.ptr;
	}
	/* ERANGE is ignored: underflow to a subnormal or zero is fine (Go
	 * accepts it); overflow shows as an infinity. */
	*f = strtod(txt, NULL);
	if (isinf(*f))
		return dec_fail(d, KD_EPARSE, s,
				"number %.*s%s is out of range for a 64-bit float",
				n > 40 ? 40 : (int)n, (const char *)s,
				n > 40 ? "..." : "");
	return 0;
}

static int read_number(struct dec *d, kd_value **out)
{
	const unsigned char *s = d->p, *p = s, *end = d->end;
	uint64_t m = 0;
	int neg = 0, sig = 0, many = 0, is_int = 1, eneg = 0;
	long exp = 0, adj = 0;
	double f = 0;
	int rc;

	if (*p == '-') {
		neg = 1;
		if (++p == end || !is_digit(*p))
			return fail_number(d, p, "after '-'");
	}
	if (*p == '0') {
		if (++p < end && is_digit(*p))
			return dec_fail(d, KD_EPARSE, s,
					"leading zeros are not allowed in numbers");
	} else {
		for (; p < end && is_digit(*p); p++) {
			if (sig < 19) {
				m = m * 10 + (*p - '0');
				sig++;
			} else {
				many = 1;
				adj++;
			}
		}
	}
	if (p < end && *p == '.') {
		is_int = 0;
		if (++p == end || !is_digit(*p))
			return fail_number(d, p, "after '.'");
		for (; p < end && is_digit(*p); p++) {
			if (sig < 19) {
				m = m * 10 + (*p - '0');
				sig += m != 0;
				adj--;
			} else {
				many = 1;
			}
		}
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		is_int = 0;
		if (++p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p == end || !is_digit(*p))
			return fail_number(d, p, "in the exponent");
		for (; p < end && is_digit(*p); p++)
			if (exp < 100000)
				exp = exp * 10 + (*p - '0');
	}
	d->p = p;
	if (is_int && !many && !d->as_float &&
	    m <= (uint64_t)INT64_MAX + (uint64_t)neg) {
		*out = kd_value_int(d->a, neg ? (int64_t)(0 - m) : (int64_t)m);
		return *out ? 0 : fail_arena(d);
	}
	exp = (eneg ? -exp : exp) + adj;
	if (m == 0 && !many) {
		f = 0;
	} else if (FAST_FLOAT && !many && m <= (1ull << 53) && exp >= -22 &&
		   exp <= 22) {
		/* Both operands are exact, so one IEEE operation rounds
		 * correctly. */
		f = exp < 0 ? (double)m / pow10_exact[-exp] :
			      (double)m * pow10_exact[exp];
	} else {
		rc = slow_float(d, s, p, &f);
		if (rc)
			return rc;
		neg = 0;
	}
	*out = kd_value_float(d->a, neg ? -f : f);
	return *out ? 0 : fail_arena(d);
}

/* A word where a value should be that is no literal: says what it looks
 * like. */
static int bad_word(struct dec *d)
{
	static const char *const lits[] = {"true", "false", "null"};
	const unsigned char *s = d->p, *p = s;
	size_t n, i;

	while (p < d->end && p - s < 32 &&
	       (is_alpha(*p) || is_digit(*p) || *p == '_'))
		p++;
	n = (size_t)(p - s);
	for (i = 0; i < 3; i++)
		if (p == d->end && n < strlen(lits[i]) &&
		    !memcmp(s, lits[i], n))
			return dec_fail(d, KD_EPARSE, p,
					"unexpected end of input in '%s'",
					lits[i]);
	for (i = 0; i < 3; i++)
		if (same_word(s, n, lits[i]))
			return dec_fail(d, KD_EPARSE, s,
					"invalid literal '%.*s' (JSON literals are lowercase: true, false, null)",
					(int)n, (const char *)s);
	if (same_word(s, n, "nan") || same_word(s, n, "infinity") ||
	    same_word(s, n, "inf"))
		return dec_fail(d, KD_EPARSE, s,
				"'%.*s' is not a JSON number (NaN and Infinity are not allowed)",
				(int)n, (const char *)s);
	return dec_fail(d, KD_EPARSE, s,
			"invalid value '%.*s'%s (strings must be in double quotes)",
			(int)n, (const char *)s, p - s == 32 ? "..." : "");
}

static int read_literal(struct dec *d, kd_value **out)
{
	const unsigned char *p = d->p;
	size_t avail = (size_t)(d->end - p);

	if (avail >= 4 && !memcmp(p, "true", 4)) {
		*out = kd_value_bool(d->a, true);
		d->p += 4;
	} else if (avail >= 5 && !memcmp(p, "false", 5)) {
		*out = kd_value_bool(d->a, false);
		d->p += 5;
	} else if (avail >= 4 && !memcmp(p, "null", 4)) {
		*out = kd_value_null(d->a);
		d->p += 4;
	} else {
		return bad_word(d);
	}
	return *out ? 0 : fail_arena(d);
}

/* A byte that starts no value where a value should be. */
static int fail_value(struct dec *d)
{
	const unsigned char *at = d->p;
	char buf[40];

	if (d->after == ',' && (*at == ']' || *at == '}'))
		return dec_fail(d, KD_EPARSE, at,
				"trailing comma before '%c' is not allowed", *at);
	if (*at == '+')
		return dec_fail(d, KD_EPARSE, at,
				"a number cannot start with '+'");
	if (*at == '.')
		return dec_fail(d, KD_EPARSE, at,
				"a number needs a digit before '.'");
	if (is_alpha(*at))
		return bad_word(d);
	return dec_fail(d, KD_EPARSE, at, "expected a value%s, found %s%s",
			d->after == ':' ? " after ':'" :
			d->after == ',' ? " after ','" :
			d->after == '[' ? " or ']' after '['" : "",
			describe(d, at, buf), hint(d, at));
}

static int push_slot(struct dec *d, kd_value *v, const char *key,
		     size_t klen)
{
	struct slot *s;

	if (d->nslots == d->cslots) {
		s = grow(d->slots, &d->cslots, sizeof(*s));
		if (!s)
			return fail_alloc(d, KD_ENOMEM);
		d->slots = s;
	}
	s = &d->slots[d->nslots++];
	s->val = v;
	s->key = key;
	s->klen = klen;
	return 0;
}

/* Reads a key and its ':' (d->p after '{' or ','); the value comes next. */
static int read_key(struct dec *d, char after)
{
	const unsigned char *p = skip_ws(d->p, d->end);
	const char *key;
	size_t klen;
	char buf[40];
	int rc;

	d->p = p;
	if (p == d->end)
		return fail_eof(d);
	if (*p != '"') {
		if (after == ',' && *p == '}')
			return dec_fail(d, KD_EPARSE, p,
					"trailing comma before '}' is not allowed");
		return dec_fail(d, KD_EPARSE, p,
				"expected a string key%s, found %s%s", after == '{' ?
				" or '}' after '{'" : " after ','",
				describe(d, p, buf),
				*hint(d, p) ? hint(d, p) :
				is_alpha(*p) ?
				" (object keys must be double-quoted strings)" : "");
	}
	rc = read_string(d, &key, &klen);
	if (rc)
		return rc;
	if (key == d->sbuf.ptr) {
		key = kd_arena_strndup(d->a, key, klen);
		if (!key)
			return fail_arena(d);
	}
	p = skip_ws(d->p, d->end);
	d->p = p;
	if (p == d->end)
		return fail_eof(d);
	if (*p != ':')
		return dec_fail(d, KD_EPARSE, p,
				"expected ':' after object key, found %s",
				describe(d, p, buf));
	d->p++;
	d->after = ':';
	return push_slot(d, NULL, key, klen);
}

/* Opens the container at d->p: *out is the value when it is empty, else
 * NULL with the first member to come. */
static int open_container(struct dec *d, int is_map, kd_value **out)
{
	const unsigned char *p = d->p;
	struct frame *f;

	if (d->depth >= KD_LIMIT_DEPTH)
		return dec_fail(d, KD_ELIMIT, p,
				"nesting deeper than KD_LIMIT_DEPTH (%d levels)",
				KD_LIMIT_DEPTH);
	p = skip_ws(p + 1, d->end);
	if (p < d->end && *p == (is_map ? '}' : ']')) {
		d->p = p + 1;
		*out = is_map ? kd_value_map(d->a, 0) : kd_value_list(d->a, 0);
		return *out ? 0 : fail_arena(d);
	}
	if (d->depth == d->cframes) {
		f = grow(d->frames, &d->cframes, sizeof(*f));
		if (!f)
			return fail_alloc(d, KD_ENOMEM);
		d->frames = f;
	}
	f = &d->frames[d->depth++];
	f->base = d->nslots;
	f->open = d->p;
	f->is_map = is_map;
	d->p = p;
	*out = NULL;
	if (is_map)
		return read_key(d, '{');
	d->after = '[';
	return 0;
}

/* Reads one value: a scalar, an empty container, or the opening of a
 * container (then *out is NULL). */
static int read_value(struct dec *d, kd_value **out)
{
	const char *s;
	size_t n;
	int rc;

	d->p = skip_ws(d->p, d->end);
	if (d->p == d->end)
		return fail_eof(d);
	switch (*d->p) {
	case '{':
		return open_container(d, 1, out);
	case '[':
		return open_container(d, 0, out);
	case '"':
		rc = read_string(d, &s, &n);
		if (rc)
			return rc;
		*out = kd_value_str(d->a, s, n);
		return *out ? 0 : fail_arena(d);
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return read_number(d, out);
	case 't': case 'f': case 'n':
		return read_literal(d, out);
	}
	return fail_value(d);
}

static int close_container(struct dec *d, kd_value **out)
{
	struct frame *f = &d->frames[--d->depth];
	size_t i, n = d->nslots - f->base;
	struct slot *s = &d->slots[f->base];
	kd_value *v;
	int rc;

	if (f->is_map) {
		v = kd_value_map(d->a, n);
		if (!v)
			return fail_arena(d);
		for (i = 0; i < n; i++) {
			rc = kd_map_set(d->a, v, s[i].key, s[i].klen, s[i].val);
			if (rc)
				return fail_alloc(d, rc);
		}
	} else {
		v = kd_value_list(d->a, n);
		if (!v)
			return fail_arena(d);
		for (i = 0; i < n; i++)
			v->u.list.items[i] = s[i].val;
		v->u.list.len = n;
	}
	d->nslots = f->base;
	*out = v;
	return 0;
}

/* Files v in the open container and reads what follows: ',' (and the next
 * key) leaves *out NULL; the closer closes the container into *out. */
static int add_member(struct dec *d, kd_value *v, kd_value **out)
{
	const struct frame *f = &d->frames[d->depth - 1];
	const unsigned char *p;
	char closer = f->is_map ? '}' : ']', buf[40];
	size_t line, col;
	int rc;

	if (f->is_map) {
		d->slots[d->nslots - 1].val = v;
	} else {
		rc = push_slot(d, v, NULL, 0);
		if (rc)
			return rc;
	}
	p = skip_ws(d->p, d->end);
	d->p = p;
	if (p == d->end)
		return fail_eof(d);
	if (*p == ',') {
		d->p++;
		*out = NULL;
		if (f->is_map)
			return read_key(d, ',');
		d->after = ',';
		return 0;
	}
	if (*p == closer) {
		d->p++;
		return close_container(d, out);
	}
	if (*p == ']' || *p == '}') {
		dec_pos(d, f->open, &line, &col);
		return dec_fail(d, KD_EPARSE, p,
				"expected ',' or '%c' after %s, found '%c' (the %s opened at %zu:%zu must be closed with '%c')",
				closer, f->is_map ? "object member" : "array element",
				*p, kind(f), line, col, closer);
	}
	return dec_fail(d, KD_EPARSE, p, "expected ',' or '%c' after %s, found %s%s",
			closer, f->is_map ? "object member" : "array element",
			describe(d, p, buf),
			*p == '"' || *p == '{' || *p == '[' || is_digit(*p) ?
			" (missing ',')" : "");
}

static int parse(struct dec *d, kd_value **out)
{
	kd_value *v;
	char buf[40];
	int rc;

	for (;;) {
		rc = read_value(d, &v);
		if (rc)
			return rc;
		while (v) {
			if (!d->depth) {
				d->p = skip_ws(d->p, d->end);
				if (d->p != d->end)
					return dec_fail(d, KD_EPARSE, d->p,
							"trailing data after the JSON value, found %s",
							describe(d, d->p, buf));
				*out = v;
				return 0;
			}
			rc = add_member(d, v, &v);
			if (rc)
				return rc;
		}
	}
}

int kd_json_decode(kd_value **out, kd_arena *a, const char *text, size_t len,
		   const char *name, const kd_json_decode_opts *opts,
		   kd_err *err)
{
	struct dec d;
	int rc;

	*out = NULL;
	if (!name)
		name = "<input>";
	if (!text && len)
		return kd_err_set(err, KD_EINVAL, "%s: NULL text", name);
	if (len > KD_LIMIT_DOC_BYTES)
		return kd_err_set(err, KD_ELIMIT,
				  "%s: %zu bytes of JSON exceed KD_LIMIT_DOC_BYTES (%zu bytes)",
				  name, len, (size_t)KD_LIMIT_DOC_BYTES);
	memset(&d, 0, sizeof(d));
	d.start = (const unsigned char *)(text ? text : "");
	d.p = d.start;
	d.end = d.start + len;
	d.a = a;
	d.name = name;
	d.err = err;
	d.as_float = opts && opts->numbers_as_float;
	/* A decoded string is at most three times its source (one bad byte
	 * becomes U+FFFD). */
	kd_buf_init(&d.sbuf, 3 * len + 16);
	rc = parse(&d, out);
	free(d.slots);
	free(d.frames);
	kd_buf_free(&d.sbuf);
	if (rc)
		*out = NULL;
	return rc;
}

/* ---- encoding ---- */

struct enc {
	kd_buf *out;
	kd_err *err;
	size_t indent;
	int sort;
	unsigned char safe[256]; /* bytes a string copies unescaped */
};

static const char hexdig[] = "0123456789abcdef";

static void enc_string(struct enc *e, const char *str, size_t n)
{
	const unsigned char *p = (const unsigned char *)(n ? str : "");
	const unsigned char *end = p + n;
	const unsigned char *run;
	kd_buf *b = e->out;
	char esc[8];
	int k;

	put(b, "\"", 1);
	run = p;
	while (p < end) {
		if (e->safe[*p]) {
			p++;
			continue;
		}
		if (*p >= 0x80) {
			k = utf8_len(p, end);
			if (k && !(k == 3 && p[0] == 0xE2 && p[1] == 0x80 &&
				   (p[2] == 0xA8 || p[2] == 0xA9))) {
				p += k;
				continue;
			}
			put(b, run, (size_t)(p - run));
			put(b, k ? (p[2] == 0xA8 ? "\\u2028" : "\\u2029") :
				   "\\ufffd", 6);
			p += k ? k : 1;
			run = p;
			continue;
		}
		put(b, run, (size_t)(p - run));
		esc[0] = '\\';
		switch (*p) {
		case '"': case '\\': esc[1] = (char)*p; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hexdig[*p >> 4];
			esc[5] = hexdig[*p & 15];
			put(b, esc, 6);
			run = ++p;
			continue;
		}
		put(b, esc, 2);
		run = ++p;
	}
	put(b, run, (size_t)(p - run));
	put(b, "\"", 1);
}

static void enc_int(kd_buf *b, int64_t i)
{
	char s[24], *p = s + sizeof(s);
	uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (i < 0)
		*--p = '-';
	put(b, p, (size_t)(s + sizeof(s) - p));
}

static int enc_float(struct enc *e, double f)
{
	kd_buf *b = e->out;
	double abs = fabs(f);
	char fmt = 'f';
	size_t n;

	if (isnan(f) || isinf(f))
		return kd_err_set(e->err, KD_EINVAL, "json: unsupported value: %s",
				  isnan(f) ? "NaN" : f > 0 ? "+Inf" : "-Inf");
	/* Integral values below 2^53 print as their exact integer both here
	 * and in Go; skip the digit search for them. */
	if (abs < 9007199254740992.0 && f == (double)(int64_t)f && f != 0) {
		enc_int(b, (int64_t)f);
		return 0;
	}
	if (abs != 0 && (abs < 1e-6 || abs >= 1e21))
		fmt = 'e';
	kd_num_format_float(b, f, fmt, -1);
	n = b->len;
	/* Go writes e-07 as e-7 (and keeps e+21 as is). */
	if (fmt == 'e' && !b->failed && n >= 4 && b->ptr[n - 4] == 'e' &&
	    b->ptr[n - 3] == '-' && b->ptr[n - 2] == '0') {
		b->ptr[n - 2] = b->ptr[n - 1];
		b->ptr[--b->len] = '\0';
	}
	return 0;
}

static void enc_newline(struct enc *e, size_t level)
{
	static const char spaces[] = "                                ";
	size_t n = e->indent * level;

	put(e->out, "\n", 1);
	while (n > 0 && !e->out->failed) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		put(e->out, spaces, k);
		n -= k;
	}
}

static int ent_ptr_cmp(const void *x, const void *y)
{
	const kd_map_ent *a = *(const kd_map_ent *const *)x;
	const kd_map_ent *b = *(const kd_map_ent *const *)y;

	return kd_bytes_cmp(a->key, a->klen, b->key, b->klen);
}

static int enc_value(struct enc *e, const kd_value *v, size_t level);

static int enc_map(struct enc *e, const kd_value *v, size_t level)
{
	const kd_map_ent **order = NULL;
	size_t i, n = v->u.map.len;
	int rc = 0;

	if (e->sort) {
		for (i = 1; i < n; i++)
			if (kd_bytes_cmp(v->u.map.ents[i - 1].key,
					 v->u.map.ents[i - 1].klen,
					 v->u.map.ents[i].key,
					 v->u.map.ents[i].klen) > 0)
				break;
		if (i < n) {
			order = malloc(n * sizeof(*order));
			if (!order)
				return kd_err_set(e->err, KD_ENOMEM,
						  "json: out of memory sorting %zu map keys",
						  n);
			for (i = 0; i < n; i++)
				order[i] = &v->u.map.ents[i];
			qsort(order, n, sizeof(*order), ent_ptr_cmp);
		}
	}
	put(e->out, "{", 1);
	for (i = 0; i < n; i++) {
		const kd_map_ent *ent = order ? order[i] : &v->u.map.ents[i];

		if (i)
			put(e->out, ",", 1);
		if (e->indent)
			enc_newline(e, level + 1);
		enc_string(e, ent->key, ent->klen);
		put(e->out, ": ", e->indent ? 2 : 1);
		rc = enc_value(e, ent->val, level + 1);
		if (rc)
			goto cleanup;
	}
	if (e->indent && n)
		enc_newline(e, level);
	put(e->out, "}", 1);
cleanup:
	free(order);
	return rc;
}

static int enc_value(struct enc *e, const kd_value *v, size_t level)
{
	size_t i;
	int rc;

	if (e->out->failed)
		return e->out->failed;
	if (!v)
		return kd_err_set(e->err, KD_EINVAL, "json: NULL value");
	switch (v->type) {
	case KD_NULL:
		put(e->out, "null", 4);
		return 0;
	case KD_BOOL:
		if (v->u.b)
			put(e->out, "true", 4);
		else
			put(e->out, "false", 5);
		return 0;
	case KD_INT:
		enc_int(e->out, v->u.i);
		return 0;
	case KD_FLOAT:
		return enc_float(e, v->u.f);
	case KD_STR:
		enc_string(e, v->u.str.ptr, v->u.str.len);
		return 0;
	case KD_LIST:
	case KD_MAP:
		if (level >= KD_LIMIT_DEPTH)
			return kd_err_set(e->err, KD_ELIMIT,
					  "json: value nested deeper than KD_LIMIT_DEPTH (%d levels)",
					  KD_LIMIT_DEPTH);
		if (v->type == KD_MAP)
			return enc_map(e, v, level);
		put(e->out, "[", 1);
		for (i = 0; i < v->u.list.len; i++) {
			if (i)
				put(e->out, ",", 1);
			if (e->indent)
				enc_newline(e, level + 1);
			rc = enc_value(e, v->u.list.items[i], level + 1);
			if (rc)
				return rc;
		}
		if (e->indent && v->u.list.len)
			enc_newline(e, level);
		put(e->out, "]", 1);
		return 0;
	}
	return kd_err_set(e->err, KD_EINVAL, "json: unknown value type %d",
			  (int)v->type);
}

int kd_json_encode(kd_buf *out, const kd_value *v,
		   const kd_json_encode_opts *opts, kd_err *err)
{
	struct enc e;
	size_t start = out->len;
	int c, rc;

	if (opts && opts->indent < 0)
		return kd_err_set(err, KD_EINVAL, "json: negative indent %d",
				  opts->indent);
	e.out = out;
	e.err = err;
	e.indent = opts ? (size_t)opts->indent : 0;
	e.sort = opts && opts->sort_keys;
	for (c = 0; c < 256; c++)
		e.safe[c] = c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
	if (opts && opts->escape_html)
		e.safe['<'] = e.safe['>'] = e.safe['&'] = 0;
	rc = enc_value(&e, v, 0);
	if (!rc && out->failed)
		rc = out->failed;
	if (rc == out->failed && rc) {
		if (rc == KD_ELIMIT)
			kd_err_set(err, rc,
				   "json: output exceeds the buffer limit of %zu bytes",
				   out->limit);
		else
			kd_err_set(err, rc, "json: out of memory writing output");
	}
	if (rc && out->len > start) {
		out->len = start;
		out->ptr[start] = '\0';
	}
	return rc;
}
