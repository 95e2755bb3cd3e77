/* Rendering a chart the way `helm template` does (Helm v3.15): the pass
 * over every chart's templates with the data Helm gives them (.Chart,
 * .Capabilities, .Release, .Template), each rendered document's head read
 * with libyaml, and the result assembled. Dependencies and values are
 * deps.c's, sorting and output manifest.c's. */
#include "chart/tree.h"

#include "base/limits.h"
#include "base/mem.h"
#include "semver/semver.h"
#include "chart/funcs.h"
#include "tmpl/tmpl.h"
#include "yaml/yaml.h"


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELM_VERSION "v3.15.4"
#define HELM_COMMIT "fa9efb07d9d8debbb4306d72af76a383895aa8c4"
#define HELM_GO "go1.22.5"

/* ---- the tree and the template data ---- */

static kd_value *str_list(rctx *r, const kd_value *v)
{
	kd_value *l = kd_value_list(r->a, 4);
	size_t i;

	if (!l) {
		r->oom = 1;
		return NULL;
	}
	for (i = 0; v && v->type == KD_LIST && i < v->u.list.len; i++) {
		kd_value *it = v->u.list.items[i];

		if (it->type == KD_STR)
			kd_list_push(r->a, l, it);
	}
	return l;
}

/* chart.Metadata as the struct templates see (every field present). */
static kd_value *chart_meta(rctx *r, node *n, bool root)
{
	static const char *const strs[][2] = {
		{"Home", "home"}, {"Version", "version"},
		{"Description", "description"}, {"Icon", "icon"},
		{"APIVersion", "apiVersion"}, {"Condition", "condition"},
		{"Tags", "tags"}, {"AppVersion", "appVersion"},
		{"KubeVersion", "kubeVersion"}, {"Type", "type"},
	};
	const kd_value *m = n->c->meta, *v;
	kd_value *o = kd_value_map(r->a, 20), *l;
	size_t i;

	if (!o) {
		r->oom = 1;
		return NULL;
	}
	set(r, o, "Name", S(r, n->name));
	for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		const char *s = dstr(m, strs[i][1]);

		if (!strcmp(strs[i][1], "apiVersion"))
			s = n->c->api_version;
		else if (!strcmp(strs[i][1], "version"))
			s = n->c->version;
		set(r, o, strs[i][0], S(r, s));
	}
	set(r, o, "Sources", str_list(r, kd_map_getz(m, "sources")));
	set(r, o, "Keywords", str_list(r, kd_map_getz(m, "keywords")));
	l = kd_value_list(r->a, 2);
	v = kd_map_getz(m, "maintainers");
	for (i = 0; l && v && v->type == KD_LIST && i < v->u.list.len; i++) {
		kd_value *mt = kd_value_map(r->a, 3);
		const kd_value *src = v->u.list.items[i];

		set(r, mt, "Name", S(r, dstr(src, "name")));
		set(r, mt, "Email", S(r, dstr(src, "email")));
		set(r, mt, "URL", S(r, dstr(src, "url")));
		kd_list_push(r->a, l, mt);
	}
	set(r, o, "Maintainers", l);
	v = kd_map_getz(m, "deprecated");
	set(r, o, "Deprecated", kd_value_bool(r->a, v && v->type == KD_BOOL && v->u.b));
	l = kd_value_map(r->a, 4);
	v = kd_map_getz(m, "annotations");
	for (i = 0; l && v && v->type == KD_MAP && i < v->u.map.len; i++)
		if (v->u.map.ents[i].val->type == KD_STR)
			kd_map_set(r->a, l, v->u.map.ents[i].key, v->u.map.ents[i].klen,
				   v->u.map.ents[i].val);
	set(r, o, "Annotations", l);
	l = kd_value_list(r->a, 4);
	for (i = 0; l && n->deps && i < n->deps->u.list.len; i++) {
		kd_value *d = n->deps->u.list.items[i], *e, *dv;

		e = kd_value_map(r->a, 8);
		set(r, e, "Name", S(r, dstr(d, "name")));
		set(r, e, "Version", S(r, dstr(d, "version")));
		set(r, e, "Repository", S(r, dstr(d, "repository")));
		set(r, e, "Condition", S(r, dstr(d, "condition")));
		set(r, e, "Tags", str_list(r, kd_map_getz(d, "tags")));
		dv = kd_map_getz(d, "enabled");
		set(r, e, "Enabled", kd_value_bool(r->a, dv && dv->type == KD_BOOL && dv->u.b));
		dv = kd_map_getz(d, "import-values");
		set(r, e, "ImportValues", dv ? dv : kd_value_list(r->a, 0));
		set(r, e, "Alias", S(r, dstr(d, "alias")));
		kd_list_push(r->a, l, e);
	}
	set(r, o, "Dependencies", l);
	set(r, o, "IsRoot", kd_value_bool(r->a, root));
	return o;
}

