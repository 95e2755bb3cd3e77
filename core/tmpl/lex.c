/* Lexer for Go's text/template language (Go 1.19), written after the
 * behaviour of text/template/parse's lexer: same items, same positions,
 * same error texts. Errors are items (I_ERROR) for the parser to raise. */
#include "tmpl/lex.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const kw_names[] = {
	"block", "break", "continue", "define", "else", "end", "if", "nil",
	"range", "template", "with",
};

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alnum(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80;
}

static void lx_push(lexer *l, int typ, size_t start, size_t end, int line)
{
	item *it = &l->q[(l->qh + l->qn) % 4];

	it->typ = typ;
	it->pos = (int)start;
	it->line = line;
	it->val = l->in + start;
	it->len = end - start;
	l->qn++;
}

static void lx_error(lexer *l, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void lx_error(lexer *l, int line, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	item *it;
	char *s;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	s = kd_arena_strdup(l->a, buf);
	it = &l->q[(l->qh + l->qn) % 4];
	it->typ = I_ERROR;
	it->pos = (int)l->pos;
	it->line = line;
	it->val = s ? s : "out of memory";
	it->len = strlen(it->val);
	l->qn++;
	l->done = 1;
}

static void lx_advance(lexer *l, size_t to)
{
	const char *s = l->in + l->pos, *e = l->in + to, *nl;

	if (to <= l->pos)
		return;
	while ((nl = memchr(s, '\n', (size_t)(e - s)))) {
		l->line++;
		s = nl + 1;
	}
	l->pos = to;
}

static int at_right(lexer *l, size_t p, int *trim)
{
	const char *s = l->in + p;
	size_t n = l->len - p;

	if (n >= 4 && is_space(s[0]) && s[1] == '-' && s[2] == '}' &&
	    s[3] == '}') {
		*trim = 1;
		return 1;
	}
	if (n >= 2 && s[0] == '}' && s[1] == '}') {
		*trim = 0;
		return 1;
	}
	return 0;
}

static void fmt_rune(char *buf, size_t n, int c)
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, n, "U+%04X '%c'", c, c);
	else
		snprintf(buf, n, "U+%04X", c);
}

/* musl's memmem walks a two-byte needle a byte at a time; memchr reads
 * words, and template text is long runs between rare delimiters. */
const char *kd_tmpl_find2(const char *s, size_t n, char a, char b)
{
	const char *e = s + n, *x;

	while (n >= 2 && (x = memchr(s, a, n - 1))) {
		if (x[1] == b)
			return x;
		s = x + 1;
		n = (size_t)(e - s);
	}
	return NULL;
}

static void lx_text(lexer *l)
{
	const char *x;
	size_t start, end, next;
	int line;

	if (l->trim_next) {
		while (l->pos < l->len && is_space(l->in[l->pos]))
			lx_advance(l, l->pos + 1);
		l->trim_next = 0;
	}
	start = l->pos;
	line = l->line;
	x = l->pos < l->len ? kd_tmpl_find2(l->in + l->pos, l->len - l->pos, '{', '{')
			    : NULL;
	if (!x) {
		if (l->len > start)
			lx_push(l, I_TEXT, start, l->len, line);
		lx_advance(l, l->len);
		lx_push(l, I_EOF, l->len, l->len, l->line);
		l->done = 1;
		return;
	}
	end = (size_t)(x - l->in);
	next = end + 2;
	if (next + 1 < l->len && l->in[next] == '-' &&
	    is_space(l->in[next + 1])) {
		size_t e = end;

		while (e > start && is_space(l->in[e - 1]))
			e--;
		if (e > start)
			lx_push(l, I_TEXT, start, e, line);
		next += 2;
	} else if (end > start) {
		lx_push(l, I_TEXT, start, end, line);
	}
	lx_advance(l, end);
	if (next + 1 < l->len + 1 && l->len - next >= 2 && l->in[next] == '/' &&
	    l->in[next + 1] == '*') {
		const char *c = kd_tmpl_find2(l->in + next + 2, l->len - next - 2, '*', '/');
		int trim, cl = l->line;

		if (!c) {
			lx_error(l, cl, "unclosed comment");
			return;
		}
		lx_advance(l, (size_t)(c - l->in) + 2);
		if (!at_right(l, l->pos, &trim)) {
			lx_error(l, cl, "comment ends before closing delimiter");
			return;
		}
		lx_advance(l, l->pos + (trim ? 4 : 2));
		l->trim_next = trim;
		return;
	}
	lx_push(l, I_LDELIM, end, end + 2, l->line);
	lx_advance(l, next);
	l->in_action = 1;
	l->paren = 0;
}

