/* Helm's functions about charts: include, tpl, required, lookup; and the
 * function table of a chart render (builtins, Sprig, these, .Files). */
#include "chart/funcs.h"
#include "chart/files.h"
#include "sprig/sprig.h"
#include "tmpl/internal.h"

#include "base/limits.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#define FN(name) static kd_value *name(kd_tmpl_ex *x, kd_value **argv, int argc)

static bool isnil(const kd_value *v)
{
	return !v || v->type == KD_NULL;
}

FN(f_required)
{
	(void)argc;
	if (isnil(argv[1]) || (argv[1]->type == KD_STR && !argv[1]->u.str.len))
		kd_tmpl_fail(x, 0, "%s", argv[0]->u.str.ptr);
	return argv[1];
}

/* A template's output as a string; tpl's (strip) without "<no value>",
 * as Helm's tpl returns it, include's as it is. */
static kd_value *render_to_string(kd_tmpl_ex *x, const char *name,
				  kd_value *dot, bool strip)
{
	kd_buf *saved = x->out;
	kd_buf *b = kd_tmpl_tmpbuf(x);
	const char *fn = x->fn;
	const kd_tmpl_node *at = x->at;

	x->out = b;
	kd_tmpl_exec_named(x, name, isnil(dot) ? NULL : dot);
	x->out = saved;
	x->fn = fn;
	x->at = at;
	if (strip)
		kd_tmpl_strip_no_value(b, 0);
	return kd_tmpl_tmpbuf_value(x, b);
}

FN(f_include)
{
	jmp_buf jb, *saved = x->jb;
	const char *tname = x->tname, *fname = x->fname, *fn = x->fn;
	const kd_tmpl_node *at = x->at;
	kd_value *r;

	(void)argc;
	if (!kd_tmpl_lookup(x->t, argv[0]->u.str.ptr))
		kd_tmpl_fail(x, 0, "template: no template \"%s\" associated with template \"%s\"",
			     argv[0]->u.str.ptr, x->tname);
	if (x->depth >= KD_LIMIT_TMPL_CALL_DEPTH)
		kd_tmpl_fail(x, KD_ELIMIT,
			     "rendering template has a nested reference name: %s: unable to execute template",
			     argv[0]->u.str.ptr);
	x->jb = &jb;
	if (setjmp(jb)) {
		/* Go returns the included template's error to the caller,
		 * which wraps it: the message starts at the outer place */
		char inner[KD_ERR_MSG_MAX];

		x->jb = saved;
		x->tname = tname;
		x->fname = fname;
		x->fn = fn;
		x->at = at;
		snprintf(inner, sizeof inner, "%s", x->err->msg);
		kd_tmpl_fail_chain(x, x->err->code ? x->err->code : KD_EINVAL, inner);
	}
	r = render_to_string(x, argv[0]->u.str.ptr, argv[1], false);
	x->jb = saved;
	return r;
}

FN(f_tpl)
{
	static const char pfx[] = "\x01tpl:";
	kd_err perr = KD_ERR_INIT;
	kd_tmpl_mark head = kd_tmpl_mark_defs(x->t);
	size_t nlen = strlen(x->tname) + 40;
	char *nm = kd_arena_alloc(x->a, nlen);
	kd_value *r;

	(void)argc;
	if (!nm)
		kd_tmpl_errorf(x, "out of memory");
	/* a private name, so the parse cannot replace a real file */
	snprintf(nm, nlen, "%s%d:%s", pfx, x->t->seq++, x->tname);
	/* into the execution's arena: a chart may call tpl thousands of
	 * times, and the set's own arena lives until the render ends */
	if (kd_tmpl_parse_in(x->t, nm, argv[0]->u.str.ptr, argv[0]->u.str.len,
			     x->a, &perr)) {
		/* show the user's template name, not ours */
		kd_buf m = KD_BUF_INIT(4096), q = KD_BUF_INIT(1 << 16);
		const char *p = strstr(perr.msg, nm);
		char qm[256];

		if (p) {
			kd_buf_put(&m, perr.msg, (size_t)(p - perr.msg));
			kd_buf_puts(&m, x->tname);
			kd_buf_puts(&m, p + strlen(nm));
		} else {
			kd_buf_puts(&m, perr.msg);
		}
		snprintf(perr.msg, sizeof perr.msg, "%s", m.ptr);
		kd_buf_free(&m);
		kd_tmpl_quote(&q, argv[0]->u.str.ptr, argv[0]->u.str.len);
		snprintf(qm, sizeof qm, "%.200s", q.ptr);
		kd_buf_free(&q);
		kd_tmpl_fail(x, perr.code, "cannot parse template %s: %s", qm,
			     perr.msg);
	}
	kd_tmpl_lookup(x->t, nm)->file = x->tname;
	r = render_to_string(x, nm, argv[1], true);
	/* Helm's tpl works on a clone of the set: what the text defined
	 * goes away again (and lookups stay short) */
	kd_tmpl_drop_defs(x->t, head);
	return r;
}

FN(f_lookup)
{
	const kd_chart_lookup *lk = kd_tmpl_host(x);
	kd_err e = KD_ERR_INIT;
	kd_value *v = NULL;
	int rc;

	(void)argc;
	if (!lk)
		return kd_tmpl_mk_map(x, 0);
	rc = lk->fn(lk->ud, argv[0]->u.str.ptr,
			  argv[1]->u.str.ptr, argv[2]->u.str.ptr,
			  argv[3]->u.str.ptr, x->a, &v, &e);
	if (rc)
		kd_tmpl_fail(x, rc, "%s", e.msg);
	return v ? v : kd_tmpl_mk_map(x, 0);
}

static const kd_tmpl_func funcs[] = {
	{"include", f_include, "sa", false, false},
	{"tpl", f_tpl, "sm", false, false},
	{"required", f_required, "sa", false, false},
	{"lookup", f_lookup, "ssss", false, false},
	{NULL, NULL, NULL, false, false},
};

void kd_chart_set_lookup(kd_tmpl *t, const kd_chart_lookup *lk)
{
	kd_tmpl_set_host(t, (void *)lk);
}

const kd_tmpl_funcs *kd_chart_funcs(void)
{
	static kd_tmpl_funcs fs;
	static bool built;

	if (!built) {
		kd_tmpl_funcs_init(&fs);
		kd_sprig_register_all(&fs);
		kd_tmpl_funcs_add(&fs, funcs);
		kd_chart_register_files(&fs);
		built = true;
	}
	return &fs;
}