static const char *const default_apis[] = {
	"v1",
	"admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1alpha1",
	"admissionregistration.k8s.io/v1beta1",
	"internal.apiserver.k8s.io/v1alpha1",
	"apps/v1", "apps/v1beta1", "apps/v1beta2",
	"authentication.k8s.io/v1", "authentication.k8s.io/v1alpha1",
	"authentication.k8s.io/v1beta1",
	"authorization.k8s.io/v1", "authorization.k8s.io/v1beta1",
	"autoscaling/v1", "autoscaling/v2", "autoscaling/v2beta1",
	"autoscaling/v2beta2",
	"batch/v1", "batch/v1beta1",
	"certificates.k8s.io/v1", "certificates.k8s.io/v1alpha1",
	"certificates.k8s.io/v1beta1",
	"coordination.k8s.io/v1", "coordination.k8s.io/v1beta1",
	"discovery.k8s.io/v1", "discovery.k8s.io/v1beta1",
	"events.k8s.io/v1", "events.k8s.io/v1beta1",
	"extensions/v1beta1",
	"flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta1",
	"flowcontrol.apiserver.k8s.io/v1beta2",
	"flowcontrol.apiserver.k8s.io/v1beta3",
	"networking.k8s.io/v1", "networking.k8s.io/v1alpha1",
	"networking.k8s.io/v1beta1",
	"node.k8s.io/v1", "node.k8s.io/v1alpha1", "node.k8s.io/v1beta1",
	"policy/v1", "policy/v1beta1",
	"rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1alpha1",
	"rbac.authorization.k8s.io/v1beta1",
	"resource.k8s.io/v1alpha2",
	"scheduling.k8s.io/v1", "scheduling.k8s.io/v1alpha1",
	"scheduling.k8s.io/v1beta1",
	"storage.k8s.io/v1", "storage.k8s.io/v1alpha1", "storage.k8s.io/v1beta1",
	"storagemigration.k8s.io/v1alpha1",
	"apiextensions.k8s.io/v1beta1", "apiextensions.k8s.io/v1",
};

static int capabilities(rctx *r, kd_value **out, const char **kv_out)
{
	const char *kv = r->o && r->o->kube_version ? r->o->kube_version : KD_CHART_DEFAULT_KUBE_VERSION;
	kd_semver sv;
	char canon[256], buf[300], num[32];
	kd_value *caps = kd_value_map(r->a, 3), *k, *h, *apis;
	size_t i;

	if (kd_semver_parse(&sv, kv, strlen(kv), 1, r->err)) {
		kd_err_prefix(r->err, "invalid kube version \"%s\"", kv);
		return KD_EINVAL;
	}
	kd_semver_format(&sv, canon, sizeof canon);
	snprintf(buf, sizeof buf, "v%s", canon);
	*kv_out = kd_arena_strdup(r->a, buf);
	k = kd_value_map(r->a, 4);
	set(r, k, "Version", S(r, buf));
	snprintf(num, sizeof num, "%llu", (unsigned long long)sv.major);
	set(r, k, "Major", S(r, num));
	snprintf(num, sizeof num, "%llu", (unsigned long long)sv.minor);
	set(r, k, "Minor", S(r, num));
	set(r, k, "GitVersion", S(r, buf));
	h = kd_value_map(r->a, 4);
	set(r, h, "Version", S(r, HELM_VERSION));
	set(r, h, "GitCommit", S(r, HELM_COMMIT));
	set(r, h, "GitTreeState", S(r, "clean"));
	set(r, h, "GoVersion", S(r, HELM_GO));
	apis = kd_value_list(r->a, 64);
	for (i = 0; apis && !(r->o && r->o->api_versions_only) &&
		    i < sizeof default_apis / sizeof default_apis[0]; i++)
		kd_list_push(r->a, apis, S(r, default_apis[i]));
	for (i = 0; apis && r->o && i < r->o->n_api_versions; i++)
		kd_list_push(r->a, apis, S(r, r->o->api_versions[i]));
	set(r, caps, "APIVersions", apis);
	set(r, caps, "KubeVersion", k);
	set(r, caps, "HelmVersion", h);
	if (r->oom || !*kv_out)
		return oom(r);
	*out = caps;
	return 0;
}

typedef struct tpl {
	const char *name;
	int depth; /* '/'s in the name */
	const kd_chart_file *f;
	node *n;
	const char *base;
} tpl;

typedef struct tpls {
	tpl *t;
	size_t n;
} tpls;

static int slashes(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '/';
	return n;
}

static bool is_library(const node *n)
{
	return !strcmp(n->c->type, "library");
}

