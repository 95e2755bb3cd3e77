/* Execution of parsed templates over kd_value, after Go's text/template
 * exec.go with Helm's options (missingkey=zero). A value pointer of NULL is
 * Go's invalid reflect.Value ("no value"); KD_NULL is a nil interface{}.
 * Errors unwind with longjmp to kd_tmpl_exec(); everything a render
 * creates lives in its arena. */
/* memmem is a GNU extension (see parse.c) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tmpl/internal.h"

#include "base/limits.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

kd_value kd_tmpl_nil = {KD_NULL, {0}};

enum { WALK_OK, WALK_BREAK, WALK_CONTINUE };

static void node_pos(const kd_tmpl_node *n, int *line, int *col)
{
	int i, c = 0;

	*line = n->line;
	for (i = n->pos; i > 0 && n->src[i - 1] != '\n'; i--)
		c++;
	*col = c;
}

static void raise_msg(kd_tmpl_ex *x, int code, const char *msg)
	__attribute__((noreturn));
static void raise_msg(kd_tmpl_ex *x, int code, const char *msg)
{
	kd_buf ctx = KD_BUF_INIT(512);
	kd_mem_bound *mb = kd_mem_bound_current();

	/* whatever failed once the render's memory bound refused an
	 * allocation ("out of memory", a buffer "too large", a function that
	 * gave up) failed for that bound: name it */
	if (mb && mb->hit) {
		code = KD_ELIMIT;
		msg = kd_tmpl_mem_msg();
	}
	if (x->at) {
		int line, col;

		node_pos(x->at, &line, &col);
		kd_tmpl_node_string(&ctx, x->at);
		if (ctx.len > 200) { /* keep messages short */
			ctx.len = 200;
			ctx.ptr[200] = 0;
		}
		kd_err_set(x->err, code,
			   "template: %s:%d:%d: executing \"%s\" at <%s>: %s",
			   x->fname ? x->fname : x->tname, line, col, x->tname, ctx.ptr, msg);
	} else {
		kd_err_set(x->err, code, "template: %s: %s", x->tname, msg);
	}
	kd_buf_free(&ctx);
	longjmp(*x->jb, 1);
}

void kd_tmpl_errorf(kd_tmpl_ex *x, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	raise_msg(x, KD_EINVAL, buf);
}