static int kw_lookup(const char *s, size_t n)
{
	static const unsigned char kw_len[] = {5, 5, 8, 6, 4, 3, 2, 3, 5, 8, 4};
	size_t i;

	if (n < 2 || n > 8)
		return 0;
	for (i = 0; i < sizeof kw_names / sizeof kw_names[0]; i++)
		if (kw_len[i] == n && !memcmp(kw_names[i], s, n))
			return I_BLOCK + (int)i;
	return 0;
}

static bool at_terminator(lexer *l)
{
	int c, trim;

	if (l->pos >= l->len)
		return true;
	c = (unsigned char)l->in[l->pos];
	if (is_space(c) || c == '.' || c == ',' || c == '|' || c == ':' ||
	    c == ')' || c == '(')
		return true;
	return at_right(l, l->pos, &trim) && !trim;
}

static int accept(lexer *l, const char *set)
{
	if (l->pos < l->len && l->in[l->pos] && strchr(set, l->in[l->pos])) {
		l->pos++;
		return 1;
	}
	return 0;
}

static void accept_run(lexer *l, const char *set)
{
	while (accept(l, set))
		;
}

static bool scan_number(lexer *l)
{
	const char *digits = "0123456789_";

	accept(l, "+-");
	if (accept(l, "0")) {
		if (accept(l, "xX"))
			digits = "0123456789abcdefABCDEF_";
		else if (accept(l, "oO"))
			digits = "01234567_";
		else if (accept(l, "bB"))
			digits = "01_";
	}
	accept_run(l, digits);
	if (accept(l, "."))
		accept_run(l, digits);
	if (strlen(digits) == 11 && accept(l, "eE")) {
		accept(l, "+-");
		accept_run(l, "0123456789_");
	}
	if (strlen(digits) == 23 && accept(l, "pP")) {
		accept(l, "+-");
		accept_run(l, "0123456789_");
	}
	accept(l, "i");
	if (l->pos < l->len && is_alnum((unsigned char)l->in[l->pos])) {
		l->pos++;
		return false;
	}
	return true;
}

/* A number, or a complex constant "1+2i" (no spaces, ending in i). */
static void lx_number(lexer *l)
{
	size_t start = l->pos;
	int line = l->line;

	if (!scan_number(l))
		goto bad;
	if (l->pos < l->len && (l->in[l->pos] == '+' || l->in[l->pos] == '-') &&
	    (!scan_number(l) || l->in[l->pos - 1] != 'i'))
		goto bad;
	lx_push(l, I_NUMBER, start, l->pos, line);
	return;
bad:
	lx_error(l, line, "bad number syntax: \"%.*s\"",
		 (int)(l->pos - start), l->in + start);
}

/* A quoted string or character constant, escapes skipped over. */
static void lx_quoted(lexer *l, int c, size_t start, int line)
{
	size_t p = l->pos + 1;

	for (;;) {
		if (p >= l->len || l->in[p] == '\n') {
			lx_error(l, line, c == '"' ?
				 "unterminated quoted string" :
				 "unterminated character constant");
			return;
		}
		if (l->in[p] == '\\') {
			p++;
			if (p < l->len && l->in[p] != '\n')
				p++;
			continue;
		}
		if (l->in[p] == c)
			break;
		p++;
	}
	l->pos = p + 1;
	lx_push(l, c == '"' ? I_STRING : I_CHARCONST, start, l->pos, line);
}

/* Skips an alphanumeric run; 0 when a terminator follows it, else the
 * lexer has failed on the character after it. */
static int lx_alnum_run(lexer *l, int line)
{
	char rb[32];

	while (l->pos < l->len && is_alnum((unsigned char)l->in[l->pos]))
		l->pos++;
	if (at_terminator(l))
		return 0;
	fmt_rune(rb, sizeof rb, (unsigned char)l->in[l->pos]);
	l->pos++;
	lx_error(l, line, "bad character %s", rb);
	return -1;
}

/* $, $name, . or .Field (c is '$' or '.', at l->pos). */
static void lx_var_or_field(lexer *l, int c, size_t start, int line)
{
	l->pos++;
	if (at_terminator(l)) {
		lx_push(l, c == '$' ? I_VAR : I_DOT, start, l->pos, line);
		return;
	}
	if (lx_alnum_run(l, line))
		return;
	lx_push(l, c == '$' ? I_VAR : I_FIELD, start, l->pos, line);
}