static void all_tpls(rctx *r, node *n, node *parent, tpls *ts,
		     kd_value *parent_ctx, kd_value *rel, kd_value *caps,
		     kd_value *root_vals)
{
	kd_value *ctx = kd_value_map(r->a, 8), *subs = kd_value_map(r->a, 4);
	kd_value *files = kd_value_map(r->a, n->c->nfiles);
	size_t i;
	char *base;

	if (!ctx || !subs || !files) {
		r->oom = 1;
		return;
	}
	/* processing may have copied nodes: the parent is the one walked */
	n->parent = parent;
	if (n->parent) {
		size_t l = strlen(n->parent->full) + strlen(n->name) + 9;
		char *f = kd_arena_alloc(r->a, l);

		if (!f) {
			r->oom = 1;
			return;
		}
		snprintf(f, l, "%s/charts/%s", n->parent->full, n->name);
		n->full = f;
	} else {
		n->full = n->name;
	}
	for (i = 0; i < n->c->nfiles; i++) {
		const kd_chart_file *f = &n->c->files[i];

		if (kd_map_setz(r->a, files, f->name, kd_value_str_ref(r->a, f->data, f->len)))
			r->oom = 1;
	}
	n->files = files;
	set(r, ctx, "Chart", chart_meta(r, n, !n->parent));
	set(r, ctx, "Files", files);
	set(r, ctx, "Release", rel);
	set(r, ctx, "Capabilities", caps);
	if (!n->parent) {
		set(r, ctx, "Values", root_vals);
	} else {
		kd_value *pv = kd_map_getz(parent_ctx, "Values");
		kd_value *v = pv && pv->type == KD_MAP ? kd_map_getz(pv, n->name) : NULL;

		set(r, ctx, "Values", v && v->type == KD_MAP ? v : kd_value_map(r->a, 0));
	}
	set(r, ctx, "Subcharts", subs);
	n->ctx = ctx;
	for (i = 0; i < n->nsubs && !r->oom; i++) {
		all_tpls(r, n->subs[i], n, ts, ctx, rel, caps, root_vals);
		set(r, subs, n->subs[i]->name, n->subs[i]->ctx);
	}
	base = kd_arena_alloc(r->a, strlen(n->full) + 11);
	if (!base) {
		r->oom = 1;
		return;
	}
	sprintf(base, "%s/templates", n->full);
	for (i = 0; i < n->c->ntemplates; i++) {
		const kd_chart_file *f = &n->c->templates[i];
		const char *bn = strrchr(f->name, '/');
		char *nm;
		tpl *g;

		bn = bn ? bn + 1 : f->name;
		if (is_library(n) && bn[0] != '_')
			continue;
		nm = kd_arena_alloc(r->a, strlen(n->full) + strlen(f->name) + 2);
		g = kd_arena_grow(r->a, ts->t, ts->n * sizeof *g, (ts->n + 1) * sizeof *g);
		if (!nm || !g) {
			r->oom = 1;
			return;
		}
		sprintf(nm, "%s/%s", n->full, f->name);
		ts->t = g;
		g[ts->n].name = nm;
		g[ts->n].depth = slashes(nm);
		g[ts->n].f = f;
		g[ts->n].n = n;
		g[ts->n].base = base;
		ts->n++;
	}
}

/* Helm's sortTemplates: deepest paths first, then reverse name order. */
static int cmp_tpl(const void *pa, const void *pb)
{
	const tpl *a = pa, *b = pb;

	if (a->depth != b->depth)
		return b->depth - a->depth;
	return -strcmp(a->name, b->name);
}

static int cmp_name(const void *pa, const void *pb)
{
	const tpl *a = pa, *b = pb;

	return strcmp(a->name, b->name);
}

/* ---- errors as Helm words them ---- */

static void helm_error(kd_err *err, const char *fallback_file)
{
	char msg[KD_ERR_MSG_MAX];
	const char *m = err->msg, *loc, *locend, *rest;

	if (strncmp(m, "template: ", 10)) {
		snprintf(msg, sizeof msg, "%s: %.900s", fallback_file, m);
		snprintf(err->msg, sizeof err->msg, "%s", msg);
		return;
	}
	loc = m + 10;
	locend = strstr(loc, ": ");
	if (!locend)
		return;
	rest = locend + 2;
	if (err->code == KD_EPARSE) {
		const char *last = rest, *p;

		for (p = rest; (p = strstr(p, ": ")); p += 2)
			last = p + 2;
		snprintf(msg, sizeof msg, "parse error at (%.*s): %s",
			 (int)(locend - loc), loc, last);
		snprintf(err->msg, sizeof err->msg, "%s", msg);
		return;
	}
	{
		static const char *const marks[] = {"error calling required: ",
						    "error calling fail: "};
		const char *best = NULL, *p;
		size_t i;

		for (i = 0; i < 2; i++)
			for (p = m; (p = strstr(p, marks[i])); p += strlen(marks[i]))
				if (!best || p + strlen(marks[i]) > best)
					best = p + strlen(marks[i]);
		if (best && !strchr(best, '\n')) {
			snprintf(msg, sizeof msg, "execution error at (%.*s): %s",
				 (int)(locend - loc), loc, best);
			snprintf(err->msg, sizeof err->msg, "%s", msg);
		} else if (best) {
			/* Helm's pattern does not cross lines: it prints Go's
			 * error chain, markers around the message included */
			snprintf(msg, sizeof msg, "%.*sHELM[%s]HELM", (int)(best - m), m, best);
			snprintf(err->msg, sizeof err->msg, "%s", msg);
		}
	}
}