void kd_tmpl_fail(kd_tmpl_ex *x, int code, const char *fmt, ...)
{
	char buf[768], m[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	snprintf(m, sizeof m, "error calling %s: %s", x->fn ? x->fn : "?",
		 buf);
	raise_msg(x, code ? code : KD_EINVAL, m);
}

void kd_tmpl_fail_chain(kd_tmpl_ex *x, int code, const char *inner)
{
	kd_buf ctx = KD_BUF_INIT(512);
	char pre[KD_ERR_MSG_MAX];
	size_t pl, il = strlen(inner);
	int line = 0, col = 0;

	if (x->at) {
		node_pos(x->at, &line, &col);
		kd_tmpl_node_string(&ctx, x->at);
	}
	snprintf(pre, sizeof pre, "template: %s:%d:%d: executing \"%s\" at <%.200s>: error calling %s: ",
		 x->fname ? x->fname : x->tname, line, col, x->tname,
		 ctx.len ? ctx.ptr : "", x->fn ? x->fn : "?");
	kd_buf_free(&ctx);
	pl = strlen(pre);
	/* the outermost place and the innermost message are what a reader
	 * (and Helm's error rewriting) needs: a long chain loses its middle */
	if (pl + il >= KD_ERR_MSG_MAX && pl + 4 < KD_ERR_MSG_MAX)
		kd_err_set(x->err, code, "%s...%s", pre, inner + il - (KD_ERR_MSG_MAX - pl - 4));
	else
		kd_err_set(x->err, code, "%s%s", pre, inner);
	longjmp(*x->jb, 1);
}

const char *kd_tmpl_mem_msg(void)
{
	static _Thread_local char m[128];

	snprintf(m, sizeof m, "render memory limit: more than %u MiB held at once (KD_LIMIT_RENDER_BYTES)",
		 (unsigned)(KD_LIMIT_RENDER_BYTES >> 20));
	return m;
}

kd_value *kd_tmpl_str(kd_tmpl_ex *x, const char *s, size_t n)
{
	kd_value *v = kd_value_str(x->a, s, n);

	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	return v;
}

/* A buffer that failed for want of memory says so; one past its limit
 * says that instead, where the caller raises. */
static void raise_if_oom(kd_tmpl_ex *x, int failed)
{
	if (failed == KD_ENOMEM)
		kd_tmpl_errorf(x, "out of memory");
}

kd_value *kd_tmpl_buf_value(kd_tmpl_ex *x, kd_buf *b)
{
	kd_value *v;

	if (b->failed) {
		int failed = b->failed;

		kd_buf_free(b);
		raise_if_oom(x, failed);
		kd_tmpl_errorf(x, "output too large");
	}
	v = kd_value_str(x->a, b->ptr, b->len);
	kd_buf_free(b);
	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	return v;
}


kd_value *kd_tmpl_complex(kd_tmpl_ex *x, double re, double im)
{
	kd_value *m = kd_value_map(x->a, 2);

	if (!m || kd_map_setz(x->a, m, "re", kd_value_float(x->a, re)) ||
	    kd_map_setz(x->a, m, "im", kd_value_float(x->a, im)))
		kd_tmpl_errorf(x, "out of memory");
	m->u.map.ents[0].key = kd_tmpl_complex_key;
	return m;
}


bool kd_tmpl_truth(const kd_value *v)
{
	if (!v)
		return false;
	if (kd_tmpl_is_complex(v))
		return v->u.map.ents[0].val->u.f != 0 || v->u.map.ents[1].val->u.f != 0;
	switch (v->type) {
	case KD_NULL: return false;
	case KD_BOOL: return v->u.b;
	case KD_INT: return v->u.i != 0;
	case KD_FLOAT: return v->u.f != 0;
	case KD_STR: return v->u.str.len > 0;
	case KD_LIST: return v->u.list.len > 0;
	case KD_MAP: return v->u.map.len > 0;
	}
	return false;
}

static const char *quoted(kd_tmpl_ex *x, const char *s)
{
	kd_buf b = KD_BUF_INIT(4096);
	char *r;

	kd_tmpl_quote(&b, s, strlen(s));
	r = kd_arena_strdup(x->a, b.ptr);
	kd_buf_free(&b);
	return r ? r : "\"?\"";
}

/* ---- variables ---- */

static int mark(kd_tmpl_ex *x)
{
	return x->nvars;
}

static void push(kd_tmpl_ex *x, const char *name, kd_value *v)
{
	if (x->nvars == x->capvars) {
		int cap = x->capvars ? x->capvars * 2 : 16;
		kd_tmpl_var *nv = kd_arena_alloc(x->a, (size_t)cap * sizeof *nv);

		if (!nv)
			kd_tmpl_errorf(x, "out of memory");
		if (x->nvars)
			memcpy(nv, x->vars, (size_t)x->nvars * sizeof *nv);
		x->vars = nv;
		x->capvars = cap;
	}
	x->vars[x->nvars].name = name;
	x->vars[x->nvars].v = v;
	x->nvars++;
}

static void set_var(kd_tmpl_ex *x, const char *name, kd_value *v)
{
	int i;

	for (i = x->nvars - 1; i >= 0; i--)
		if (!strcmp(x->vars[i].name, name)) {
			x->vars[i].v = v;
			return;
		}
	kd_tmpl_errorf(x, "undefined variable: %s", name);
}

static kd_value *var_value(kd_tmpl_ex *x, const char *name)
{
	int i;

	for (i = x->nvars - 1; i >= 0; i--)
		if (!strcmp(x->vars[i].name, name))
			return x->vars[i].v;
	kd_tmpl_errorf(x, "undefined variable: %s", name);
}

/* ---- evaluation ---- */

static kd_value *eval_pipeline(kd_tmpl_ex *x, kd_value *dot,
			       const kd_tmpl_node *pipe);
static kd_value *eval_arg(kd_tmpl_ex *x, kd_value *dot, char typ,
			  const kd_tmpl_node *n);

static kd_value *validate(kd_tmpl_ex *x, kd_value *v, char t);

#define MISSING ((kd_value *)&missing_val)
static const int missing_val = 0;

static void not_a_function(kd_tmpl_ex *x, kd_tmpl_node *const *args,
			   int nargs, kd_value *final)
{
	if (nargs > 1 || final != MISSING) {
		kd_buf b = KD_BUF_INIT(4096);
		char msg[600];

		kd_tmpl_node_string(&b, args[0]);
		snprintf(msg, sizeof msg, "can't give argument to non-function %s",
			 b.ptr);
		kd_buf_free(&b);
		raise_msg(x, KD_EINVAL, msg);
	}
}

static kd_value *eval_field(kd_tmpl_ex *x, kd_value *dot, const char *name,
			    const kd_tmpl_node *node,
			    kd_tmpl_node *const *args, int nargs,
			    kd_value *final, kd_value *recv, bool iface)
{
	bool has_args = nargs > 1 || final != MISSING;
	bool handled = false;
	kd_value *r;

	if (!recv)
		return NULL;
	if (x->t->funcs->nmethods) {
		kd_tmpl_margs m = {dot, node, args, nargs, final};
		int kind = recv->type == KD_MAP ? kd_tmpl_obj_kind(x, recv) : 0;
		int i;

		for (i = 0; i < x->t->funcs->nmethods; i++) {
			r = x->t->funcs->methods[i](x, recv, kind, name, &m,
						    &handled);
			if (handled)
				return r;
		}
	}
	if (recv->type == KD_NULL)
		kd_tmpl_errorf(x, "nil pointer evaluating interface {}.%s", name);
	if (recv->type == KD_MAP) {
		if (has_args)
			kd_tmpl_errorf(x, "%s is not a method but has arguments",
				       name);
		r = kd_map_get(recv, name, strlen(name));
		if (!r && kd_tmpl_obj_kind(x, recv) == KD_TMPL_OBJ_STRUCT)
			kd_tmpl_errorf(x, "can't evaluate field %s in type %s",
				       name, iface ? "interface {}" : "struct");
		return r ? r : &kd_tmpl_nil;
	}
	kd_tmpl_errorf(x, "can't evaluate field %s in type %s", name,
		       iface ? "interface {}" : kd_tmpl_type_name(recv));
}

static kd_value *eval_chain(kd_tmpl_ex *x, kd_value *dot, kd_value *recv,
			    bool iface, const kd_tmpl_node *node,
			    const char *const *id, int n,
			    kd_tmpl_node *const *args, int nargs,
			    kd_value *final)
{
	int i;

	for (i = 0; i < n - 1; i++) {
		recv = eval_field(x, dot, id[i], node, NULL, 0, MISSING, recv,
				  iface);
		iface = true;
	}
	return eval_field(x, dot, id[n - 1], node, args, nargs, final, recv,
			  iface);
}

/* Is the value of operand n statically an interface{} in Go? */
static bool node_iface(kd_tmpl_ex *x, const kd_tmpl_node *n)
{
	switch (n->type) {
	case N_FIELD: case N_CHAIN: return true;
	case N_VAR: return n->u.fld.n > 1;
	case N_DOT: return x->dot_iface;
	default: return false;
	}
}

static kd_value *ideal_constant(kd_tmpl_ex *x, const kd_tmpl_node *n)
{
	kd_value *v;

	if (n->u.num.is_complex) {
		double re = 0, im = 0;

		kd_tmpl_complex_parse(n->u.num.text, &re, &im);
		return kd_tmpl_complex(x, re, im);
	}
	if (n->u.num.ideal_float)
		v = kd_value_float(x->a, n->u.num.f);
	else if (n->u.num.is_uint)
		kd_tmpl_errorf(x, "%s overflows int", n->u.num.text);
	else if (n->u.num.is_int)
		v = kd_value_int(x->a, n->u.num.i);
	else
		kd_tmpl_errorf(x, "%s overflows int", n->u.num.text);
	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	return v;
}

static kd_value *literal(kd_tmpl_ex *x, const kd_tmpl_node *n)
{
	kd_value *v = NULL;

	switch (n->type) {
	case N_BOOL: v = kd_value_bool(x->a, n->u.b); break;
	case N_STR: v = kd_value_str_ref(x->a, n->u.text.s, n->u.text.n); break;
	case N_NUM: return ideal_constant(x, n);
	default: return NULL;
	}
	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	return v;
}

static kd_value *eval_call(kd_tmpl_ex *x, kd_value *dot,
			   const kd_tmpl_func *f, const kd_tmpl_node *node,
			   kd_tmpl_node *const *args, int nargs,
			   kd_value *final)
{
	int np = (int)strlen(f->params), i, numin, argc;
	kd_value *sargv[16], **argv = sargv, *r;
	const char *saved_fn;

	args++, nargs--; /* skip the function name */
	numin = nargs + (final != MISSING);
	if (f->variadic) {
		if (numin < np - 1)
			kd_tmpl_errorf(x, "wrong number of args for %s: want at least %d got %d",
				       f->name, np - 1, nargs);
	} else if (numin != np) {
		kd_tmpl_errorf(x, "wrong number of args for %s: want %d got %d",
			       f->name, np, numin);
	}
	if (numin > 16) {
		argv = kd_arena_alloc(x->a, (size_t)numin * sizeof *argv);
		if (!argv)
			kd_tmpl_errorf(x, "out of memory");
	}
	if (f->builtin && (!strcmp(f->name, "and") || !strcmp(f->name, "or"))) {
		bool want = f->name[0] == 'o';
		kd_value *v = NULL;

		for (i = 0; i < nargs; i++) {
			v = eval_arg(x, dot, 'v', args[i]);
			if (kd_tmpl_truth(v) == want)
				return v;
		}
		if (final != MISSING)
			v = final;
		return v;
	}
	for (i = 0; i < nargs; i++) {
		char t = i < np ? f->params[i] : f->params[np - 1];

		argv[i] = eval_arg(x, dot, t, args[i]);
	}
	argc = nargs;
	if (final != MISSING) {
		char t = argc < np ? f->params[argc] : f->params[np - 1];
		kd_value *v = final;

		v = validate(x, v, t);
		argv[argc++] = v;
	}
	x->at = node;
	saved_fn = x->fn;
	x->fn = f->name;
	r = f->fn(x, argv, argc);
	x->fn = saved_fn;
	return r;
}

static kd_value *eval_function(kd_tmpl_ex *x, kd_value *dot,
			       const kd_tmpl_node *node,
			       const kd_tmpl_node *cmd,
			       kd_tmpl_node *const *args, int nargs,
			       kd_value *final)
{
	const kd_tmpl_func *f = node->fn ? node->fn
				      : kd_tmpl_funcs_find(x->t->funcs, node->u.ident);

	x->at = node;
	if (!f)
		kd_tmpl_errorf(x, "\"%s\" is not a defined function",
			       node->u.ident);
	return eval_call(x, dot, f, cmd, args, nargs, final);
}

static kd_value *eval_command(kd_tmpl_ex *x, kd_value *dot,
			      const kd_tmpl_node *cmd, kd_value *final)
{
	kd_tmpl_node *const *args = cmd->u.cmd.args;
	int n = cmd->u.cmd.n;
	const kd_tmpl_node *w = args[0];

	x->at = w;
	switch (w->type) {
	case N_FIELD:
		return eval_chain(x, dot, dot, x->dot_iface, w, w->u.fld.id,
				  w->u.fld.n, args, n, final);
	case N_CHAIN: {
		kd_value *r;

		if (w->u.fld.node->type == N_NIL)
			kd_tmpl_errorf(x, "indirection through explicit nil in %s",
				       "chain");
		r = eval_arg(x, dot, 'v', w->u.fld.node);
		x->at = w;
		return eval_chain(x, dot, r, node_iface(x, w->u.fld.node), w,
				  w->u.fld.id, w->u.fld.n, args, n, final);
	}
	case N_IDENT:
		return eval_function(x, dot, w, cmd, args, n, final);
	case N_PIPE:
		not_a_function(x, args, n, final);
		return eval_pipeline(x, dot, w);
	case N_VAR: {
		kd_value *v = var_value(x, w->u.fld.id[0]);

		if (w->u.fld.n == 1) {
			not_a_function(x, args, n, final);
			return v;
		}
		return eval_chain(x, dot, v, false, w, w->u.fld.id + 1,
				  w->u.fld.n - 1, args, n, final);
	}
	default:
		break;
	}
	not_a_function(x, args, n, final);
	switch (w->type) {
	case N_BOOL:
	case N_STR:
	case N_NUM:
		return literal(x, w);
	case N_DOT:
		return dot;
	case N_NIL:
		kd_tmpl_errorf(x, "nil is not a command");
	default:
		kd_tmpl_errorf(x, "can't evaluate command");
	}
}

static const char *type_word(char t)
{
	switch (t) {
	case 's': return "string";
	case 'i': return "int";
	case 'f': return "float64";
	case 'b': return "bool";
	case 'l': return "[]interface {}";
	case 'm': return "map[string]interface {}";
	case 'v': return "reflect.Value";
	}
	return "interface {}";
}

static kd_value *validate(kd_tmpl_ex *x, kd_value *v, char t)
{
	bool ok;

	if (!v) {
		if (t == 'v')
			return NULL;
		if (t == 'a' || t == 'l' || t == 'm')
			return &kd_tmpl_nil;
		kd_tmpl_errorf(x, "invalid value; expected %s", type_word(t));
	}
	switch (t) {
	case 's': ok = v->type == KD_STR; break;
	case 'i': ok = v->type == KD_INT; break;
	case 'f': ok = v->type == KD_FLOAT; break;
	case 'b': ok = v->type == KD_BOOL; break;
	case 'l': ok = v->type == KD_LIST; break;
	case 'm': ok = v->type == KD_MAP; break;
	default: ok = true;
	}
	if (!ok)
		kd_tmpl_errorf(x, "wrong type for value; expected %s; got %s",
			       type_word(t),
			       v->type == KD_NULL ? "interface {}"
						  : kd_tmpl_type_name(v));
	return v;
}

/* The node's text for an error message (built only when one is raised:
 * literal arguments are evaluated often). */
static const char *node_text(const kd_tmpl_node *n, kd_buf *b, char *ns,
			     size_t size)
{
	kd_tmpl_node_string(b, n);
	snprintf(ns, size, "%s", b->ptr);
	kd_buf_free(b);
	return ns;
}

static kd_value *eval_arg(kd_tmpl_ex *x, kd_value *dot, char t,
			  const kd_tmpl_node *n)
{
	kd_buf b = KD_BUF_INIT(4096);
	char ns[512];

	x->at = n;
	switch (n->type) {
	case N_DOT:
		return validate(x, dot, t);
	case N_NIL:
		if (t == 'v')
			return NULL;
		if (t == 'a')
			return &kd_tmpl_nil;
		if (t == 'l' || t == 'm')
			return &kd_tmpl_nil;
		kd_tmpl_errorf(x, "cannot assign nil to %s", type_word(t));
	case N_FIELD:
		return validate(x, eval_chain(x, dot, dot, x->dot_iface, n,
					      n->u.fld.id, n->u.fld.n,
					      (kd_tmpl_node *const *)&n, 1,
					      MISSING), t);
	case N_VAR: {
		kd_tmpl_node *const *one = (kd_tmpl_node *const *)&n;
		kd_value *v = var_value(x, n->u.fld.id[0]);

		if (n->u.fld.n > 1)
			v = eval_chain(x, dot, v, false, n, n->u.fld.id + 1,
				       n->u.fld.n - 1, one, 1, MISSING);
		return validate(x, v, t);
	}
	case N_PIPE:
		return validate(x, eval_pipeline(x, dot, n), t);
	case N_IDENT:
		return validate(x, eval_function(x, dot, n, n,
						 (kd_tmpl_node *const *)&n, 1,
						 MISSING), t);
	case N_CHAIN: {
		kd_value *r;

		if (n->u.fld.node->type == N_NIL)
			kd_tmpl_errorf(x, "indirection through explicit nil in chain");
		r = eval_arg(x, dot, 'v', n->u.fld.node);
		x->at = n;
		return validate(x, eval_chain(x, dot, r,
					      node_iface(x, n->u.fld.node), n,
					      n->u.fld.id, n->u.fld.n,
					      (kd_tmpl_node *const *)&n, 1,
					      MISSING), t);
	}
	default:
		break;
	}
	switch (t) {
	case 'a':
	case 'v':
		return literal(x, n);
	case 'b':
		if (n->type == N_BOOL)
			return literal(x, n);
		kd_tmpl_errorf(x, "expected bool; found %s", node_text(n, &b, ns, sizeof ns));
	case 's':
		if (n->type == N_STR)
			return literal(x, n);
		kd_tmpl_errorf(x, "expected string; found %s", node_text(n, &b, ns, sizeof ns));
	case 'i':
		if (n->type == N_NUM && n->u.num.is_int) {
			kd_value *v = kd_value_int(x->a, n->u.num.i);

			if (!v)
				kd_tmpl_errorf(x, "out of memory");
			return v;
		}
		kd_tmpl_errorf(x, "expected integer; found %s", node_text(n, &b, ns, sizeof ns));
	case 'f':
		if (n->type == N_NUM && n->u.num.is_float) {
			kd_value *v = kd_value_float(x->a, n->u.num.f);

			if (!v)
				kd_tmpl_errorf(x, "out of memory");
			return v;
		}
		kd_tmpl_errorf(x, "expected float; found %s", node_text(n, &b, ns, sizeof ns));
	}
	kd_tmpl_errorf(x, "can't handle %s for arg of type %s",
		       node_text(n, &b, ns, sizeof ns), type_word(t));
}

static kd_value *eval_pipeline(kd_tmpl_ex *x, kd_value *dot,
			       const kd_tmpl_node *pipe)
{
	kd_value *v = MISSING;
	int i;

	if (!pipe)
		return NULL;
	x->at = pipe;
	for (i = 0; i < pipe->u.pipe.ncmds; i++) {
		v = eval_command(x, dot, pipe->u.pipe.cmds[i], v);
		if (v && v != MISSING && v->type == KD_NULL)
			v = NULL;
	}
	if (v == MISSING)
		v = NULL;
	for (i = 0; i < pipe->u.pipe.ndecl; i++) {
		const kd_tmpl_node *d = pipe->u.pipe.decl[i];

		if (pipe->u.pipe.assign)
			set_var(x, d->u.fld.id[0], v);
		else
			push(x, d->u.fld.id[0], v);
	}
	return v;
}

static void print_value(kd_tmpl_ex *x, const kd_value *v)
{
	if (!v) {
		kd_buf_puts(x->out, "<no value>");
		return;
	}
	kd_tmpl_fmt_v(x, x->out, v);
	if (x->out->failed) {
		raise_if_oom(x, x->out->failed);
		kd_tmpl_errorf(x, "output exceeds the limit of %zu bytes",
			       x->out->limit);
	}
}

static int walk(kd_tmpl_ex *x, kd_value *dot, const kd_tmpl_node *n);

static int walk_list(kd_tmpl_ex *x, kd_value *dot, const kd_tmpl_node *l)
{
	int i, r = WALK_OK;

	if (!l)
		return WALK_OK;
	/* nesting of blocks and template calls together bounds the C stack */
	if (++x->nest > KD_LIMIT_TMPL_CALL_DEPTH * 3) {
		x->at = l;
		raise_msg(x, KD_ELIMIT, "exceeded maximum nesting depth");
	}
	for (i = 0; i < l->u.list.n; i++)
		if ((r = walk(x, dot, l->u.list.v[i])) != WALK_OK)
			break;
	x->nest--;
	return r;
}

static int cmp_ent(const void *a, const void *b)
{
	const kd_map_ent *x = *(const kd_map_ent *const *)a;
	const kd_map_ent *y = *(const kd_map_ent *const *)b;

	return kd_bytes_cmp(x->key, x->klen, y->key, y->klen);
}

static int range_one(kd_tmpl_ex *x, const kd_tmpl_node *n, kd_value *idx,
		     kd_value *elem)
{
	int m = mark(x), r, nd = n->u.br.pipe->u.pipe.ndecl;

	if (++x->iters > KD_LIMIT_TMPL_RANGE_ITERATIONS) {
		x->at = n;
		raise_msg(x, KD_ELIMIT, "range iterations exceed the limit");
	}
	if (nd > 0)
		x->vars[x->nvars - 1].v = elem;
	if (nd > 1)
		x->vars[x->nvars - 2].v = idx;
	{
		bool saved = x->dot_iface;

		x->dot_iface = true;
		r = walk_list(x, elem, n->u.br.list);
		x->dot_iface = saved;
	}
	x->nvars = m;
	return r;
}

static int walk_range(kd_tmpl_ex *x, kd_value *dot, const kd_tmpl_node *n)
{
	int m = mark(x);
	kd_value *v = eval_pipeline(x, dot, n->u.br.pipe);
	int m2 = mark(x), r;
	size_t i;

	(void)m2;
	if (v && v->type == KD_LIST && v->u.list.len) {
		for (i = 0; i < v->u.list.len; i++) {
			kd_value *idx = kd_value_int(x->a, (int64_t)i);

			if (!idx)
				kd_tmpl_errorf(x, "out of memory");
			r = range_one(x, n, idx, v->u.list.items[i]);
			if (r == WALK_BREAK)
				break;
		}
		x->nvars = m;
		return WALK_OK;
	}
	if (v && v->type == KD_MAP && v->u.map.len) {
		size_t len = v->u.map.len;
		kd_map_ent **e = kd_arena_alloc(x->a, len * sizeof *e);

		if (!e)
			kd_tmpl_errorf(x, "out of memory");
		for (i = 0; i < len; i++)
			e[i] = &v->u.map.ents[i];
		qsort(e, len, sizeof *e, cmp_ent);
		for (i = 0; i < len; i++) {
			kd_value *k = kd_value_str_ref(x->a, e[i]->key,
						       e[i]->klen);

			if (!k)
				kd_tmpl_errorf(x, "out of memory");
			r = range_one(x, n, k, e[i]->val);
			if (r == WALK_BREAK)
				break;
		}
		x->nvars = m;
		return WALK_OK;
	}
	if (v && v->type != KD_LIST && v->type != KD_MAP) {
		kd_buf b = KD_BUF_INIT(1 << 16);
		char msg[600];

		kd_tmpl_fmt_v(x, &b, v);
		snprintf(msg, sizeof msg, "range can't iterate over %s", b.ptr);
		kd_buf_free(&b);
		x->at = n->u.br.pipe;
		raise_msg(x, KD_EINVAL, msg);
	}
	r = walk_list(x, dot, n->u.br.elist);
	x->nvars = m;
	return r;
}

static int walk(kd_tmpl_ex *x, kd_value *dot, const kd_tmpl_node *n)
{
	int m, r;
	kd_value *v;

	x->at = n;
	switch (n->type) {
	case N_TEXT:
		if (kd_buf_put(x->out, n->u.text.s, n->u.text.n)) {
			raise_if_oom(x, x->out->failed);
			kd_tmpl_errorf(x, "output exceeds the limit of %zu bytes",
				       x->out->limit);
		}
		return WALK_OK;
	case N_ACTION:
		v = eval_pipeline(x, dot, n->u.br.pipe);
		if (n->u.br.pipe->u.pipe.ndecl == 0)
			print_value(x, v);
		return WALK_OK;
	case N_IF:
	case N_WITH:
		m = mark(x);
		v = eval_pipeline(x, dot, n->u.br.pipe);
		if (kd_tmpl_truth(v) && n->type == N_WITH) {
			bool saved = x->dot_iface;

			x->dot_iface = false;
			r = walk_list(x, v, n->u.br.list);
			x->dot_iface = saved;
		} else if (kd_tmpl_truth(v))
			r = walk_list(x, dot, n->u.br.list);
		else
			r = walk_list(x, dot, n->u.br.elist);
		x->nvars = m;
		return r;
	case N_RANGE:
		return walk_range(x, dot, n);
	case N_BREAK:
		return WALK_BREAK;
	case N_CONTINUE:
		return WALK_CONTINUE;
	case N_LIST:
		return walk_list(x, dot, n);
	case N_TEMPLATE: {
		kd_value *d = n->u.tpl.pipe ? eval_pipeline(x, dot, n->u.tpl.pipe)
					    : NULL;

		x->at = n;
		kd_tmpl_exec_named(x, n->u.tpl.name, d);
		return WALK_OK;
	}
	default:
		kd_tmpl_errorf(x, "unknown node");
	}
}

void kd_tmpl_exec_named(kd_tmpl_ex *x, const char *name, kd_value *dot)
{
	kd_tmpl_def *d = kd_tmpl_lookup(x->t, name);
	kd_tmpl_var *sv = x->vars;
	int snv = x->nvars, scap = x->capvars;
	const char *stn = x->tname, *sfn = x->fname;
	bool sdi;

	if (!d)
		kd_tmpl_errorf(x, "template %s not defined", quoted(x, name));
	if (++x->depth > KD_LIMIT_TMPL_CALL_DEPTH)
		raise_msg(x, KD_ELIMIT, "exceeded maximum template depth (1000)");
	if (d->lazy) {
		/* a file's body called by name (a checksum of another file's
		 * output): kept from now on, as a definition is */
		kd_tmpl_node *root;
		int rc = kd_tmpl_parse_body(x->t, d, &x->t->arena, &root, x->err);

		if (rc) {
			char m[KD_ERR_MSG_MAX];

			snprintf(m, sizeof m, "%s", x->err->msg);
			raise_msg(x, rc, m);
		}
		d->root = root;
		d->lazy = false;
	}
	x->vars = NULL;
	x->nvars = x->capvars = 0;
	push(x, "$", dot);
	x->tname = d->name[0] == '\x01' ? d->file : d->name;
	x->fname = d->file;
	sdi = x->dot_iface;
	x->dot_iface = false;
	walk_list(x, dot, d->root);
	x->dot_iface = sdi;
	x->tname = stn;
	x->fname = sfn;
	x->vars = sv;
	x->nvars = snv;
	x->capvars = scap;
	x->depth--;
}

void kd_tmpl_strip_no_value(kd_buf *b, size_t from)
{
	static const char nv[] = "<no value>";
	const char *first = from < b->len ?
		memmem(b->ptr + from, b->len - from, nv, sizeof nv - 1) : NULL;
	size_t r, w;

	if (!first)
		return; /* the common case: nothing to move */
	r = w = (size_t)(first - b->ptr);
	while (r < b->len) {
		if (b->ptr[r] == '<' && b->len - r >= sizeof nv - 1 &&
		    !memcmp(b->ptr + r, nv, sizeof nv - 1)) {
			r += sizeof nv - 1;
			continue;
		}
		b->ptr[w++] = b->ptr[r++];
	}
	b->len = w;
	if (b->cap)
		b->ptr[w] = 0;
}

int kd_tmpl_exec(kd_tmpl *t, const char *name, const kd_value *dot,
		 kd_buf *out, kd_err *err)
{
	return kd_tmpl_exec_in(t, name, dot, NULL, out, err);
}

void kd_tmpl_note_write(kd_tmpl_ex *x, const kd_value *c)
{
	if (x->track_writes && !x->wrote_shared && !kd_arena_owns(x->a, c))
		x->wrote_shared = true;
}

static int exec_top(kd_tmpl *t, const char *name, const kd_value *dot,
		    kd_arena *arena, kd_buf *out, bool *shared, kd_err *err)
{
	kd_tmpl_ex x;
	jmp_buf jb;
	kd_arena own = KD_ARENA_INIT(KD_LIMIT_ARENA_BYTES);
	kd_arena *ap = arena ? arena : &own;
	size_t start = out->len;
	kd_tmpl_def *d = kd_tmpl_lookup(t, name);
	kd_tmpl_node *tree;
	int rc = 0, i, arena_failed = ap->failed;
	kd_value *root = dot && dot->type != KD_NULL ? (kd_value *)dot : NULL;
	kd_mem_bound bound;
	bool own_bound = !kd_mem_bound_current();

	if (!d)
		return kd_err_set(err, KD_ENOTFOUND,
				  "template: no template \"%s\"", name);
	/* one execution outside a chart render is bounded alone */
	if (own_bound)
		kd_mem_bound_begin(&bound, KD_LIMIT_RENDER_BYTES);
	tree = d->root;
	/* a lazy body's tree lives as long as the values made from it (its
	 * string constants are not copied) */
	if (d->lazy && (rc = kd_tmpl_parse_body(t, d, ap, &tree, err))) {
		kd_arena_free(&own);
		if (own_bound)
			kd_mem_bound_end(&bound);
		return rc;
	}
	memset(&x, 0, sizeof x);
	x.t = t;
	x.a = ap;
	x.out = out;
	x.err = err;
	x.jb = &jb;
	x.root = dot;
	x.top = dot;
	x.tname = name;
	x.fname = d->file;
	x.track_writes = shared != NULL;
	if (setjmp(jb)) {
		rc = err && err->code ? err->code : KD_EINVAL;
		for (i = 0; i < x.nalloc; i++)
			kd_buf_free(x.tmpbufs[i]);
		if (out->failed)
			kd_buf_reset(out);
		goto done;
	}
	x.root = root;
	x.values = root && root->type == KD_MAP ? kd_map_getz(root, "Values") : NULL;
	for (i = 0; i < t->funcs->nprepares; i++)
		t->funcs->prepares[i](&x, root);
	push(&x, "$", root);
	walk_list(&x, root, tree);
	/* An allocation that failed where nothing raised (a function that
	 * gave up quietly) must not pass for a complete output. */
	if (!arena_failed && ap->failed) {
		kd_mem_bound *mb = kd_mem_bound_current();

		if (mb && mb->hit)
			rc = kd_err_set(err, KD_ELIMIT, "template: %s: %s", name, kd_tmpl_mem_msg());
		else
			rc = kd_err_set(err, ap->failed, "template: %s: out of memory while rendering",
					name);
		out->len = start;
		if (out->cap)
			out->ptr[start] = '\0';
		for (i = 0; i < x.nalloc; i++)
			kd_buf_free(x.tmpbufs[i]);
		goto done;
	}
	kd_tmpl_strip_no_value(out, start);
	for (i = 0; i < x.nalloc; i++)
		kd_buf_free(x.tmpbufs[i]);
done:
	kd_arena_free(&own);
	if (own_bound) {
		if (rc && bound.hit && err && !strstr(err->msg, "KD_LIMIT_RENDER_BYTES"))
			rc = kd_err_set(err, KD_ELIMIT, "template: %s: %s", name, kd_tmpl_mem_msg());
		kd_mem_bound_end(&bound);
	}
	if (shared)
		*shared = x.wrote_shared;
	return rc;
}

int kd_tmpl_exec_in(kd_tmpl *t, const char *name, const kd_value *dot,
		    kd_arena *arena, kd_buf *out, kd_err *err)
{
	return exec_top(t, name, dot, arena, out, NULL, err);
}

int kd_tmpl_exec_local(kd_tmpl *t, const char *name, const kd_value *dot,
		       kd_arena *arena, kd_buf *out, bool *shared,
		       kd_err *err)
{
	*shared = false;
	return exec_top(t, name, dot, arena, out, shared, err);
}

/* ---- objects with methods, the host's kinds ---- */

void kd_tmpl_add_obj(kd_tmpl_ex *x, const kd_value *v, int kind)
{
	if (x->nobjs == x->capobjs) {
		int cap = x->capobjs ? x->capobjs * 2 : 16;
		struct kd_tmpl_obj *n = kd_arena_alloc(x->a, (size_t)cap * sizeof *n);

		if (!n)
			kd_tmpl_errorf(x, "out of memory");
		if (x->nobjs)
			memcpy(n, x->objs, (size_t)x->nobjs * sizeof *n);
		x->objs = n;
		x->capobjs = cap;
	}
	x->objs[x->nobjs].v = v;
	x->objs[x->nobjs].kind = kind;
	x->nobjs++;
}

void *kd_tmpl_host(kd_tmpl_ex *x)
{
	return x->t->host;
}

int kd_tmpl_margs_count(const kd_tmpl_margs *m)
{
	return m->nargs - 1 + (m->final != MISSING);
}

kd_value *kd_tmpl_margs_get(kd_tmpl_ex *x, const kd_tmpl_margs *m, int i,
			    char typ)
{
	if (i + 1 < m->nargs)
		return eval_arg(x, m->dot, typ, m->args[i + 1]);
	if (i + 1 == m->nargs && m->final != MISSING)
		return m->final;
	return NULL;
}

kd_buf *kd_tmpl_tmpbuf(kd_tmpl_ex *x)
{
	kd_buf *b;

	if (x->ntmp < x->nalloc) {
		b = x->tmpbufs[x->ntmp++];
		kd_buf_reset(b);
		return b;
	}
	if (x->nalloc == x->captmp) {
		/* include nests as deep as KD_LIMIT_TMPL_CALL_DEPTH allows */
		int cap = x->captmp ? x->captmp * 2 : 16;
		kd_buf **n = kd_arena_alloc(x->a, (size_t)cap * sizeof *n);

		if (!n)
			kd_tmpl_errorf(x, "out of memory");
		if (x->nalloc)
			memcpy(n, x->tmpbufs, (size_t)x->nalloc * sizeof *n);
		x->tmpbufs = n;
		x->captmp = cap;
	}
	b = kd_arena_alloc(x->a, sizeof *b);
	if (!b)
		kd_tmpl_errorf(x, "out of memory");
	kd_buf_init(b, KD_LIMIT_OUTPUT_BYTES);
	x->tmpbufs[x->nalloc++] = b;
	x->ntmp++;
	return b;
}

kd_value *kd_tmpl_tmpbuf_value(kd_tmpl_ex *x, kd_buf *b)
{
	kd_value *v;

	x->ntmp--;
	if (b->failed) {
		raise_if_oom(x, b->failed);
		kd_tmpl_errorf(x, "output too large");
	}
	v = kd_value_str(x->a, b->ptr, b->len);
	if (!v)
		kd_tmpl_errorf(x, "out of memory");
	kd_buf_reset(b);
	return v;
}