/* A keyword, true/false, or an identifier. */
static void lx_word(lexer *l, size_t start, int line)
{
	size_t n;
	int kw;

	if (lx_alnum_run(l, line))
		return;
	n = l->pos - start;
	kw = kw_lookup(l->in + start, n);
	if (kw)
		lx_push(l, kw, start, l->pos, line);
	else if ((n == 4 && !memcmp(l->in + start, "true", 4)) ||
		 (n == 5 && !memcmp(l->in + start, "false", 5)))
		lx_push(l, I_BOOL, start, l->pos, line);
	else
		lx_push(l, I_IDENT, start, l->pos, line);
}

static void lx_action(lexer *l)
{
	int trim, c, line = l->line;
	size_t start = l->pos;

	if (at_right(l, l->pos, &trim)) {
		if (l->paren) {
			lx_error(l, line, "unclosed left paren");
			return;
		}
		lx_push(l, I_RDELIM, l->pos + (trim ? 2 : 0),
			l->pos + (trim ? 4 : 2), line);
		lx_advance(l, l->pos + (trim ? 4 : 2));
		l->in_action = 0;
		l->trim_next = trim;
		return;
	}
	if (l->pos >= l->len) {
		lx_error(l, line, "unclosed action");
		return;
	}
	c = (unsigned char)l->in[l->pos];
	if (is_space(c)) {
		size_t p = l->pos, n = 0;

		while (p < l->len && is_space(l->in[p]))
			p++, n++;
		if (at_right(l, p - 1, &trim) && trim) {
			p--;
			if (n == 1) {
				return; /* the space belongs to " -}}" */
			}
		}
		lx_advance(l, p);
		lx_push(l, I_SPACE, start, p, line);
		return;
	}
	switch (c) {
	case '=':
		l->pos++;
		lx_push(l, I_ASSIGN, start, l->pos, line);
		return;
	case ':':
		if (l->pos + 1 >= l->len || l->in[l->pos + 1] != '=') {
			l->pos++;
			lx_error(l, line, "expected :=");
			return;
		}
		l->pos += 2;
		lx_push(l, I_DECLARE, start, l->pos, line);
		return;
	case '|':
		l->pos++;
		lx_push(l, I_PIPE, start, l->pos, line);
		return;
	case '"':
	case '\'':
		lx_quoted(l, c, start, line);
		return;
	case '`': {
		const char *e = memchr(l->in + l->pos + 1, '`',
				       l->len - l->pos - 1);

		if (!e) {
			lx_error(l, line, "unterminated raw quoted string");
			return;
		}
		lx_advance(l, (size_t)(e - l->in) + 1);
		lx_push(l, I_RAW, start, l->pos, line);
		return;
	}
	case '$':
	case '.':
		if (c == '.' && l->pos + 1 < l->len &&
		    l->in[l->pos + 1] >= '0' && l->in[l->pos + 1] <= '9') {
			lx_number(l);
			return;
		}
		lx_var_or_field(l, c, start, line);
		return;
	case '(':
		l->pos++;
		l->paren++;
		lx_push(l, I_LPAREN, start, l->pos, line);
		return;
	case ')':
		l->pos++;
		l->paren--;
		lx_push(l, I_RPAREN, start, l->pos, line);
		return;
	}
	if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
		lx_number(l);
		return;
	}
	if (is_alnum(c)) {
		lx_word(l, start, line);
		return;
	}
	if (c < 0x7f && c >= 0x20) {
		l->pos++;
		lx_push(l, I_CHAR, start, l->pos, line);
		return;
	}
	{
		char rb[32];

		fmt_rune(rb, sizeof rb, c);
		lx_error(l, line, "unrecognized character in action: %s", rb);
	}
}

item kd_tmpl_lex_next(lexer *l)
{
	item it;

	while (l->qn == 0) {
		if (l->done) {
			memset(&it, 0, sizeof it);
			it.typ = I_EOF;
			it.pos = (int)l->len;
			it.line = l->line;
			it.val = "";
			return it;
		}
		if (l->in_action)
			lx_action(l);
		else
			lx_text(l);
	}
	it = l->q[l->qh];
	l->qh = (l->qh + 1) % 4;
	l->qn--;
	return it;
}