/* releaseutil's SimpleHead, read from YAML events without building
 * the document: the whole document is parsed (invalid YAML fails the
 * render, naming file and line), and only kind and
 * metadata.annotations["helm.sh/hook"] are kept. As in sigs.k8s.io/yaml,
 * scalars become strings where the head wants strings, and a mapping or a
 * sequence there is an error. */
typedef struct head {
	char *kind;
	char *hook;   /* NULL when there is no hook annotation */
} head;

static bool yaml_null(const kd_yaml_ev *e)
{
	const char *v = e->s;
	size_t n = e->n;

	if (!e->plain)
		return false;
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) ||
			   !memcmp(v, "NULL", 4)));
}

/* The head of one document, fed its events one by one. */
typedef struct hscan {
	int depth;
	int where;      /* 0, or the tracked map we are directly in: */
	int state[4];   /* 1 top, 2 metadata, 3 annotations; next is a value */
	char key[4][64]; /* the last key at each tracked level ("" if long) */
	head *h;
} hscan;

enum { IN_TOP = 1, IN_META = 2, IN_ANN = 3 };

static void hscan_start(hscan *hs, head *h)
{
	memset(hs, 0, sizeof *hs);
	memset(h, 0, sizeof *h);
	hs->h = h;
}

/* A document that is a list or a scalar other than null: Helm reads it
 * into a SimpleHead struct, and JSON's decoder names what it found. */
static int top_not_map(rctx *r, const kd_yaml_ev *e, const char *path)
{
	const char *what = "array";

	if (e->type == KD_YEV_SCALAR) {
		kd_value *v = NULL;
		kd_err ignored = KD_ERR_INIT;

		what = "string";
		if (e->plain && !kd_yaml_decode(&v, r->a, e->s, e->n, path, NULL, &ignored))
			what = v->type == KD_BOOL ? "bool" :
			       v->type == KD_INT || v->type == KD_FLOAT ? "number" : "string";
	}
	return kd_err_set(r->err, KD_EPARSE,
			  "YAML parse error on %s: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal %s into Go value of type releaseutil.SimpleHead",
			  path, what);
}

/* 0, or an error for a head field of the wrong shape. */
static int hscan_event(rctx *r, hscan *hs, const kd_yaml_ev *e,
		       const char *path)
{
	int type = e->type, w = hs->where;
	bool is_key = false;

	if (w && hs->depth == w &&
	    (type == KD_YEV_SCALAR || type == KD_YEV_MAP_START ||
	     type == KD_YEV_SEQ_START || type == KD_YEV_ALIAS)) {
		is_key = hs->state[w] == 0;
		hs->state[w] ^= 1;
	}
	if (!w && hs->depth == 0 && (type == KD_YEV_SEQ_START ||
				      (type == KD_YEV_SCALAR && !yaml_null(e))))
		return top_not_map(r, e, path);
	switch (type) {
	case KD_YEV_SCALAR: {
		const char *v = e->s;
		size_t n = e->n;

		if (is_key && w) {
			if (n < sizeof hs->key[w]) {
				memcpy(hs->key[w], v, n);
				hs->key[w][n] = 0;
			} else {
				hs->key[w][0] = 0;
			}
		} else if (w && hs->depth == w) {
			char **dst = NULL;

			if (w == IN_TOP && !strcmp(hs->key[w], "kind"))
				dst = &hs->h->kind;
			else if (w == IN_ANN && !strcmp(hs->key[w], "helm.sh/hook"))
				dst = &hs->h->hook;
			if (dst) {
				*dst = yaml_null(e) ? kd_arena_strdup(r->a, "")
					: kd_arena_strndup(r->a, v, n);
				if (!*dst)
					return oom(r);
			}
		}
		return 0;
	}
	case KD_YEV_MAP_START:
	case KD_YEV_SEQ_START: {
		bool map = type == KD_YEV_MAP_START;
		const char *k = w && hs->depth == w && !is_key ? hs->key[w] : NULL;

		if (k && ((w == IN_TOP && !strcmp(k, "kind")) || w == IN_ANN))
			return kd_err_set(r->err, KD_EPARSE,
					  "YAML parse error on %s: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal %s into Go struct field %s of type string",
					  path, map ? "object" : "array",
					  w == IN_TOP ? "SimpleHead.kind" : ".metadata.annotations");
		if (++hs->depth > KD_LIMIT_DEPTH)
			return kd_err_set(r->err, KD_ELIMIT, "YAML parse error on %s: nested too deeply",
					  path);
		if (map && hs->depth == 1 && !w)
			hs->where = IN_TOP;
		else if (map && k && w == IN_TOP && hs->depth == 2 && !strcmp(k, "metadata"))
			hs->where = IN_META;
		else if (map && k && w == IN_META && hs->depth == 3 && !strcmp(k, "annotations"))
			hs->where = IN_ANN;
		else
			return 0;
		hs->state[hs->where] = 0;
		hs->key[hs->where][0] = 0;
		return 0;
	}
	case KD_YEV_MAP_END:
	case KD_YEV_SEQ_END:
		if (w && hs->depth == w)
			hs->where--;
		hs->depth--;
		return 0;
	default:
		return 0;
	}
}

