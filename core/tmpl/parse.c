/* Parser for Go's text/template language (Go 1.19), written after the
 * behaviour of text/template/parse: same tree shapes, same error texts, over
 * the items of core/tmpl/lex.c. Parse errors unwind with longjmp to
 * kd_tmpl_parse(); every node lives in the set's arena. */
#include "tmpl/internal.h"
#include "tmpl/lex.h"

#include "base/limits.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
	lexer lx;
	const char *name; /* file name (ParseName) */
	const char *tname; /* template being parsed */
	item tok[3];
	int peekn;
	const char **vars;
	int nvars, capvars;
	int range_depth;
	int depth;
	int action_line;
	kd_tmpl *set;
	kd_arena *a;
	bool body_only;  /* a deferred body: its tree only, no definitions */
	kd_tmpl_node *body; /* the file body's tree */
	kd_tmpl_def *newdefs;
	jmp_buf jb;
	kd_err *err;
} parser;

int kd_tmpl_complex_parse(const char *text, double *re, double *im)
{
	char buf[128], *e;
	size_t k = 0;

	for (; *text && k < sizeof buf - 1; text++)
		if (*text != '_')
			buf[k++] = *text;
	buf[k] = 0;
	if (k < 2 || buf[k - 1] != 'i')
		return -1;
	buf[--k] = 0;
	*re = strtod(buf, &e);
	if (!*e) { /* "1.5i": imaginary only */
		*im = *re;
		*re = 0;
		return 0;
	}
	if (e == buf || (*e != '+' && *e != '-'))
		return -1;
	*im = strtod(e, &e);
	return *e ? -1 : 0;
}

static void *alloc_in(parser *p, kd_arena *a, size_t n)
{
	void *v = kd_arena_zalloc(a, n);

	if (!v) {
		kd_err_set(p->err, KD_ENOMEM, "template: out of memory");
		longjmp(p->jb, 1);
	}
	return v;
}

static void *palloc(parser *p, size_t n)
{
	return alloc_in(p, p->a, n);
}

/* ---- parser ---- */