static int hscan_end(rctx *r, hscan *hs)
{
	if (!hs->h->kind && !(hs->h->kind = kd_arena_strdup(r->a, "")))
		return oom(r);
	return 0;
}

/* One document on its own, as releaseutil reads it (go-yaml reads the
 * first document only). */
static int scan_head(rctx *r, const char *path, const char *text, size_t len,
		     head *h)
{
	kd_yaml_reader *ys;
	kd_yaml_ev e;
	hscan hs;
	int rc = 0, done = 0;

	hscan_start(&hs, h);
	if (kd_yaml_reader_open(&ys, text, len, r->err))
		return oom(r);
	while (!rc && !done) {
		rc = kd_yaml_reader_next(ys, &e, r->err);
		if (rc)
			kd_err_prefix(r->err, "YAML parse error on %s: error converting YAML to JSON",
				      path);
		else if (e.type == KD_YEV_DOC_END || e.type == KD_YEV_STREAM_END)
			done = 1;
		else
			rc = hscan_event(r, &hs, &e, path);
	}
	kd_yaml_reader_close(ys);
	return rc ? rc : hscan_end(r, &hs);
}

typedef struct doc {
	const char *path;
	piece p;
	head h;
} doc;

/* Every document of the render in one libyaml stream ("---" before each):
 * one parser instead of one per document. When the stream does not come
 * apart into exactly those documents (an error, a "..." inside one), the
 * documents are read one by one, which gives Helm's exact answer and
 * message. */
static int scan_heads_events(rctx *r, doc *d, size_t n)
{
	kd_buf all = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES * 2u);
	kd_yaml_reader *ys;
	kd_yaml_ev e;
	hscan hs;
	size_t i, cur = 0;
	int rc = 0, ok = 1, in_doc = 0;

	for (i = 0; i < n; i++) {
		kd_buf_puts(&all, "---\n");
		kd_buf_put(&all, d[i].p.s, d[i].p.n);
		kd_buf_putc(&all, '\n');
	}
	if (all.failed || kd_yaml_reader_open(&ys, all.ptr, all.len, r->err)) {
		kd_buf_free(&all);
		return oom(r);
	}
	while (ok) {
		if (kd_yaml_reader_next(ys, &e, r->err)) {
			ok = 0;
			break;
		}
		if (e.type == KD_YEV_STREAM_END)
			break;
		if (e.type == KD_YEV_DOC_START) {
			if (e.implicit || cur >= n || in_doc) {
				ok = 0;
			} else {
				hscan_start(&hs, &d[cur].h);
				in_doc = 1;
			}
		} else if (e.type == KD_YEV_DOC_END) {
			if (in_doc && hscan_end(r, &hs))
				ok = 0;
			in_doc = 0;
			cur++;
		} else if (in_doc && hscan_event(r, &hs, &e, d[cur].path)) {
			ok = 0;
		}
	}
	kd_yaml_reader_close(ys);
	kd_buf_free(&all);
	if (ok && cur == n)
		return 0;
	kd_err_clear(r->err);
	for (i = 0; i < n && !rc; i++)
		rc = scan_head(r, d[i].path, d[i].p.s, d[i].p.n, &d[i].h);
	return rc;
}

/* The heads head.c is sure of, then the other documents through
 * libyaml, in their order, so the first error is the one Helm gives. */
static int scan_heads(rctx *r, doc *d, size_t n)
{
	doc *slow = kd_arena_alloc(r->a, (n + 1) * sizeof *slow);
	size_t *at = kd_arena_alloc(r->a, (n + 1) * sizeof *at);
	size_t i, ns = 0;
	int rc;

	if (!slow || !at)
		return oom(r);
	for (i = 0; i < n; i++) {
		kd_chart_qhead q;

		if (!kd_chart_quick_head(d[i].p.s, d[i].p.n, &q)) {
			slow[ns] = d[i];
			at[ns++] = i;
			continue;
		}
		d[i].h.kind = kd_arena_strndup(r->a, q.kind ? q.kind : "", q.kind_n);
		d[i].h.hook = q.hook ? kd_arena_strndup(r->a, q.hook, q.hook_n) : NULL;
		if (!d[i].h.kind || (q.hook && !d[i].h.hook))
			return oom(r);
	}
	if (!ns)
		return 0;
	rc = scan_heads_events(r, slow, ns);
	for (i = 0; i < ns && !rc; i++)
		d[at[i]].h = slow[i].h;
	return rc;
}

static int validate_schemas(rctx *r, node *n, const kd_value *vals, kd_buf *msg)
{
	size_t i;
	int rc;

	if (n->c->schema) {
		kd_buf one = KD_BUF_INIT(1 << 20);

		rc = kd_chart_schema_validate(&one, r->a, n->c->schema, n->c->schema_len,
					      vals, r->err);
		if (rc < 0) {
			kd_buf_free(&one);
			kd_err_prefix(r->err, "chart %s: values.schema.json", n->name);
			return rc;
		}
		if (rc > 0)
			kd_buf_printf(msg, "%s:\n%s", n->name, one.ptr);
		kd_buf_free(&one);
	}
	for (i = 0; i < n->nsubs; i++) {
		const kd_value *sv = kd_map_getz(vals, n->subs[i]->name);

		if (!sv || sv->type != KD_MAP)
			continue;
		rc = validate_schemas(r, n->subs[i], sv, msg);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The tree, its dependencies processed, and the values the templates see,
 * checked against every chart's schema. */
static int tree_values(rctx *r, const kd_chart *c, const kd_value *values,
		       node **root, kd_value **vals)
{
	kd_arena scratch = KD_ARENA_INIT(KD_LIMIT_ARENA_BYTES);
	kd_buf sm = KD_BUF_INIT(1 << 20);
	int rc;

	*root = kd_chart_node_new(r, c, NULL, 0);
	if (r->oom) /* the nesting limit, named, or memory */
		return r->err->code ? r->err->code : oom(r);
	if (!values && !(values = kd_value_map(r->a, 0)))
		return oom(r);
	r->scratch = &scratch;
	rc = kd_chart_dep_enabled(r, *root, (kd_value *)values, "", 0);
	if (!rc)
		rc = kd_chart_import_values(r, *root);
	kd_arena_free(&scratch);
	r->scratch = NULL;
	if (!rc)
		rc = kd_chart_coalesce_top(r, *root, values, false, vals);
	if (rc) {
		kd_err_prefix(r->err, "chart %s", c->name);
		return rc;
	}
	rc = validate_schemas(r, *root, *vals, &sm);
	if (!rc && sm.len)
		rc = kd_err_set(r->err, KD_EINVAL,
				"values don't meet the specifications of the schema(s) in the following chart(s):\n%s",
				sm.ptr);
	kd_buf_free(&sm);
	return rc;
}

/* .Release as helm template sets it (NULL when out of memory). */
static kd_value *release(rctx *r, const kd_chart_opts *opts)
{
	kd_value *rel = kd_value_map(r->a, 6);

	if (!rel)
		return NULL;
	set(r, rel, "Name", S(r, opts && opts->release ? opts->release : "release-name"));
	set(r, rel, "Namespace", S(r, opts && opts->ns ? opts->ns : "default"));
	set(r, rel, "IsUpgrade", kd_value_bool(r->a, opts && opts->is_upgrade));
	set(r, rel, "IsInstall", kd_value_bool(r->a, !(opts && opts->is_upgrade)));
	set(r, rel, "Revision", kd_value_int(r->a, 1));
	set(r, rel, "Service", S(r, "Helm"));
	return rel;
}

/* Helm parses every template before it runs any: when template i fails,
 * a parse error of a later one (deferred by the lazy set) is the error. */
static void first_parse_error(kd_tmpl *t, const tpls *ts, size_t from,
			      kd_err *err)
{
	kd_err pe = KD_ERR_INIT;
	size_t k;

	for (k = from; k < ts->n; k++)
		if (kd_tmpl_check(t, ts->t[k].name, &pe)) {
			*err = pe;
			return;
		}
}

/* Parses every template into one set, then executes each one that is not
 * a partial with its chart's data: (*outs)[i] is template i's text. Each
 * execution has an arena of its own, emptied after it unless it stored
 * into the data the next ones see (set on .Values): the peak memory of a
 * render is then its largest template's, not the sum of all. */
static int exec_templates(rctx *r, const tpls *ts, const char ***outs,
			  size_t **outlen)
{
	kd_tmpl *t = NULL;
	kd_buf buf = KD_BUF_INIT(KD_LIMIT_OUTPUT_BYTES);
	kd_arena loc = KD_ARENA_INIT(KD_LIMIT_ARENA_BYTES);
	bool shared;
	size_t i;
	int rc = kd_tmpl_new(&t, kd_chart_funcs(), r->err);

	if (!rc && r->o && r->o->lookup)
		kd_chart_set_lookup(t, r->o->lookup);
	if (!rc)
		kd_tmpl_set_lazy(t);
	for (i = 0; i < ts->n && !rc; i++) {
		rc = kd_tmpl_parse_ref(t, ts->t[i].name, ts->t[i].f->data, ts->t[i].f->len, r->err);
		if (rc)
			helm_error(r->err, ts->t[i].name);
	}
	*outs = kd_arena_zalloc(r->a, (ts->n + 1) * sizeof **outs);
	*outlen = kd_arena_zalloc(r->a, (ts->n + 1) * sizeof **outlen);
	if (!rc && (!*outs || !*outlen))
		rc = oom(r);
	for (i = 0; i < ts->n && !rc; i++) {
		const char *bn = strrchr(ts->t[i].name, '/') + 1;
		kd_value *tv;

		if (bn[0] == '_')
			continue;
		tv = kd_value_map(r->a, 2);
		set(r, tv, "Name", S(r, ts->t[i].name));
		set(r, tv, "BasePath", S(r, ts->t[i].base));
		set(r, ts->t[i].n->ctx, "Template", tv);
		if (r->oom) {
			rc = oom(r);
			break;
		}
		kd_chart_set_files(t, ts->t[i].n->files);
		kd_buf_reset(&buf);
		/* the render's limit bounds both arenas together */
		loc.limit = r->a->limit - r->a->used;
		rc = kd_tmpl_exec_local(t, ts->t[i].name, ts->t[i].n->ctx, &loc, &buf,
					&shared, r->err);
		if (rc) {
			first_parse_error(t, ts, i + 1, r->err);
			helm_error(r->err, ts->t[i].name);
			break;
		}
		(*outs)[i] = kd_arena_strndup(r->a, buf.ptr, buf.len);
		(*outlen)[i] = buf.len;
		if (!(*outs)[i])
			rc = oom(r);
		else if (shared)
			rc = kd_arena_adopt(r->a, &loc) ? oom(r) : 0;
		else
			kd_arena_reset(&loc);
	}
	kd_arena_free(&loc);
	kd_tmpl_free(t);
	kd_buf_free(&buf);
	return rc;
}

typedef struct docs {
	doc *v;
	size_t n, cap;
} docs;

static int push_doc(rctx *r, docs *d, const char *path, const piece *p)
{
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 64;
		doc *nd = kd_arena_grow(r->a, d->v, d->cap * sizeof *nd, nc * sizeof *nd);

		if (!nd || nc > KD_LIMIT_CHART_MANIFESTS)
			return nd ? kd_err_set(r->err, KD_ELIMIT, "more than %u manifests (KD_LIMIT_CHART_MANIFESTS)",
					       KD_LIMIT_CHART_MANIFESTS) : oom(r);
		d->v = nd;
		d->cap = nc;
	}
	d->v[d->n].path = path;
	d->v[d->n].p = *p;
	d->n++;
	return 0;
}

/* The documents of the rendered templates in file-name order, as
 * SortManifests walks them; the root chart's NOTES.txt goes to *notes. */
static int collect_docs(rctx *r, const node *root, tpls *ts,
			const char **outs, const size_t *outlen, docs *d,
			const char **notes)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; i < ts->n; i++)
		ts->t[i].f = (const kd_chart_file *)(uintptr_t)i;
	if (ts->n) /* a chart without templates has no array to sort */
		qsort(ts->t, ts->n, sizeof *ts->t, cmp_name);
	for (i = 0; i < ts->n && !rc; i++) {
		size_t idx = (size_t)(uintptr_t)ts->t[i].f, nl = strlen(ts->t[i].name);
		const char *txt = outs[idx], *tt = txt;
		size_t tl = outlen[idx], ttl = tl, np;
		piece *ps;

		if (!txt)
			continue;
		if (nl >= 9 && !strcmp(ts->t[i].name + nl - 9, "NOTES.txt")) {
			if (!ts->t[i].n->parent &&
			    !strcmp(ts->t[i].name + strlen(root->full), "/templates/NOTES.txt"))
				*notes = txt;
			continue;
		}
		trim(&tt, &ttl);
		if (!ttl)
			continue;
		np = kd_chart_split_docs(txt, tl, NULL, 0);
		ps = kd_arena_alloc(r->a, (np + 1) * sizeof *ps);
		if (!ps)
			return oom(r);
		kd_chart_split_docs(txt, tl, ps, np);
		for (j = 0; j < np && !rc; j++)
			rc = push_doc(r, d, ts->t[i].name, &ps[j]);
	}
	return rc;
}