static void perr(parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
static void perr(parser *p, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	kd_err_set(p->err, KD_EPARSE, "template: %s:%d: %s", p->name,
		   p->tok[0].line, buf);
	longjmp(p->jb, 1);
}

/* A string literal unquote() refused: out of memory when its buffer
 * failed (not the template's fault), else Go's "invalid syntax". */
static void bad_string(parser *p, kd_buf *b) __attribute__((noreturn));
static void bad_string(parser *p, kd_buf *b)
{
	int oom = b->failed;

	kd_buf_free(b);
	if (oom) {
		kd_err_set(p->err, KD_ENOMEM, "template: out of memory");
		longjmp(p->jb, 1);
	}
	perr(p, "invalid syntax");
}

static item next(parser *p)
{
	if (p->peekn > 0)
		p->peekn--;
	else
		p->tok[0] = kd_tmpl_lex_next(&p->lx);
	return p->tok[p->peekn];
}

static void backup(parser *p)
{
	p->peekn++;
}

static void backup2(parser *p, item t1)
{
	p->tok[1] = t1;
	p->peekn = 2;
}

static void backup3(parser *p, item t2, item t1)
{
	p->tok[1] = t1;
	p->tok[2] = t2;
	p->peekn = 3;
}

static item peek(parser *p)
{
	if (p->peekn > 0)
		return p->tok[p->peekn - 1];
	p->peekn = 1;
	p->tok[0] = kd_tmpl_lex_next(&p->lx);
	return p->tok[0];
}

static item next_nonspace(parser *p)
{
	item t;

	do
		t = next(p);
	while (t.typ == I_SPACE);
	return t;
}

static item peek_nonspace(parser *p)
{
	item t = next_nonspace(p);

	backup(p);
	return t;
}

static void item_string(char *buf, size_t n, item t)
{
	if (t.typ == I_EOF)
		snprintf(buf, n, "EOF");
	else if (t.typ == I_ERROR)
		snprintf(buf, n, "%.*s", (int)t.len, t.val);
	else if (t.typ > I_KEYWORD || t.typ == I_DOT)
		snprintf(buf, n, "<%.*s>", (int)t.len, t.val);
	else {
		/* %q, cut to 10 characters with "..." */
		kd_buf b = KD_BUF_INIT(400);
		size_t i, m = t.len > 10 ? 10 : t.len;

		kd_buf_putc(&b, '"');
		for (i = 0; i < m; i++) {
			unsigned char c = (unsigned char)t.val[i];

			if (c == '"' || c == '\\')
				kd_buf_printf(&b, "\\%c", c);
			else if (c == '\n')
				kd_buf_puts(&b, "\\n");
			else if (c == '\t')
				kd_buf_puts(&b, "\\t");
			else if (c < 0x20)
				kd_buf_printf(&b, "\\x%02x", c);
			else
				kd_buf_putc(&b, (char)c);
		}
		kd_buf_putc(&b, '"');
		if (t.len > 10)
			kd_buf_puts(&b, "...");
		snprintf(buf, n, "%s", b.ptr);
		kd_buf_free(&b);
	}
}

static void unexpected(parser *p, item t, const char *ctx)
	__attribute__((noreturn));
static void unexpected(parser *p, item t, const char *ctx)
{
	char s[300];

	if (t.typ == I_ERROR) {
		if (p->action_line && p->action_line != t.line) {
			bool act = t.len >= 7 && !memcmp(t.val + t.len - 7, " action", 7);

			perr(p, "%.*s%s started at %s:%d", (int)t.len, t.val,
			     act ? "" : " in action", p->name, p->action_line);
		}
		perr(p, "%.*s", (int)t.len, t.val);
	}
	item_string(s, sizeof s, t);
	perr(p, "unexpected %s in %s", s, ctx);
}

static item expect(parser *p, int typ, const char *ctx)
{
	item t = next_nonspace(p);

	if (t.typ != typ)
		unexpected(p, t, ctx);
	return t;
}

static kd_tmpl_node *newnode(parser *p, kd_tmpl_ntype type, item t)
{
	kd_tmpl_node *n = palloc(p, sizeof *n);

	n->type = type;
	n->pos = t.pos;
	n->line = t.line;
	n->src = p->lx.in;
	return n;
}

static void nodes_push(parser *p, kd_tmpl_node ***v, int *n,
		       kd_tmpl_node *x)
{
	/* grow in powers of two */
	if ((*n & (*n - 1)) == 0) {
		int cap = *n ? *n * 2 : 1;
		kd_tmpl_node **nv = palloc(p, (size_t)cap * sizeof *nv);

		if (*n)
			memcpy(nv, *v, (size_t)*n * sizeof *nv);
		*v = nv;
	}
	(*v)[(*n)++] = x;
}

static void push_var(parser *p, const char *name)
{
	if (p->nvars == p->capvars) {
		int cap = p->capvars ? p->capvars * 2 : 16;
		const char **nv = palloc(p, (size_t)cap * sizeof *nv);

		if (p->nvars)
			memcpy(nv, p->vars, (size_t)p->nvars * sizeof *nv);
		p->vars = nv;
		p->capvars = cap;
	}
	p->vars[p->nvars++] = name;
}

static char *pstrn(parser *p, const char *s, size_t n)
{
	char *r = kd_arena_strndup(p->a, s, n);

	if (!r) {
		kd_err_set(p->err, KD_ENOMEM, "template: out of memory");
		longjmp(p->jb, 1);
	}
	return r;
}

static size_t bytes_hash(const char *s, size_t n)
{
	size_t h = 14695981039346656037u, i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

/* The set's one copy of a name. */
static const char *intern(parser *p, const char *s, size_t n)
{
	kd_tmpl *t = p->set;
	size_t i;

	if (t->nnames + 1 > t->ncap / 2) {
		size_t cap = t->ncap ? t->ncap * 2 : 256, k;
		const char **v = alloc_in(p, &t->arena, cap * sizeof *v);

		for (k = 0; k < t->ncap; k++) {
			const char *e = t->names[k];

			if (!e)
				continue;
			for (i = bytes_hash(e, strlen(e)) & (cap - 1); v[i]; i = (i + 1) & (cap - 1))
				;
			v[i] = e;
		}
		t->names = v;
		t->ncap = cap;
	}
	for (i = bytes_hash(s, n) & (t->ncap - 1);; i = (i + 1) & (t->ncap - 1)) {
		const char *e = t->names[i];

		if (!e) {
			char *c = alloc_in(p, &t->arena, n + 1);

			memcpy(c, s, n);
			t->names[i] = e = c;
			t->nnames++;
			return e;
		}
		if (!strncmp(e, s, n) && e[n] == 0)
			return e;
	}
}

/* Splits ".a.b" / "$x.a" into identifiers. */
static void split_fields(parser *p, kd_tmpl_node *n, const char *s,
			 size_t len, int skip_first_dot)
{
	size_t i = 0, st;

	const char **nv;
	size_t k, more = 1;

	if (skip_first_dot && len && s[0] == '.')
		i = 1;
	for (k = i; k < len; k++)
		more += s[k] == '.';
	/* one array for the fields there were and these */
	nv = palloc(p, ((size_t)n->u.fld.n + more) * sizeof *nv);
	if (n->u.fld.n)
		memcpy(nv, n->u.fld.id, (size_t)n->u.fld.n * sizeof *nv);
	n->u.fld.id = nv;
	while (i <= len) {
		st = i;
		while (i < len && s[i] != '.')
			i++;
		nv[n->u.fld.n++] = intern(p, s + st, i - st);
		i++;
	}
}

static int unquote(parser *p, const char *s, size_t n, kd_buf *out);
static void quote_go(kd_buf *b, const char *s, size_t n);

static kd_tmpl_node *pipeline(parser *p, const char *ctx, int end);

static void parse_number(parser *p, kd_tmpl_node *n, item t)
{
	char buf[128];
	size_t i, k = 0;
	char *endp;

	n->u.num.text = pstrn(p, t.val, t.len);
	if (t.typ == I_CHARCONST) {
		kd_buf b = KD_BUF_INIT(64);
		int rc = unquote(p, t.val, t.len, &b);
		long r = 0;

		if (rc == 0 && b.len > 0) {
			/* decode one UTF-8 rune */
			const unsigned char *u = (const unsigned char *)b.ptr;

			if (u[0] < 0x80)
				r = u[0];
			else if ((u[0] & 0xe0) == 0xc0 && b.len >= 2)
				r = ((u[0] & 0x1f) << 6) | (u[1] & 0x3f);
			else if ((u[0] & 0xf0) == 0xe0 && b.len >= 3)
				r = ((u[0] & 0x0f) << 12) |
				    ((u[1] & 0x3f) << 6) | (u[2] & 0x3f);
			else if (b.len >= 4)
				r = ((u[0] & 0x07) << 18) |
				    ((u[1] & 0x3f) << 12) |
				    ((u[2] & 0x3f) << 6) | (u[3] & 0x3f);
		}
		kd_buf_free(&b);
		if (rc)
			perr(p, "malformed character constant: %.*s",
			     (int)t.len, t.val);
		n->u.num.is_int = n->u.num.is_float = true;
		n->u.num.i = r;
		n->u.num.f = (double)r;
		return;
	}
	if (t.len >= sizeof buf - 1)
		perr(p, "illegal number syntax: \"%.*s\"", (int)t.len, t.val);
	for (i = 0; i < t.len; i++)
		if (t.val[i] != '_')
			buf[k++] = t.val[i];
	buf[k] = 0;
	if (k && buf[k - 1] == 'i') {
		double re, im;

		if (kd_tmpl_complex_parse(buf, &re, &im))
			perr(p, "illegal number syntax: \"%.*s\"", (int)t.len, t.val);
		n->u.num.is_complex = true;
		/* a zero imaginary part makes it a float (and an int) too */
		if (im == 0) {
			n->u.num.is_float = true;
			n->u.num.f = re;
			if (re < 9.2e18 && re > -9.2e18 && re == (double)(int64_t)re) {
				n->u.num.is_int = true;
				n->u.num.i = (int64_t)re;
			}
		}
		return;
	}
	{
		/* ParseInt(text, 0, 64) */
		const char *s = buf;
		int neg = 0, base = 10;
		unsigned long long v;

		if (*s == '+' || *s == '-')
			neg = *s++ == '-';
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			base = 16, s += 2;
		else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
			base = 8, s += 2;
		else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
			base = 2, s += 2;
		else if (s[0] == '0' && s[1])
			base = 8, s += 1;
		if (*s && *s != '+' && *s != '-') {
			errno = 0;
			v = strtoull(s, &endp, base);
			if (!*endp && errno == 0 &&
			    v <= (neg ? (unsigned long long)INT64_MAX + 1
				      : (unsigned long long)INT64_MAX)) {
				n->u.num.is_int = true;
				n->u.num.i = neg ? (int64_t)(0 - v) : (int64_t)v;
				n->u.num.is_float = true;
				n->u.num.f = (double)n->u.num.i;
			} else if (!*endp && errno == 0 && !neg) {
				n->u.num.is_uint = true;
				n->u.num.is_float = true;
				n->u.num.f = (double)v;
			}
		}
	}
	if (!n->u.num.is_int && !n->u.num.is_uint) {
		double f;
		bool hexint = k > 2 && (buf[0] == '0' || buf[1] == '0') &&
			      strpbrk(buf, "xX") && !strpbrk(buf, "pP.");

		errno = 0;
		f = strtod(buf, &endp);
		if (!*endp && k && !hexint && errno != ERANGE) {
			if (!strpbrk(buf, ".eEpP"))
				perr(p, "integer overflow: \"%s\"", buf);
			n->u.num.is_float = true;
			n->u.num.f = f;
			if (f < 9.2e18 && f > -9.2e18 && f == (double)(int64_t)f) {
				n->u.num.is_int = true;
				n->u.num.i = (int64_t)f;
			}
		}
	}
	if (!n->u.num.is_int && !n->u.num.is_float)
		perr(p, "illegal number syntax: \"%.*s\"", (int)t.len, t.val);
	{
		bool hex = (buf[0] == '0' || (buf[0] && buf[1] == '0')) &&
			   strpbrk(buf, "xX") && !strpbrk(buf, "pP");

		n->u.num.ideal_float = n->u.num.is_float && !hex &&
				       strpbrk(buf, ".eEpP");
	}
}

static kd_tmpl_node *term(parser *p)
{
	item t = next_nonspace(p);
	kd_tmpl_node *n;

	switch (t.typ) {
	case I_IDENT: {
		/* the name is the function's own (static) string */
		char nb[128];
		const char *name = nb;
		const kd_tmpl_func *f;

		if (t.len < sizeof nb) {
			memcpy(nb, t.val, t.len);
			nb[t.len] = 0;
		} else {
			name = pstrn(p, t.val, t.len);
		}
		f = kd_tmpl_funcs_find(p->set->funcs, name);
		if (!f)
			perr(p, "function \"%s\" not defined", name);
		n = newnode(p, N_IDENT, t);
		n->fn = f;
		n->u.ident = f->name;
		n->slen = (int)t.len;
		return n;
	}
	case I_DOT:
		n = newnode(p, N_DOT, t);
		n->slen = 1;
		return n;
	case I_NIL:
		n = newnode(p, N_NIL, t);
		n->slen = 3;
		return n;
	case I_VAR: {
		int i;
		size_t l0 = 0;

		while (l0 < t.len && t.val[l0] != '.')
			l0++;
		for (i = p->nvars - 1; i >= 0; i--)
			if (strlen(p->vars[i]) == l0 &&
			    !memcmp(p->vars[i], t.val, l0))
				break;
		if (i < 0)
			perr(p, "undefined variable \"%.*s\"", (int)l0, t.val);
		n = newnode(p, N_VAR, t);
		split_fields(p, n, t.val, t.len, 0);
		n->slen = (int)t.len;
		return n;
	}
	case I_FIELD:
		n = newnode(p, N_FIELD, t);
		split_fields(p, n, t.val, t.len, 1);
		n->slen = (int)t.len;
		return n;
	case I_BOOL:
		n = newnode(p, N_BOOL, t);
		n->u.b = t.val[0] == 't';
		n->slen = (int)t.len;
		return n;
	case I_CHARCONST:
	case I_NUMBER:
		n = newnode(p, N_NUM, t);
		parse_number(p, n, t);
		n->slen = (int)t.len;
		return n;
	case I_LPAREN: {
		if (++p->depth > KD_LIMIT_TMPL_PARSE_DEPTH)
			perr(p, "max expression depth exceeded");
		n = pipeline(p, "parenthesized pipeline", I_RPAREN);
		p->depth--;
		return n;
	}
	case I_STRING:
	case I_RAW: {
		kd_buf b = KD_BUF_INIT(1u << 30);

		/* most literals have nothing to unquote: their inside as it is */
		if (t.len >= 2 && t.val[0] == t.val[t.len - 1] &&
		    !memchr(t.val + 1, t.typ == I_RAW ? '\r' : '\\', t.len - 2)) {
			n = newnode(p, N_STR, t);
			n->u.text.s = pstrn(p, t.val + 1, t.len - 2);
			n->u.text.n = t.len - 2;
			n->slen = (int)t.len;
			return n;
		}
		if (unquote(p, t.val, t.len, &b))
			bad_string(p, &b);
		n = newnode(p, N_STR, t);
		n->u.text.s = pstrn(p, b.ptr, b.len);
		n->u.text.n = b.len;
		n->slen = (int)t.len;
		kd_buf_free(&b);
		return n;
	}
	}
	backup(p);
	return NULL;
}

static kd_tmpl_node *operand(parser *p)
{
	kd_tmpl_node *n = term(p), *c;

	if (!n)
		return NULL;
	if (peek(p).typ == I_FIELD) {
		item t;

		c = newnode(p, N_CHAIN, peek(p));
		c->u.fld.node = n;
		while (peek(p).typ == I_FIELD) {
			t = next(p);
			split_fields(p, c, t.val, t.len, 1);
		}
		switch (n->type) {
		case N_FIELD:
		case N_VAR: {
			/* fold into one field or variable node */
			int i;
			const char **id = palloc(p, (size_t)(n->u.fld.n + c->u.fld.n) *
						 sizeof *id);
			for (i = 0; i < n->u.fld.n; i++)
				id[i] = n->u.fld.id[i];
			for (i = 0; i < c->u.fld.n; i++)
				id[n->u.fld.n + i] = c->u.fld.id[i];
			n->u.fld.id = id;
			n->u.fld.n += c->u.fld.n;
			return n;
		}
		case N_BOOL:
		case N_STR:
		case N_NUM:
		case N_NIL:
		case N_DOT: {
			kd_buf b = KD_BUF_INIT(4096);
			kd_buf q = KD_BUF_INIT(8192);
			char msg[300];

			kd_tmpl_node_string(&b, n);
			quote_go(&q, b.ptr, b.len);
			snprintf(msg, sizeof msg, "%s", q.ptr);
			kd_buf_free(&b);
			kd_buf_free(&q);
			perr(p, "unexpected . after term %s", msg);
		}
		default:
			return c;
		}
	}
	return n;
}

static kd_tmpl_node *command(parser *p)
{
	kd_tmpl_node *cmd = newnode(p, N_CMD, peek_nonspace(p));

	for (;;) {
		kd_tmpl_node *o;
		item t;

		peek_nonspace(p);
		o = operand(p);
		if (o)
			nodes_push(p, &cmd->u.cmd.args, &cmd->u.cmd.n, o);
		t = next(p);
		switch (t.typ) {
		case I_SPACE:
			continue;
		case I_RDELIM:
		case I_RPAREN:
			backup(p);
			break;
		case I_PIPE:
			break;
		default:
			unexpected(p, t, "operand");
		}
		break;
	}
	if (cmd->u.cmd.n == 0)
		perr(p, "empty command");
	return cmd;
}

static kd_tmpl_node *pipeline(parser *p, const char *ctx, int end)
{
	kd_tmpl_node *pipe = newnode(p, N_PIPE, peek_nonspace(p));
	item v;

	v = peek_nonspace(p);
	if (v.typ == I_VAR) {
		item after, nx;

		next(p);
decls:
		after = peek(p);
		nx = peek_nonspace(p);
		if (nx.typ == I_ASSIGN || nx.typ == I_DECLARE) {
			kd_tmpl_node *vn = newnode(p, N_VAR, v);

			pipe->u.pipe.assign = nx.typ == I_ASSIGN;
			next_nonspace(p);
			split_fields(p, vn, v.val, v.len, 0);
			nodes_push(p, &pipe->u.pipe.decl, &pipe->u.pipe.ndecl, vn);
			push_var(p, vn->u.fld.id[0]);
		} else if (nx.typ == I_CHAR && nx.len == 1 && nx.val[0] == ',') {
			kd_tmpl_node *vn = newnode(p, N_VAR, v);

			next_nonspace(p);
			split_fields(p, vn, v.val, v.len, 0);
			nodes_push(p, &pipe->u.pipe.decl, &pipe->u.pipe.ndecl, vn);
			push_var(p, vn->u.fld.id[0]);
			if (!strcmp(ctx, "range") && pipe->u.pipe.ndecl < 2) {
				item pk = peek_nonspace(p);

				if (pk.typ == I_VAR) {
					v = next_nonspace(p);
					goto decls;
				}
				if (pk.typ != I_RDELIM && pk.typ != I_RPAREN)
					perr(p, "range can only initialize variables");
				goto decls_done;
			}
			perr(p, "too many declarations in %s", ctx);
		} else if (after.typ == I_SPACE) {
			backup3(p, v, after);
		} else {
			backup2(p, v);
		}
	}
decls_done:
	for (;;) {
		item t = next_nonspace(p);

		if (t.typ == end) {
			int i;

			if (pipe->u.pipe.ncmds == 0)
				perr(p, "missing value for %s", ctx);
			for (i = 1; i < pipe->u.pipe.ncmds; i++) {
				kd_tmpl_node *a0 = pipe->u.pipe.cmds[i]->u.cmd.args[0];

				if (a0->type == N_BOOL || a0->type == N_DOT ||
				    a0->type == N_NIL || a0->type == N_NUM ||
				    a0->type == N_STR)
					perr(p, "non executable command in pipeline stage %d",
					     i + 1);
			}
			pipe->slen = t.pos + (int)t.len - pipe->pos;
			return pipe;
		}
		switch (t.typ) {
		case I_BOOL: case I_CHARCONST: case I_DOT: case I_FIELD:
		case I_IDENT: case I_NUMBER: case I_NIL: case I_RAW:
		case I_STRING: case I_VAR: case I_LPAREN:
			backup(p);
			nodes_push(p, &pipe->u.pipe.cmds, &pipe->u.pipe.ncmds,
				   command(p));
			break;
		default:
			unexpected(p, t, ctx);
		}
	}
}

static kd_tmpl_node *item_list(parser *p, kd_tmpl_node **stop);
static kd_tmpl_node *text_or_action(parser *p);

static void add_def(parser *p, const char *name, kd_tmpl_node *root)
{
	kd_tmpl_def *d;

	if (p->body_only)
		return;
	for (d = p->newdefs; d; d = d->next)
		if (!strcmp(d->name, name)) {
			if (root->u.list.n == 0) /* empty: keep the old */
				return;
			if (d->root->u.list.n == 0) {
				d->root = root;
				return;
			}
			perr(p, "template: multiple definition of template \"%s\"",
			     name);
		}
	d = palloc(p, sizeof *d);
	d->name = name;
	d->root = root;
	d->file = p->name;
	d->next = p->newdefs;
	p->newdefs = d;
}

static kd_tmpl_node *parse_control(parser *p, bool else_if, const char *ctx,
				   kd_tmpl_ntype type, item start)
{
	int nv = p->nvars;
	kd_tmpl_node *n = newnode(p, type, start), *stop;

	if (++p->depth > KD_LIMIT_TMPL_PARSE_DEPTH)
		perr(p, "max nesting depth exceeded");
	n->u.br.pipe = pipeline(p, ctx, I_RDELIM);
	if (type == N_RANGE)
		p->range_depth++;
	n->u.br.list = item_list(p, &stop);
	if (type == N_RANGE)
		p->range_depth--;
	if (stop->type == N_ELSE) {
		if (else_if && peek_nonspace(p).typ == I_IF) {
			item it = next_nonspace(p);
			kd_tmpl_node *l = newnode(p, N_LIST, it);

			nodes_push(p, &l->u.list.v, &l->u.list.n,
				   parse_control(p, true, "if", N_IF, it));
			n->u.br.elist = l;
		} else {
			n->u.br.elist = item_list(p, &stop);
			if (stop->type != N_END)
				perr(p, "expected end; found {{else}}");
		}
	}
	p->depth--;
	p->nvars = nv;
	return n;
}

static const char *template_name(parser *p, item t, const char *ctx)
{
	kd_buf b = KD_BUF_INIT(1u << 20);
	const char *s;

	if (t.typ != I_STRING && t.typ != I_RAW)
		unexpected(p, t, ctx);
	if (unquote(p, t.val, t.len, &b))
		bad_string(p, &b);
	s = pstrn(p, b.ptr, b.len);
	kd_buf_free(&b);
	return s;
}

static kd_tmpl_node *action(parser *p)
{
	item t = next_nonspace(p);
	kd_tmpl_node *n;

	switch (t.typ) {
	case I_BLOCK: {
		item nt = next_nonspace(p);
		const char *name = template_name(p, nt, "block clause");
		kd_tmpl_node *stop, *body;
		int nv = p->nvars, rd = p->range_depth;
		const char **saved = p->vars;
		int savedcap = p->capvars;

		n = newnode(p, N_TEMPLATE, t);
		n->u.tpl.name = name;
		n->u.tpl.pipe = pipeline(p, "block clause", I_RDELIM);
		/* the body is parsed as its own template, with only $ */
		p->vars = NULL;
		p->nvars = p->capvars = 0;
		push_var(p, "$");
		p->range_depth = 0;
		body = item_list(p, &stop);
		if (stop->type != N_END)
			perr(p, "unexpected {{else}} in block clause");
		p->vars = saved;
		p->capvars = savedcap;
		p->nvars = nv;
		p->range_depth = rd;
		add_def(p, name, body);
		return n;
	}
	case I_BREAK:
	case I_CONTINUE: {
		item r = next_nonspace(p);
		const char *w = t.typ == I_BREAK ? "break" : "continue";

		if (r.typ != I_RDELIM) {
			char ctx[32];

			snprintf(ctx, sizeof ctx, "{{%s}}", w);
			unexpected(p, r, ctx);
		}
		if (p->range_depth == 0)
			perr(p, "{{%s}} outside {{range}}", w);
		return newnode(p, t.typ == I_BREAK ? N_BREAK : N_CONTINUE, t);
	}
	case I_ELSE: {
		if (peek_nonspace(p).typ != I_IF)
			expect(p, I_RDELIM, "else");
		return newnode(p, N_ELSE, t);
	}
	case I_END:
		expect(p, I_RDELIM, "end");
		return newnode(p, N_END, t);
	case I_IF:
		return parse_control(p, true, "if", N_IF, t);
	case I_RANGE:
		return parse_control(p, false, "range", N_RANGE, t);
	case I_WITH:
		return parse_control(p, false, "with", N_WITH, t);
	case I_TEMPLATE: {
		item nt = next_nonspace(p);

		n = newnode(p, N_TEMPLATE, t);
		n->u.tpl.name = template_name(p, nt, "template clause");
		if (next_nonspace(p).typ != I_RDELIM) {
			backup(p);
			n->u.tpl.pipe = pipeline(p, "template clause", I_RDELIM);
		}
		return n;
	}
	}
	backup(p);
	n = newnode(p, N_ACTION, peek_nonspace(p));
	n->u.br.pipe = pipeline(p, "command", I_RDELIM);
	return n;
}

static kd_tmpl_node *text_or_action(parser *p)
{
	item t = next_nonspace(p);
	kd_tmpl_node *n;

	switch (t.typ) {
	case I_TEXT:
		n = newnode(p, N_TEXT, t);
		n->u.text.s = t.val;
		n->u.text.n = t.len;
		return n;
	case I_LDELIM: {
		int saved = p->action_line;

		p->action_line = t.line;
		n = action(p);
		p->action_line = saved;
		return n;
	}
	}
	unexpected(p, t, "input");
}

static kd_tmpl_node *item_list(parser *p, kd_tmpl_node **stop)
{
	kd_tmpl_node *l = newnode(p, N_LIST, peek_nonspace(p));

	while (peek_nonspace(p).typ != I_EOF) {
		kd_tmpl_node *n = text_or_action(p);

		if (n->type == N_END || n->type == N_ELSE) {
			*stop = n;
			return l;
		}
		nodes_push(p, &l->u.list.v, &l->u.list.n, n);
	}
	perr(p, "unexpected EOF");
}

static void parse_define(parser *p)
{
	item t = next_nonspace(p);
	const char *name = template_name(p, t, "define clause");
	kd_tmpl_node *body, *stop;
	int nv = p->nvars;

	expect(p, I_RDELIM, "define clause");
	p->nvars = 0;
	push_var(p, "$");
	body = item_list(p, &stop);
	if (stop->type != N_END)
		perr(p, "unexpected {{else}} in define clause");
	p->nvars = nv;
	add_def(p, name, body);
}

static void parse_file(parser *p)
{
	kd_tmpl_node *root = newnode(p, N_LIST, peek(p));

	push_var(p, "$");
	for (;;) {
		item t = peek(p);

		if (t.typ == I_EOF)
			break;
		if (t.typ == I_LDELIM) {
			item d = next(p);
			item k = next_nonspace(p);

			if (k.typ == I_DEFINE) {
				parse_define(p);
				continue;
			}
			backup2(p, d);
		}
		{
			kd_tmpl_node *n = text_or_action(p);

			if (n->type == N_END)
				perr(p, "unexpected {{end}}");
			if (n->type == N_ELSE)
				perr(p, "unexpected {{else}}");
			nodes_push(p, &root->u.list.v, &root->u.list.n, n);
		}
	}
	p->body = root;
	add_def(p, p->name, root);
}

/* Go's strconv.Unquote for "..." `...` and '...' literals. */
static int put_utf8(kd_buf *out, unsigned long r)
{
	char b[4];

	if (r > 0x10ffff || (r >= 0xd800 && r < 0xe000))
		return -1;
	if (r < 0x80) {
		b[0] = (char)r;
		return kd_buf_put(out, b, 1);
	}
	if (r < 0x800) {
		b[0] = (char)(0xc0 | (r >> 6));
		b[1] = (char)(0x80 | (r & 0x3f));
		return kd_buf_put(out, b, 2);
	}
	if (r < 0x10000) {
		b[0] = (char)(0xe0 | (r >> 12));
		b[1] = (char)(0x80 | ((r >> 6) & 0x3f));
		b[2] = (char)(0x80 | (r & 0x3f));
		return kd_buf_put(out, b, 3);
	}
	b[0] = (char)(0xf0 | (r >> 18));
	b[1] = (char)(0x80 | ((r >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((r >> 6) & 0x3f));
	b[3] = (char)(0x80 | (r & 0x3f));
	return kd_buf_put(out, b, 4);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int unquote(parser *p, const char *s, size_t n, kd_buf *out)
{
	size_t i;
	char q;

	(void)p;
	if (n < 2 || s[0] != s[n - 1])
		return -1;
	q = s[0];
	if (q == '`') {
		/* raw strings lose their carriage returns, nothing else */
		for (i = 1; i + 1 < n;) {
			const char *cr = memchr(s + i, '\r', n - 1 - i);
			size_t e = cr ? (size_t)(cr - s) : n - 1;

			kd_buf_put(out, s + i, e - i);
			i = e + (cr != NULL);
		}
		return out->failed ? -1 : 0;
	}
	for (i = 1; i + 1 < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t run = i;

		/* plain characters go out in one piece */
		while (run + 1 < n && s[run] != q && s[run] != '\n' && s[run] != '\\')
			run++;
		if (run > i) {
			kd_buf_put(out, s + i, run - i);
			i = run;
			continue;
		}
		if (c == q || c == '\n')
			return -1;
		i++;
		if (i + 1 >= n)
			return -1;
		c = (unsigned char)s[i++];
		switch (c) {
		case 'a': kd_buf_putc(out, '\a'); break;
		case 'b': kd_buf_putc(out, '\b'); break;
		case 'f': kd_buf_putc(out, '\f'); break;
		case 'n': kd_buf_putc(out, '\n'); break;
		case 'r': kd_buf_putc(out, '\r'); break;
		case 't': kd_buf_putc(out, '\t'); break;
		case 'v': kd_buf_putc(out, '\v'); break;
		case '\\': kd_buf_putc(out, '\\'); break;
		case '\'':
		case '"':
			if (c != q)
				return -1;
			kd_buf_putc(out, (char)c);
			break;
		case 'x':
		case 'u':
		case 'U': {
			int k, w = c == 'x' ? 2 : c == 'u' ? 4 : 8;
			unsigned long r = 0;

			for (k = 0; k < w; k++) {
				int h;

				if (i + 1 >= n || (h = hexval(s[i])) < 0)
					return -1;
				r = r * 16 + (unsigned long)h;
				i++;
			}
			if (c == 'x') {
				if (q == '\'' && r >= 0x80) {
					if (put_utf8(out, r))
						return -1;
				} else
					kd_buf_putc(out, (char)r);
			} else if (put_utf8(out, r)) {
				return -1;
			}
			break;
		}
		case '0': case '1': case '2': case '3':
		case '4': case '5': case '6': case '7': {
			int k, r = c - '0';

			for (k = 0; k < 2; k++) {
				if (i + 1 >= n || s[i] < '0' || s[i] > '7')
					return -1;
				r = r * 8 + (s[i++] - '0');
			}
			if (r > 255)
				return -1;
			kd_buf_putc(out, (char)r);
			break;
		}
		default:
			return -1;
		}
	}
	return out->failed ? -1 : 0;
}

/* Whether text may hold a {{define}} or a {{block}} (either adds a
 * definition that every template must see before any runs). */
static bool may_define(const char *text, size_t len)
{
	const char *s = text, *e = text + len;

	while ((s = kd_tmpl_find2(s, (size_t)(e - s), '{', '{'))) {
		s += 2;
		if (s < e && *s == '-')
			s++;
		while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
			s++;
		if ((e - s > 6 && !memcmp(s, "define", 6)) ||
		    (e - s > 5 && !memcmp(s, "block", 5)))
			return true;
	}
	return false;
}

/* A lazy set's file body, to be parsed when it is executed. */
static int defer_body(kd_tmpl *t, const char *name, const char *text,
		      size_t len, bool ref, kd_err *err)
{
	kd_tmpl_def *d = kd_arena_zalloc(&t->arena, sizeof *d);
	const char *copy = ref ? text : kd_arena_strndup(&t->arena, text, len);

	if (d)
		d->name = kd_arena_strdup(&t->arena, name);
	if (!d || !copy || !d->name || kd_tmpl_insert_def(t, d))
		return kd_err_set(err, KD_ENOMEM, "template: out of memory");
	d->file = d->name;
	d->text = copy;
	d->len = len;
	d->lazy = true;
	return 0;
}

/* A deferred body parsed for good, into the set (a definition's rules
 * need to know whether it is empty). */
static int settle(kd_tmpl *t, kd_tmpl_def *d, kd_err *err)
{
	kd_tmpl_node *root;
	int rc = kd_tmpl_parse_body(t, d, &t->arena, &root, err);

	if (!rc) {
		d->root = root;
		d->lazy = false;
	}
	return rc;
}

/* One file into the set: its nodes and definitions in a. */
static int parse_into(kd_tmpl *t, const char *name, const char *text,
		      size_t len, bool ref, kd_arena *a, kd_err *err)
{
	parser *p;
	kd_tmpl_def *d, *nx;
	const char *copy;

	if (t->lazy && a == &t->arena && !kd_tmpl_lookup(t, name) &&
	    !may_define(text, len))
		return defer_body(t, name, text, len, ref, err);
	p = calloc(1, sizeof *p);
	if (!p)
		return kd_err_set(err, KD_ENOMEM, "template: out of memory");
	copy = ref ? text : kd_arena_strndup(a, text, len);
	p->name = kd_arena_strdup(a, name);
	if (!copy || !p->name) {
		free(p);
		return kd_err_set(err, KD_ENOMEM, "template: out of memory");
	}
	p->lx.in = copy;
	p->lx.len = len;
	p->lx.line = 1;
	p->lx.a = a;
	p->a = a;
	p->set = t;
	p->err = err;
	if (setjmp(p->jb)) {
		int code = err && err->code ? err->code : KD_EPARSE;

		free(p);
		return code;
	}
	parse_file(p);
	/* a deferred body an earlier file gave a name defined here: its
	 * tree decides (and its parse error comes first, as in Helm) */
	for (d = p->newdefs; d; d = d->next) {
		kd_tmpl_def *old = kd_tmpl_lookup(t, d->name);
		int rc = old && old->lazy ? settle(t, old, err) : 0;

		if (rc) {
			free(p);
			return rc;
		}
	}
	/* a definition in a later file replaces an earlier one */
	for (d = p->newdefs; d; d = nx) {
		kd_tmpl_def *old = kd_tmpl_lookup(t, d->name);

		nx = d->next;
		if (old) {
			if (d->root->u.list.n == 0 && old->root->u.list.n != 0 &&
			    strcmp(d->name, p->name))
				continue;
			if (a != &t->arena) {
				/* the new tree goes with a: undo it then */
				kd_tmpl_undo *u = kd_arena_alloc(a, sizeof *u);

				if (!u) {
					free(p);
					return kd_err_set(err, KD_ENOMEM, "template: out of memory");
				}
				u->d = old;
				u->was = *old;
				u->next = t->undo;
				t->undo = u;
			}
			old->root = d->root;
			old->file = d->file;
			old->lazy = false;
			continue;
		}
		if (kd_tmpl_insert_def(t, d)) {
			free(p);
			return kd_err_set(err, KD_ENOMEM, "template: out of memory");
		}
	}
	free(p);
	return 0;
}

int kd_tmpl_parse(kd_tmpl *t, const char *name, const char *text, size_t len,
		  kd_err *err)
{
	return parse_into(t, name, text, len, false, &t->arena, err);
}

int kd_tmpl_parse_ref(kd_tmpl *t, const char *name, const char *text,
		      size_t len, kd_err *err)
{
	return parse_into(t, name, text, len, true, &t->arena, err);
}

int kd_tmpl_parse_in(kd_tmpl *t, const char *name, const char *text,
		     size_t len, kd_arena *a, kd_err *err)
{
	return parse_into(t, name, text, len, false, a, err);
}

int kd_tmpl_parse_body(kd_tmpl *t, const kd_tmpl_def *d, kd_arena *a,
		       kd_tmpl_node **out, kd_err *err)
{
	parser *p = calloc(1, sizeof *p);

	if (!p)
		return kd_err_set(err, KD_ENOMEM, "template: out of memory");
	p->name = d->file;
	p->lx.in = d->text;
	p->lx.len = d->len;
	p->lx.line = 1;
	p->lx.a = a;
	p->a = a;
	p->body_only = true;
	p->set = t;
	p->err = err;
	if (setjmp(p->jb)) {
		int code = err && err->code ? err->code : KD_EPARSE;

		free(p);
		return code;
	}
	parse_file(p);
	*out = p->body;
	free(p);
	return 0;
}

int kd_tmpl_check(kd_tmpl *t, const char *name, kd_err *err)
{
	kd_tmpl_def *d = kd_tmpl_lookup(t, name);
	kd_arena a = KD_ARENA_INIT(KD_LIMIT_ARENA_BYTES);
	kd_tmpl_node *root;
	int rc = 0;

	if (d && d->lazy)
		rc = kd_tmpl_parse_body(t, d, &a, &root, err);
	kd_arena_free(&a);
	return rc;
}

void kd_tmpl_set_lazy(kd_tmpl *t)
{
	t->lazy = true;
}

/* ---- node strings, as Go's Node.String() ---- */

static void quote_go(kd_buf *b, const char *s, size_t n)
{
	size_t i;

	kd_buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': kd_buf_puts(b, "\\\""); break;
		case '\\': kd_buf_puts(b, "\\\\"); break;
		case '\n': kd_buf_puts(b, "\\n"); break;
		case '\t': kd_buf_puts(b, "\\t"); break;
		case '\r': kd_buf_puts(b, "\\r"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				kd_buf_printf(b, "\\x%02x", c);
			else
				kd_buf_putc(b, (char)c);
		}
	}
	kd_buf_putc(b, '"');
}

void kd_tmpl_node_string(kd_buf *b, const kd_tmpl_node *n)
{
	int i;

	switch (n->type) {
	case N_FIELD:
		for (i = 0; i < n->u.fld.n; i++)
			kd_buf_printf(b, ".%s", n->u.fld.id[i]);
		break;
	case N_VAR:
		for (i = 0; i < n->u.fld.n; i++)
			kd_buf_printf(b, "%s%s", i ? "." : "", n->u.fld.id[i]);
		break;
	case N_CHAIN:
		if (n->u.fld.node->type == N_PIPE) {
			kd_buf_putc(b, '(');
			kd_tmpl_node_string(b, n->u.fld.node);
			kd_buf_putc(b, ')');
		} else
			kd_tmpl_node_string(b, n->u.fld.node);
		for (i = 0; i < n->u.fld.n; i++)
			kd_buf_printf(b, ".%s", n->u.fld.id[i]);
		break;
	case N_DOT: kd_buf_putc(b, '.'); break;
	case N_NIL: kd_buf_puts(b, "nil"); break;
	case N_BOOL: kd_buf_puts(b, n->u.b ? "true" : "false"); break;
	case N_NUM: kd_buf_puts(b, n->u.num.text); break;
	case N_STR: quote_go(b, n->u.text.s, n->u.text.n); break;
	case N_IDENT: kd_buf_puts(b, n->u.ident); break;
	case N_CMD:
		for (i = 0; i < n->u.cmd.n; i++) {
			const kd_tmpl_node *a = n->u.cmd.args[i];

			if (i)
				kd_buf_putc(b, ' ');
			if (a->type == N_PIPE) {
				kd_buf_putc(b, '(');
				kd_tmpl_node_string(b, a);
				kd_buf_putc(b, ')');
			} else
				kd_tmpl_node_string(b, a);
		}
		break;
	case N_PIPE:
		for (i = 0; i < n->u.pipe.ndecl; i++) {
			if (i)
				kd_buf_puts(b, ", ");
			kd_tmpl_node_string(b, n->u.pipe.decl[i]);
		}
		if (n->u.pipe.ndecl)
			kd_buf_puts(b, n->u.pipe.assign ? " = " : " := ");
		for (i = 0; i < n->u.pipe.ncmds; i++) {
			if (i)
				kd_buf_puts(b, " | ");
			kd_tmpl_node_string(b, n->u.pipe.cmds[i]);
		}
		break;
	case N_TEMPLATE:
		kd_buf_puts(b, "{{template ");
		quote_go(b, n->u.tpl.name, strlen(n->u.tpl.name));
		if (n->u.tpl.pipe) {
			kd_buf_putc(b, ' ');
			kd_tmpl_node_string(b, n->u.tpl.pipe);
		}
		kd_buf_puts(b, "}}");
		break;
	default:
		kd_buf_printf(b, "%.*s", n->slen, n->src + n->pos);
	}
}