/* CRDs (when asked for), the manifests in install order, then the hooks. */
static int assemble(rctx *r, node *root, const docs *d, kd_chart_result *res)
{
	mlist gen = {0}, hooks = {0}, crds = {0};
	mf *tmp;
	size_t i, k = 0;
	int rc = scan_heads(r, d->v, d->n);

	for (i = 0; i < d->n && !rc; i++)
		rc = kd_chart_classify(r, d->v[i].path, &d->v[i].p, d->v[i].h.kind,
				       d->v[i].h.hook, &gen, &hooks);
	if (rc)
		return rc;
	tmp = kd_arena_alloc(r->a, (gen.n + hooks.n + 1) * sizeof *tmp);
	if (!tmp)
		return oom(r);
	kd_chart_sort_kinds(gen.v, gen.n, tmp);
	kd_chart_sort_kinds(hooks.v, hooks.n, tmp);
	if (r->o && r->o->include_crds)
		kd_chart_add_crds(r, root, &crds);
	if (r->oom)
		return oom(r);
	res->ndocs = crds.n + gen.n + hooks.n;
	res->docs = kd_arena_alloc(r->a, (res->ndocs + 1) * sizeof *res->docs);
	if (!res->docs)
		return oom(r);
	for (i = 0; i < crds.n; i++)
		res->docs[k++] = crds.v[i].m;
	for (i = 0; i < gen.n; i++)
		res->docs[k++] = gen.v[i].m;
	for (i = 0; i < hooks.n; i++)
		res->docs[k++] = hooks.v[i].m;
	return 0;
}

int kd_chart_render(kd_chart_result *out, const kd_chart *c,
		    const kd_value *values, const kd_chart_opts *opts,
		    kd_err *err)
{
	kd_chart_result res;
	rctx r;
	node *root = NULL;
	kd_value *vals = NULL, *rel, *caps = NULL;
	const char *kv = NULL, *kr;
	tpls ts = {0};
	const char **outs = NULL;
	size_t *outlen = NULL;
	docs d = {0};
	bool rendering = false;
	kd_mem_bound bound;
	int rc;

	/* everything the render holds at once, every arena and buffer */
	kd_mem_bound_begin(&bound, KD_LIMIT_RENDER_BYTES);
	memset(&res, 0, sizeof res);
	memset(out, 0, sizeof *out);
	kd_arena_init(&res.arena, KD_LIMIT_ARENA_BYTES);
	memset(&r, 0, sizeof r);
	r.a = &res.arena;
	r.err = err;
	r.o = opts;
	if (values && values->type != KD_MAP)
		rc = kd_err_set(err, KD_EINVAL, "values must be a map");
	else if (*c->type && strcmp(c->type, "application"))
		rc = kd_err_set(err, KD_EINVAL, "%s charts are not installable", c->type);
	else
		rc = kd_chart_check_deps(c, err);
	if (!rc)
		rc = tree_values(&r, c, values, &root, &vals);
	if (!rc)
		rc = capabilities(&r, &caps, &kv);
	if (rc)
		goto cleanup;
	rendering = true;
	kr = dstr(c->meta, "kubeVersion");
	if (*kr && !kd_chart_compatible(&r, kr, kv)) {
		rc = kd_err_set(err, KD_EINVAL,
				"chart requires kubeVersion: %s which is incompatible with Kubernetes %s",
				kr, kv);
		goto cleanup;
	}
	rel = release(&r, opts);
	if (rel)
		all_tpls(&r, root, NULL, &ts, NULL, rel, caps, vals);
	if (!rel || r.oom) {
		rc = oom(&r);
		goto cleanup;
	}
	if (ts.n)
		qsort(ts.t, ts.n, sizeof *ts.t, cmp_tpl);
	rc = exec_templates(&r, &ts, &outs, &outlen);
	if (!rc)
		rc = collect_docs(&r, root, &ts, outs, outlen, &d, &res.notes);
	if (!rc)
		rc = assemble(&r, root, &d, &res);
	if (rc)
		goto cleanup;
	*out = res;
	memset(&res, 0, sizeof res);
cleanup:
	kd_arena_free(&res.arena);
	/* a template action under the refused bound already named it
	 * (raise_msg: KD_ELIMIT); any other failure it caused did not */
	if (rc && bound.hit && err->code != KD_ELIMIT)
		rc = kd_err_set(err, KD_ELIMIT, "chart %s: %s", c->name, kd_tmpl_mem_msg());
	kd_mem_bound_end(&bound);
	if (rc)
		out->render_failed = rendering;
	return rc;
}
